//! [`crate::AlertStore`] and [`crate::ReplicaStore`] on SQLite:
//! `../sql/alerts.rs` compiled for this backend.

use super::{SqliteStore as Store, i64_of, q};

/// The column that orders rows as inserted.
macro_rules! rowid {
    () => {
        "rowid"
    };
}

/// `updated_at` now, as the column stores it.
macro_rules! now_ts {
    () => {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    };
}

include!("../sql/alerts.rs");
