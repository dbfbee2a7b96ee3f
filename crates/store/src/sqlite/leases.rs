//! [`crate::LeaseStore`] and the fence check on SQLite: `../sql/leases.rs`
//! compiled for this backend.

use super::{SqliteStore as Store, Tx, i64_of, q};

/// Whether one daemon at most uses the store: one daemon per file: `firebreak run` holds the file's daemon lock.
const EXCLUSIVE: bool = true;

type DbRow = sqlx::sqlite::SqliteRow;

include!("../sql/leases.rs");
