//! SQLite side of [`SecurityStore`], and the re-keying of names when the comparison key
//! changes.

use super::*;
use crate::store::SecurityStore;

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
        .map_err(backend)?;
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
        .map_err(backend)?;
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
            .map_err(backend);
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
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl SecurityStore for SqliteStore {
    async fn record_refusal(&self, audit: &NewAuditEvent, summary_key: &str) -> StoreResult<u64> {
        let count: i64 = self
            .writer
            .transaction(async |conn| {
                sqlx::query_scalar(
            "INSERT INTO audit_events (at, ip, actor_kind, actor_name, action, module, target,
                 description, refusals, summary_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 || ' (1 rechazo en este minuto)', 1, ?9)
             ON CONFLICT (summary_key) WHERE summary_key IS NOT NULL DO UPDATE
                 SET refusals = refusals + 1,
                     description = ?8 || ' (' || (refusals + 1) || ' rechazos en este minuto)'
             RETURNING refusals",
        )
        .bind(ms(audit.at))
        .bind(&audit.ip)
        .bind(&audit.actor.kind)
        .bind(&audit.actor.name)
        .bind(audit.action.as_str())
        .bind(&audit.module)
        .bind(&audit.target)
        .bind(&audit.description)
        .bind(summary_key)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
            })
            .await?;
        Ok(count.max(0) as u64)
    }

    async fn prune_audit(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let done = self
            .writer
            .transaction(async |conn| {
                sqlx::query(
                    "DELETE FROM audit_events WHERE id IN
                 (SELECT id FROM audit_events WHERE at < ? ORDER BY at LIMIT ?)",
                )
                .bind(ms(before))
                .bind(i64::from(batch))
                .execute(&mut *conn)
                .await
                .map_err(backend)
            })
            .await?;
        Ok(done.rows_affected())
    }

    async fn end_user_grants(&self, user_id: Uuid) -> StoreResult<Vec<(Uuid, String)>> {
        let rows: Vec<(String, String)> = self
            .writer
            .transaction(async |tx| {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT DISTINCT family_id, client_id FROM refresh_tokens
             WHERE user_id = ? AND revoked = 0",
                )
                .bind(user_id.to_string())
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = ?")
                    .bind(user_id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                sqlx::query(
                    "DELETE FROM authorization_codes WHERE user_id = ? AND used_at IS NULL",
                )
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(family, client_id)| {
                Uuid::parse_str(&family)
                    .map(|f| (f, client_id))
                    .map_err(|e| StoreError::Backend(format!("bad family_id: {e}")))
            })
            .collect()
    }

    async fn cut_consumer_tokens(&self, client_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.writer.transaction(async |conn| {
        sqlx::query(
            "UPDATE consumers SET tokens_not_before = max(tokens_not_before, ?) WHERE client_id = ?",
        )
        .bind(ms(at))
        .bind(client_id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        Ok(())
        }).await
    }

    async fn revoke_consumer_refresh_tokens(&self, client_id: &str) -> StoreResult<Vec<Uuid>> {
        let families: Vec<String> = self
            .writer
            .transaction(async |tx| {
                let families: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT family_id FROM refresh_tokens WHERE client_id = ? AND revoked = 0",
        )
        .bind(client_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
                sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE client_id = ?")
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(families)
            })
            .await?;
        families
            .iter()
            .map(|f| {
                Uuid::parse_str(f).map_err(|e| StoreError::Backend(format!("bad family_id: {e}")))
            })
            .collect()
    }

    async fn authorization_code_client(&self, digest: &[u8; 32]) -> StoreResult<String> {
        sqlx::query_scalar("SELECT client_id FROM authorization_codes WHERE digest = ?")
            .bind(&digest[..])
            .fetch_one(&self.reader)
            .await
            .map_err(backend)
    }
}
