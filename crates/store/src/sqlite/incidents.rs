//! [`crate::IncidentStore`] on SQLite: `../sql/incidents.rs` compiled for
//! SQLite.

use super::{SqliteStore as Store, Tx, i64_of, lock_incident, q, serialise_grouping};

type Db = sqlx::Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;

/// The column that orders rows as inserted.
macro_rules! rowid {
    () => {
        "rowid"
    };
}

/// `created_at` is RFC 3339 text, compared as text.
macro_rules! since_param {
    () => {
        "$1"
    };
}

include!("../sql/incidents.rs");
