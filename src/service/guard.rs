//! What keeps refusals from flooding the audit log, and the log from growing without end:
//! refusals of a throttled key are counted in one row per key and minute, and entries older
//! than the retention are pruned in small batches.

use super::*;
use sha2::{Digest, Sha256};

/// Audit entries deleted per statement: small, so the single writer is never held long.
const PRUNE_BATCH: u32 = 500;

/// The summary row's key of a throttle key in the minute of `at`: a digest, so raw input
/// never reaches the database, and the minute, so each minute has its row.
fn summary_key(throttle_key: &str, at: DateTime<Utc>) -> String {
    let digest = Sha256::digest(throttle_key.as_bytes());
    format!("{}:{}", hex::encode(&digest[..12]), at.timestamp() / 60)
}

impl Service {
    /// Records a refusal of a throttled key: counted in the key's row of this minute
    /// rather than written one by one. A failure to record is logged and does not change
    /// the answer.
    pub(crate) async fn record_throttled(
        &self,
        caller: &Caller,
        module: &str,
        throttle_key: &str,
        target: &str,
        what: &str,
    ) {
        let event = self.audit(
            caller,
            AuditAction::Denied,
            module,
            crate::domain::names::shown_identifier(target),
            what,
        );
        self.record_refusal(&event, throttle_key).await;
    }

    pub(crate) async fn record_refusal(&self, event: &NewAuditEvent, throttle_key: &str) {
        let key = summary_key(throttle_key, event.at);
        if let Err(err) = self.store.record_refusal(event, &key).await {
            tracing::warn!(error = %err, "could not count a refusal in the audit log");
        }
    }

    /// Deletes audit entries older than the retention (`audit_retention_days`), in small
    /// batches that leave the writer to others in between. Returns how many went.
    pub async fn prune_audit(&self) -> ServiceResult<u64> {
        let before = self.now() - Duration::days(i64::from(self.config.audit_retention_days));
        let mut total = 0;
        loop {
            let deleted = self.store.prune_audit(before, PRUNE_BATCH).await?;
            total += deleted;
            if deleted < u64::from(PRUNE_BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        if total > 0 {
            tracing::info!(deleted = total, "old audit entries pruned");
        }
        Ok(total)
    }

    /// Ends every authorization-code grant of a user, with all its tokens: their refresh
    /// tokens are revoked, their unused codes deleted, and the access tokens issued under
    /// those grants stop working at once.
    pub(crate) async fn end_user_grants(&self, user_id: uuid::Uuid) -> ServiceResult<()> {
        for (family, client_id) in self.store.end_user_grants(user_id).await? {
            self.end_grant(family, &client_id).await.map_err(|e| {
                InternalError::caused("no se pudo terminar un grant del usuario", e)
            })?;
        }
        Ok(())
    }

    /// A disabled consumer's tokens stay dead when it is enabled again: its access tokens
    /// issued until now are cut, durably, and its refresh tokens revoked.
    pub(crate) async fn consumer_disabled(&self, client_id: &str) -> ServiceResult<()> {
        // A token issued in this very millisecond is issued before the cut, too.
        let now = self.now() + Duration::milliseconds(1);
        self.store.cut_consumer_tokens(client_id, now).await?;
        self.consumer_tokens_cut(client_id, now);
        self.store.revoke_consumer_refresh_tokens(client_id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_summary_row_per_key_and_minute() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let a = summary_key("login-ip:198.51.100.7", at);
        assert_eq!(
            a,
            summary_key("login-ip:198.51.100.7", at + Duration::seconds(19))
        );
        assert_ne!(
            a,
            summary_key("login-ip:198.51.100.7", at + Duration::seconds(60))
        );
        assert_ne!(a, summary_key("login-ip:198.51.100.8", at));
        assert!(summary_key(&"x".repeat(60_000), at).len() < 40);
    }
}
