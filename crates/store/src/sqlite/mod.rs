use std::{path::Path, str::FromStr};

use futures::future::BoxFuture;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The database's clock, unix milliseconds, in SQL.
macro_rules! now_ms {
    () => {
        "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    };
}

/// Locks the rows read until the transaction ends, where the backend can.
macro_rules! for_update {
    () => {
        ""
    };
}

/// Skips rows another transaction has locked, where the backend can.
macro_rules! skip_locked {
    () => {
        ""
    };
}

mod alerts;
mod incidents;
mod leases;
mod warroom;

use crate::alerts::{Error, Result};

/// Waits for this file's migration lock (`FILE.migrate-lock`, advisory,
/// dropped by the operating system when the holder ends) and holds it until
/// the returned file is dropped.
async fn migration_turn(path: &Path) -> std::io::Result<std::fs::File> {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".migrate-lock");
    let lock = std::path::PathBuf::from(lock);
    tokio::task::spawn_blocking(move || {
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Creates the database file, owner-only (0600), unless it exists.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Connections of one pool.
const POOL_SIZE: u32 = 4;

/// The SQLite store: one file, WAL journal, migrations applied on open.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// How to open more connections to the same file (`None` in memory,
    /// where every connection is a database of its own).
    options: Option<SqliteConnectOptions>,
    /// Moves on every queued message: wakes the courier at once.
    outbox: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// This process's writers take turns here (see [`SqliteStore::write`]).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction holding this process's write turn until it ends.
pub(super) struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl std::ops::Deref for Tx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &sqlx::SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }
}

impl Tx {
    /// Commits, then gives the turn to the next writer.
    pub(super) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

pub(super) fn q(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| Error::Query { what, source: Box::new(e) }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    ///
    /// # Errors
    /// When the file cannot be opened or migrated.
    pub async fn open(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        // the record holds unpublished incidents and session secrets: a new
        // file is readable by its owner only (SQLite gives its WAL and
        // shared-memory files the database file's permissions)
        create_private(path)
            .map_err(|e| Error::Open { path: shown.clone(), source: Box::new(e) })?;
        let open = |e: sqlx::Error| Error::Open { path: shown.clone(), source: Box::new(e) };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(&open)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(5));
        // processes opening one new file at once (the daemon and the CLI)
        // set it up and migrate it in turn, not both at once: switching a
        // new file to WAL takes an exclusive lock that SQLite's busy
        // handler does not wait for ("database is locked", seen once in a
        // dozen runs of eight racing openers)
        let turn = migration_turn(path)
            .await
            .map_err(|e| Error::Open { path: shown.clone(), source: Box::new(e) })?;
        let pool = Self::pool(options.clone()).await.map_err(&open)?;
        let mut store = Self::migrate(pool, &shown).await?;
        Self::warm(&store.pool).await.map_err(&open)?;
        drop(turn);
        store.options = Some(options);
        Ok(store)
    }

    /// Up to four connections, kept open once opened (see [`Self::warm`]).
    async fn pool(options: SqliteConnectOptions) -> std::result::Result<SqlitePool, sqlx::Error> {
        SqlitePoolOptions::new()
            .max_connections(POOL_SIZE)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
    }

    /// Opens every connection of the pool now, one after the other (several
    /// at once on a new file race for its WAL set-up), and keeps them: a
    /// process that later runs out of file descriptors (a flood of
    /// connections to the war room) still reads and writes its record.
    async fn warm(pool: &SqlitePool) -> std::result::Result<(), sqlx::Error> {
        let mut held = Vec::new();
        for _ in 0..POOL_SIZE {
            held.push(pool.acquire().await?);
        }
        Ok(())
    }

    /// Another handle on the same database with connections of its own, so
    /// that its users (the war room's queries) never hold up this handle's
    /// (the executor's) waiting for a connection. Both still take turns to
    /// write ([`SqliteStore::write`]) and share the outbox wake-ups. An
    /// in-memory store has one connection: it is shared.
    ///
    /// # Errors
    /// When the new connections cannot be opened.
    pub async fn with_own_pool(&self) -> Result<Self> {
        let Some(options) = self.options.clone() else { return Ok(self.clone()) };
        let shown = options.get_filename().display().to_string();
        let open = |e: sqlx::Error| Error::Open { path: shown.clone(), source: Box::new(e) };
        let pool = Self::pool(options).await.map_err(&open)?;
        Self::warm(&pool).await.map_err(&open)?;
        Ok(Self { pool, ..self.clone() })
    }

    /// The newest migration applied.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn schema_version(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(q("read schema version"))
    }

    /// Writes a consistent copy of the database to the new file `to`
    /// (`VACUUM INTO`): safe while a daemon writes, the copy opens as a store.
    ///
    /// # Errors
    /// When `to` exists or cannot be written.
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        let target = to.to_str().ok_or_else(|| Error::Open {
            path: to.display().to_string(),
            source: "the backup path is not UTF-8".into(),
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(q("back up"))?;
        Ok(())
    }

    /// A private in-memory database (tests, `--no-db`).
    ///
    /// # Errors
    /// When SQLite cannot start.
    pub async fn in_memory() -> Result<Self> {
        let open = |e: sqlx::Error| Error::Open { path: ":memory:".into(), source: Box::new(e) };
        let options = SqliteConnectOptions::from_str("sqlite::memory:").map_err(open)?;
        // one connection: every connection to :memory: is its own database
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| Error::Open { path: ":memory:".into(), source: Box::new(e) })?;
        Self::migrate(pool, ":memory:").await
    }

    /// A write transaction that takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so concurrent writers, in this process or another (the
    /// CLI next to the daemon), wait for each other instead of failing.
    ///
    /// Writers of this process take turns on an async lock first: SQLite's
    /// own busy handler waits by sleeping (up to 100 ms at a time), which a
    /// page or a pause would otherwise pay whenever the watcher's checkpoint
    /// or the courier's bookkeeping holds the lock for a moment.
    pub(super) async fn write(&self) -> Result<Tx> {
        let turn = self.writer.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(q("begin"))?;
        Ok(Tx { tx, _turn: turn })
    }

    async fn migrate(pool: SqlitePool, shown: &str) -> Result<Self> {
        let migrator = sqlx::migrate!("./migrations/sqlite");
        if let Err(e) = migrator.run(&pool).await {
            let known = migrator.iter().map(|m| m.version).max().unwrap_or_default();
            return Err(match e {
                sqlx::migrate::MigrateError::VersionMissing(_) => {
                    let found: i64 =
                        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                            .fetch_one(&pool)
                            .await
                            .unwrap_or(known + 1);
                    Error::NewerSchema { path: shown.to_owned(), found, known }
                }
                other => Error::Open { path: shown.to_owned(), source: Box::new(other) },
            });
        }
        Ok(Self {
            pool,
            options: None,
            outbox: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            writer: std::sync::Arc::default(),
        })
    }
}

