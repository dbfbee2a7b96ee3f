//! [`crate::IncidentStore`] on PostgreSQL: `../sql/incidents.rs` compiled
//! for PostgreSQL.

use super::{PgStore as Store, Tx, i64_of, lock_incident, q, serialise_grouping};

type Db = sqlx::Postgres;
type DbRow = sqlx::postgres::PgRow;

/// The column that orders rows as inserted.
macro_rules! rowid {
    () => {
        "id"
    };
}

/// `created_at` is a `TIMESTAMPTZ`; the bound value is RFC 3339 text.
macro_rules! since_param {
    () => {
        "$1::timestamptz"
    };
}

include!("../sql/incidents.rs");
