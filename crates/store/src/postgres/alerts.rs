//! [`crate::AlertStore`] and [`crate::ReplicaStore`] on PostgreSQL:
//! `../sql/alerts.rs` compiled for this backend.

use super::{PgStore as Store, i64_of, q};

/// The column that orders rows as inserted.
macro_rules! rowid {
    () => {
        "id"
    };
}

/// `updated_at` now, as the column stores it.
macro_rules! now_ts {
    () => {
        "now()"
    };
}

include!("../sql/alerts.rs");
