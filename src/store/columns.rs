//! How the domain's values are kept in columns, the same on both databases: times as Unix
//! milliseconds (UTC), names by their comparison key, lists as JSON text, counts as BIGINT,
//! and a version on the rows that may be edited concurrently.

use super::sql::{Sql, query};
use super::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Database};
use uuid::Uuid;

pub(crate) fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_ms(value: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(value).unwrap_or_default()
}

/// Key of a name for unique indexes: the domain's comparison key (NFKC, case folded).
pub(crate) fn name_key(name: &str) -> String {
    crate::domain::names::comparison_key(name)
}

/// A count read back (never negative).
pub(crate) fn count_of(value: i64) -> u64 {
    value.max(0) as u64
}

pub(crate) fn to_json<T: serde::Serialize>(column: &'static str, value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|source| StoreError::Json { column, source })
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: &str,
) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|source| StoreError::Json { column, source })
}

/// The tables whose rows carry a version.
#[derive(Clone, Copy)]
pub(crate) enum Versioned {
    Users,
    Groups,
    Consumers,
}

impl Versioned {
    fn table(self) -> &'static str {
        match self {
            Versioned::Users => "users",
            Versioned::Groups => "permission_groups",
            Versioned::Consumers => "consumers",
        }
    }
}

/// After an update matched no row: `NotFound` if the row is gone, `Stale` otherwise.
pub(crate) async fn missing_or_stale<DB: Sql>(
    conn: &mut <DB as Database>::Connection,
    table: Versioned,
    id: Uuid,
) -> StoreError {
    let counted = query::<DB>(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {} WHERE id = $1",
        table.table()
    )))
    .bind(id)
    .scalar::<i64>(conn)
    .await;
    match counted {
        Ok(0) => StoreError::NotFound,
        Ok(_) => StoreError::Stale,
        Err(e) => e,
    }
}
