//! PostgreSQL side of [`SecurityStore`].

use super::*;
use crate::store::SecurityStore;

#[async_trait]
impl SecurityStore for PostgresStore {
    async fn record_refusal(&self, audit: &NewAuditEvent, summary_key: &str) -> StoreResult<u64> {
        let count: i64 = self
            .writer
            .transaction(async |tx| {
                sqlx::query_scalar(
                    "INSERT INTO audit_events (at, ip, actor_kind, actor_name, action, module,
                         target, description, refusals, summary_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8 || ' (1 rechazo en este minuto)', 1, $9)
                     ON CONFLICT (summary_key) WHERE summary_key IS NOT NULL DO UPDATE
                         SET refusals = audit_events.refusals + 1,
                             description = $8 || ' (' || (audit_events.refusals + 1)
                                 || ' rechazos en este minuto)'
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
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)
            })
            .await?;
        Ok(count_of(count))
    }

    async fn prune_audit(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let done = self
            .writer
            .transaction(async |tx| {
                sqlx::query(
                    "DELETE FROM audit_events WHERE id IN
                         (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)",
                )
                .bind(ms(before))
                .bind(i64::from(batch))
                .execute(&mut *tx)
                .await
                .map_err(backend)
            })
            .await?;
        Ok(done.rows_affected())
    }

    async fn end_user_grants(&self, user_id: Uuid) -> StoreResult<Vec<(Uuid, String)>> {
        self.writer
            .transaction(async |tx| {
                let rows: Vec<(Uuid, String)> = sqlx::query_as(
                    "SELECT DISTINCT family_id, client_id FROM refresh_tokens
                     WHERE user_id = $1 AND NOT revoked",
                )
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                sqlx::query(
                    "DELETE FROM authorization_codes WHERE user_id = $1 AND used_at IS NULL",
                )
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                Ok(rows)
            })
            .await
    }

    async fn cut_consumer_tokens(&self, client_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query(
                    "UPDATE consumers SET tokens_not_before = GREATEST(tokens_not_before, $1)
                     WHERE client_id = $2",
                )
                .bind(ms(at))
                .bind(client_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn revoke_consumer_refresh_tokens(&self, client_id: &str) -> StoreResult<Vec<Uuid>> {
        self.writer
            .transaction(async |tx| {
                let families: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT DISTINCT family_id FROM refresh_tokens
                     WHERE client_id = $1 AND NOT revoked",
                )
                .bind(client_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE client_id = $1")
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(families)
            })
            .await
    }

    async fn authorization_code_client(&self, digest: &[u8; 32]) -> StoreResult<String> {
        sqlx::query_scalar("SELECT client_id FROM authorization_codes WHERE digest = $1")
            .bind(&digest[..])
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }
}