/// A transaction on SQLite holds the database's one write lock (`BEGIN
/// IMMEDIATE`): an incident's writers already take turns.
pub(super) fn lock_incident(_tx: &mut Tx, _id: i64) -> std::future::Ready<Result<()>> {
    std::future::ready(Ok(()))
}

/// Grouping alerts into incidents is serialised by the write lock too.
pub(super) fn serialise_grouping(_tx: &mut Tx) -> std::future::Ready<Result<()>> {
    std::future::ready(Ok(()))
}

pub(super) fn i64_of(v: u64, what: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Corrupt {
        what,
        detail: format!("{v} does not fit a signed 64-bit column"),
    })
}

impl crate::Wakeups for SqliteStore {
    fn announce_drive(&self, _id: firebreak_primitives::IncidentId) -> BoxFuture<'_, Result<()>> {
        // one daemon per file: its war room wakes its executor directly
        Box::pin(std::future::ready(Ok(())))
    }

    fn drive_requests(
        &self,
    ) -> BoxFuture<
        '_,
        Result<Option<futures::stream::BoxStream<'static, firebreak_primitives::IncidentId>>>,
    > {
        Box::pin(std::future::ready(Ok(None)))
    }
}

impl crate::OwnPool for SqliteStore {
    fn own_pool(&self) -> BoxFuture<'_, Result<Self>> {
        Box::pin(self.with_own_pool())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use alloy_primitives::B256;
    use firebreak_primitives::Alert;

