//! Opening the store the daemon writes and the incident commands read.

use std::{path::PathBuf, sync::Arc};

use eyre::{WrapErr as _, bail};
use firebreak_primitives::IncidentId;
use firebreak_store::AnyStore;

use crate::args::DbArgs;

/// The data directory: $FIREBREAK_DATA_DIR, else $XDG_DATA_HOME/firebreak,
/// else ~/.local/share/firebreak, else the working directory.
pub(crate) fn data_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("FIREBREAK_DATA_DIR")
        .or_else(|| env("XDG_DATA_HOME").map(|d| d.join("firebreak")))
        .or_else(|| env("HOME").map(|h| h.join(".local/share/firebreak")))
        .unwrap_or_else(|| PathBuf::from("."))
}

pub(crate) fn db_path(db: &DbArgs) -> PathBuf {
    db.db.clone().unwrap_or_else(|| data_dir().join("firebreak.db"))
}

/// The store as it may be shown (a PostgreSQL URL without its password).
pub(crate) fn db_shown(db: &DbArgs) -> String {
    firebreak_store::shown(&db_path(db).to_string_lossy())
}

/// Whether the store is a PostgreSQL database.
pub(crate) fn is_postgres(db: &DbArgs) -> bool {
    firebreak_store::is_postgres_url(&db_path(db).to_string_lossy())
}

/// Whether the store exists (a PostgreSQL database is taken to).
pub(crate) fn exists(db: &DbArgs) -> bool {
    is_postgres(db) || db_path(db).exists()
}

/// Opens the store, creating it (and its directory) when `create`: a SQLite
/// file, or a PostgreSQL database when `--db` is a `postgres://` URL.
pub(crate) async fn open(db: &DbArgs, create: bool) -> eyre::Result<Arc<AnyStore>> {
    if is_postgres(db) {
        let url = db_path(db).to_string_lossy().into_owned();
        // its errors name the database (without the password) already
        return Ok(Arc::new(AnyStore::open(&url).await?));
    }
    let path = db_path(db);
    if !create && !path.exists() {
        bail!(
            "no store at `{}`: start the daemon first (`firebreak run PLAN`) or pass --db FILE",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .wrap_err_with(|| format!("cannot create the data directory `{}`", dir.display()))?;
    }
    let store = AnyStore::open(&path.to_string_lossy())
        .await
        .wrap_err_with(|| format!("cannot open the store `{}`", path.display()))?;
    Ok(Arc::new(store))
}

/// `firebreak store …`
pub(crate) fn command(cmd: crate::args::StoreCommand) -> eyre::Result<crate::Outcome> {
    use crate::args::StoreCommand;
    runtime()?.block_on(async {
        match cmd {
            StoreCommand::Migrate { db, json } => {
                let store = open(&db, true).await?;
                let version = store.schema_version().await?;
                let shown = db_shown(&db);
                if json {
                    let doc = serde_json::json!({
                        "store": shown,
                        "backend": store.backend(),
                        "schema_version": version,
                    });
                    crate::output::out(&doc.to_string());
                } else {
                    crate::output::out(&format!(
                        "store {shown} ({}): schema at version {version}",
                        store.backend()
                    ));
                }
                Ok(crate::Outcome::Ok)
            }
            StoreCommand::Backup { db, to } => {
                if to.exists() {
                    bail!("`{}` exists: a backup goes to a new file", to.display());
                }
                let store = open(&db, false).await?;
                store
                    .backup_to(&to)
                    .await
                    .wrap_err_with(|| format!("cannot back up `{}`", db_shown(&db)))?;
                let size = std::fs::metadata(&to).map(|m| m.len()).unwrap_or_default();
                crate::output::out(&format!(
                    "backed up {} to {} ({size} bytes)",
                    db_shown(&db),
                    to.display()
                ));
                Ok(crate::Outcome::Ok)
            }
        }
    })
}

pub(crate) fn incident_id(text: &str) -> eyre::Result<IncidentId> {
    text.parse().map_err(|e: String| eyre::eyre!(e))
}

pub(crate) fn runtime() -> eyre::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// RFC 3339 (UTC, seconds) of unix milliseconds.
pub(crate) fn time(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(0))
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Holds the store's daemon lock for as long as it lives: one daemon per
/// store file. Two would both deliver every message and both sign pauses.
#[derive(Debug)]
pub(crate) struct DaemonLock {
    _file: std::fs::File,
}

/// Takes the daemon lock of the store at `db` (`FILE.daemon-lock`, an
/// advisory lock the operating system drops when the process ends, even on
/// `kill -9`).
///
/// # Errors
/// When another process holds it, naming the file.
pub(crate) fn lock_for_daemon(db: &DbArgs) -> eyre::Result<Option<DaemonLock>> {
    if is_postgres(db) {
        // replicas share a PostgreSQL database: leases decide who acts
        return Ok(None);
    }
    let path = db_path(db);
    let mut lock_path = path.clone().into_os_string();
    lock_path.push(".daemon-lock");
    let lock_path = PathBuf::from(lock_path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| eyre::eyre!("cannot create the daemon lock `{}`: {e}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DaemonLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another firebreak daemon is running on the store `{}`: two would both deliver every message and both sign pauses. Stop the other one first, or give this one its own --db",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            bail!("cannot take the daemon lock `{}`: {e}", lock_path.display())
        }
    }
}
