//! [`crate::LeaseStore`] and the fence check on PostgreSQL: `../sql/leases.rs`
//! compiled for this backend.

use super::{PgStore as Store, Tx, i64_of, q};

type DbRow = sqlx::postgres::PgRow;

include!("../sql/leases.rs");