    use crate::alerts::{AlertStore as _, BlockCommit, Checkpoint};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::disallowed_methods)] // openers racing, as the daemon and the CLI would
    async fn openers_racing_on_a_new_file_migrate_it_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        let mut openers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let path = path.clone();
            openers.spawn(async move { SqliteStore::open(&path).await.map(|_| ()) });
        }
        while let Some(opened) = openers.join_next().await {
            opened.unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn a_database_from_a_newer_firebreak_says_which_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        let store = SqliteStore::open(&path).await.unwrap();
        // a later release added migration 9999
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', 1, x'00', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        drop(store);
        let err = SqliteStore::open(&path).await.unwrap_err().to_string();
        assert!(err.contains("has schema version 9999, written by a newer firebreak"), "{err}");
        assert!(err.contains("this binary knows up to version 9"), "{err}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_and_its_wal_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        let store = SqliteStore::open(&path).await.unwrap();
        store.commit(one_alert()).await.unwrap();
        for file in ["f.db", "f.db-wal", "f.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is {:o}", mode & 0o777);
        }
    }

    #[tokio::test]
    async fn a_second_pool_never_takes_the_first_ones_connections() {
        let dir = tempfile::tempdir().unwrap();
        let executor = SqliteStore::open(&dir.path().join("f.db")).await.unwrap();
        let war_room = executor.with_own_pool().await.unwrap();
        // every connection is open from the start and stays open
        assert_eq!((executor.pool.size(), war_room.pool.size()), (POOL_SIZE, POOL_SIZE));
        let mut busy = Vec::new();
        for _ in 0..POOL_SIZE {
            busy.push(war_room.pool.acquire().await.unwrap());
        }
        assert!(war_room.pool.try_acquire().is_none());
        assert!(
            executor.pool.try_acquire().is_some(),
            "the war room took the executor's connection"
        );
        // both see the same data
        executor.commit(one_alert()).await.unwrap();
        drop(busy);
        assert_eq!(war_room.alerts(1, 0).await.unwrap().len(), 1);
    }

    /// Block 1 with one alert.
    fn one_alert() -> BlockCommit {
        BlockCommit { checkpoint: cp(1), alerts: vec![alert(1, "k")], retracted: vec![] }
    }

    fn alert(block: u64, key: &str) -> Alert {
        Alert {
            monitor: "m".into(),
            severity: firebreak_primitives::Severity::P1,
            playbook: Some("p".into()),
            chain_id: 1,
            block_number: block,
            block_hash: B256::with_last_byte(block as u8),
            tx_hash: None,
            log_index: None,
            evidence: BTreeMap::from([("amount".to_owned(), "5".to_owned())]),
            probes: BTreeMap::new(),
            dedup_key: key.into(),
            confirmations: 0,
        }
    }

    fn cp(number: u64) -> Checkpoint {
        Checkpoint { chain_id: 1, number, hash: B256::with_last_byte(number as u8) }
    }

    #[tokio::test]
    async fn alerts_are_stored_once_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.checkpoint(1).await.unwrap(), None);
        let fresh = store
            .commit(BlockCommit {
                checkpoint: cp(10),
                alerts: vec![alert(10, "a")],
                retracted: vec![],
            })
            .await
            .unwrap();
        assert_eq!(fresh, vec![true]);
        let fresh = store
            .commit(BlockCommit {
                checkpoint: cp(11),
                alerts: vec![alert(10, "a"), alert(11, "b")],
                retracted: vec![],
            })
            .await
            .unwrap();
        assert_eq!(fresh, vec![false, true], "a known dedup key is not new");
        drop(store);
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.checkpoint(1).await.unwrap(), Some(cp(11)));
        store
            .commit(BlockCommit { checkpoint: cp(11), alerts: vec![], retracted: vec!["b".into()] })
            .await
            .unwrap();
        let all = store.alerts(1, 0).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].alert.dedup_key.as_str(), all[0].retracted), ("a", false));
        assert_eq!((all[1].alert.dedup_key.as_str(), all[1].retracted), ("b", true));
        assert_eq!(all[0].alert, alert(10, "a"), "the alert round-trips");
    }

    #[tokio::test]
    async fn in_memory_store_works() {
        let store = SqliteStore::in_memory().await.unwrap();
        store
            .commit(BlockCommit {
                checkpoint: cp(1),
                alerts: vec![alert(1, "x")],
                retracted: vec![],
            })
            .await
            .unwrap();
        assert_eq!(store.alerts(1, 1).await.unwrap().len(), 1);
        assert!(store.alerts(1, 2).await.unwrap().is_empty());
    }
}
