//! The store's part in holding the server under attack: refusals summarized instead of
//! logged one by one, audit retention, and ending the grants and tokens of a user or a
//! consumer at once.

use super::audit::with_audit_values;
use super::columns::{count_of, ms};
use super::sql::{Columns, Dialect, SqlBackend, transaction};
use crate::domain::NewAuditEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::StoreResult;

#[async_trait]
pub trait SecurityStore {
    /// Counts one refusal in the audit row of `summary_key` (a key and a minute), creating
    /// it from `audit` on the first; its description then carries the count. Returns the
    /// count so far.
    async fn record_refusal(&self, audit: &NewAuditEvent, summary_key: &str) -> StoreResult<u64>;
    /// Deletes at most `batch` audit entries older than `before`, oldest first; returns how
    /// many went. Small batches keep the writer free for others between them.
    async fn prune_audit(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64>;
    /// Revokes every refresh token of the user and deletes their unused authorization
    /// codes; returns the grants (refresh-token family, client_id) that had tokens.
    async fn end_user_grants(&self, user_id: Uuid) -> StoreResult<Vec<(Uuid, String)>>;
    /// Access tokens of the consumer issued before `at` are void (durably).
    async fn cut_consumer_tokens(&self, client_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Revokes every refresh token of the consumer; returns their grants.
    async fn revoke_consumer_refresh_tokens(&self, client_id: &str) -> StoreResult<Vec<Uuid>>;
    /// The client an authorization code was issued to, without spending it.
    async fn authorization_code_client(&self, digest: &[u8; 32]) -> StoreResult<String>;
}

#[async_trait]
impl<B: SqlBackend> SecurityStore for B {
    async fn record_refusal(&self, audit: &NewAuditEvent, summary_key: &str) -> StoreResult<u64> {
        let count: i64 = transaction(self, async |tx| {
            let statement = B::query(
                "INSERT INTO audit_events (at, ip, actor_kind, actor_name, action, module,
                         target, description, refusals, summary_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8 || ' (1 rechazo en este minuto)', 1, $9)
                     ON CONFLICT (summary_key) WHERE summary_key IS NOT NULL DO UPDATE
                         SET refusals = audit_events.refusals + 1,
                             description = $8 || ' (' || (audit_events.refusals + 1)
                                 || ' rechazos en este minuto)'
                     RETURNING refusals",
            );
            with_audit_values(statement, audit)
                .bind(summary_key)
                .scalar(&mut *tx)
                .await
        })
        .await?;
        Ok(count_of(count))
    }

    async fn prune_audit(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let done = transaction(self, async |tx| {
            B::query(
                "DELETE FROM audit_events WHERE id IN
                         (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)",
            )
            .bind(ms(before))
            .bind(i64::from(batch))
            .execute(&mut *tx)
            .await
        })
        .await?;
        Ok(done)
    }

    async fn end_user_grants(&self, user_id: Uuid) -> StoreResult<Vec<(Uuid, String)>> {
        transaction(self, async |tx| {
            let rows = B::query(
                "SELECT DISTINCT family_id, client_id FROM refresh_tokens
                     WHERE user_id = $1 AND NOT revoked",
            )
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
            let grants = rows
                .iter()
                .map(|row| Ok((row.col("family_id")?, row.col("client_id")?)))
                .collect::<StoreResult<Vec<(Uuid, String)>>>()?;
            B::query("UPDATE refresh_tokens SET revoked = TRUE WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            B::query("DELETE FROM authorization_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            Ok(grants)
        })
        .await
    }

    async fn cut_consumer_tokens(&self, client_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query(AssertSqlSafe(format!(
                "UPDATE consumers SET tokens_not_before = {}(tokens_not_before, $1)
                     WHERE client_id = $2",
                <B::Db as Dialect>::GREATEST
            )))
            .bind(ms(at))
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
            Ok(())
        })
        .await
    }

    async fn revoke_consumer_refresh_tokens(&self, client_id: &str) -> StoreResult<Vec<Uuid>> {
        transaction(self, async |tx| {
            let families: Vec<Uuid> = B::query(
                "SELECT DISTINCT family_id FROM refresh_tokens
                     WHERE client_id = $1 AND NOT revoked",
            )
            .bind(client_id)
            .scalars(&mut *tx)
            .await?;
            B::query("UPDATE refresh_tokens SET revoked = TRUE WHERE client_id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            Ok(families)
        })
        .await
    }

    async fn authorization_code_client(&self, digest: &[u8; 32]) -> StoreResult<String> {
        B::query("SELECT client_id FROM authorization_codes WHERE digest = $1")
            .bind(&digest[..])
            .scalar(self.reader())
            .await
    }
}
