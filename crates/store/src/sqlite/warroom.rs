//! [`crate::WarRoomStore`] on SQLite: `../sql/warroom.rs` compiled for
//! SQLite.

use super::{SqliteStore as Store, i64_of, q};

type DbRow = sqlx::sqlite::SqliteRow;

include!("../sql/warroom.rs");
