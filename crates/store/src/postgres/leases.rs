//! [`crate::LeaseStore`] and the fence check on PostgreSQL: `../sql/leases.rs`
//! compiled for this backend.

use super::{PgStore as Store, Tx, i64_of, q};

/// Whether one daemon at most uses the store: replicas share the database.
const EXCLUSIVE: bool = false;

type DbRow = sqlx::postgres::PgRow;

include!("../sql/leases.rs");
