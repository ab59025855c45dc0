//! The re-keying of names on SQLite when the comparison key changes (PostgreSQL databases
//! were made with the current key).

use super::super::columns::name_key;
use crate::store::sql::Dialect;
use crate::store::{StoreError, StoreResult};
use sqlx::{AssertSqlSafe, Sqlite, SqlitePool};

/// Recomputes the unique keys of usernames, group and consumer names with the domain's
/// comparison key, so rows written before it changed compare like new ones. A row whose
/// new key collides with another's keeps its old key (and a warning says so): both names
/// stay, and a rename can separate them.
///
/// It runs once per version of the key (`PRAGMA user_version` remembers which), not at every
/// start: with a million consumers, recomputing every key would delay each start.
pub(super) async fn rekey_names(writer: &SqlitePool) -> StoreResult<()> {
    /// Bump when `domain::names::comparison_key` changes.
    const NAME_KEY_VERSION: i64 = 1;
    let done: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(writer)
        .await
        .map_err(Sqlite::error)?;
    if done >= NAME_KEY_VERSION {
        return Ok(());
    }
    for (table, column, key) in [
        ("users", "username", "username_key"),
        ("permission_groups", "name", "name_key"),
        ("consumers", "name", "name_key"),
    ] {
        let rows: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, {column}, {key} FROM {table}"
        )))
        .fetch_all(writer)
        .await
        .map_err(Sqlite::error)?;
        for (id, name, old) in rows {
            let new = name_key(&name);
            if new == old {
                continue;
            }
            let done = sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET {key} = ? WHERE id = ?"
            )))
            .bind(&new)
            .bind(&id)
            .execute(writer)
            .await
            .map_err(Sqlite::error);
            match done {
                Ok(_) => {}
                Err(StoreError::Duplicate(_)) => {
                    tracing::warn!(%table, %id, "name kept its old key: it collides with another")
                }
                // Anything else (a storage fault) is tried again at the next start.
                Err(other) => return Err(other),
            }
        }
    }
    sqlx::query(AssertSqlSafe(format!(
        "PRAGMA user_version = {NAME_KEY_VERSION}"
    )))
    .execute(writer)
    .await
    .map_err(Sqlite::error)?;
    Ok(())
}
