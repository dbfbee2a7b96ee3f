//! [`crate::LeaseStore`] and the fence check on SQLite: `../sql/leases.rs`
//! compiled for this backend.

use super::{SqliteStore as Store, Tx, i64_of, q};

type DbRow = sqlx::sqlite::SqliteRow;

include!("../sql/leases.rs");
