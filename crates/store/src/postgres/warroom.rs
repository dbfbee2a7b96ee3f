//! [`crate::WarRoomStore`] on PostgreSQL: `../sql/warroom.rs` compiled for
//! PostgreSQL.

use super::{PgStore as Store, i64_of, q};

type DbRow = sqlx::postgres::PgRow;

include!("../sql/warroom.rs");
