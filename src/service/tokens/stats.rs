//! The counts of issued tokens and failed authentications: aggregated in memory per hour,
//! flushed to the database in batches, so issuing a token writes nothing.

use super::*;

impl TokenState {
    pub(super) fn count(&self, at: DateTime<Utc>, issued: u64, failed: u64) {
        let mut pending = self.pending.lock();
        let entry = pending.entry(at.timestamp() / 3600).or_default();
        entry.0 += issued;
        entry.1 += failed;
    }
}

impl Service {
    /// Writes the counts aggregated since the last flush to the hourly `token_stats`.
    pub async fn flush_token_stats(&self) -> ServiceResult<()> {
        let pending = std::mem::take(&mut *self.tokens.pending.lock());
        if pending.is_empty() {
            return Ok(());
        }
        let stats: Vec<TokenStat> = pending
            .iter()
            .map(|(hour, (issued, failed))| TokenStat {
                hour: *hour,
                issued: *issued,
                failed: *failed,
            })
            .collect();
        if let Err(err) = self.store.add_token_stats(&stats).await {
            // Keep the counts for the next flush.
            let mut current = self.tokens.pending.lock();
            for (hour, (issued, failed)) in pending {
                let entry = current.entry(hour).or_default();
                entry.0 += issued;
                entry.1 += failed;
            }
            return Err(err.into());
        }
        Ok(())
    }

    /// Counts not yet flushed, per hour (for the dashboard).
    pub(crate) fn pending_token_stats(&self) -> Vec<TokenStat> {
        self.tokens
            .pending
            .lock()
            .iter()
            .map(|(hour, (issued, failed))| TokenStat {
                hour: *hour,
                issued: *issued,
                failed: *failed,
            })
            .collect()
    }
}
