//! SQLite side of [`AuditStore`]: the audit log, Hawk nonces and the dashboard figures.

use super::*;
use crate::store::AuditStore;

fn audit_of(row: &SqliteRow) -> StoreResult<AuditEvent> {
    let action: String = row.try_get("action").map_err(backend)?;
    Ok(AuditEvent {
        id: row.try_get("id").map_err(backend)?,
        at: from_ms(row.try_get("at").map_err(backend)?),
        ip: row.try_get("ip").map_err(backend)?,
        actor: Actor {
            kind: row.try_get("actor_kind").map_err(backend)?,
            name: row.try_get("actor_name").map_err(backend)?,
        },
        action: AuditAction::parse(&action)
            .ok_or_else(|| StoreError::Backend(format!("bad action {action}")))?,
        module: row.try_get("module").map_err(backend)?,
        target: row.try_get("target").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
    })
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn record(&self, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| insert_audit(tx, audit).await)
            .await
    }

    async fn remember_hawk_nonce(
        &self,
        digest: &[u8; 32],
        ts: i64,
        forget_before: i64,
    ) -> StoreResult<bool> {
        self.writer
            .transaction(async |conn| {
                sqlx::query("DELETE FROM hawk_nonces WHERE ts < ?")
                    .bind(forget_before)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
                let inserted =
                    sqlx::query("INSERT OR IGNORE INTO hawk_nonces (digest, ts) VALUES (?, ?)")
                        .bind(&digest[..])
                        .bind(ts)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                Ok(inserted.rows_affected() == 1)
            })
            .await
    }

    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<(Vec<AuditEvent>, u64)> {
        let rows = sqlx::query(
            "SELECT id, at, ip, actor_kind, actor_name, action, module, target, description
             FROM audit_events
             WHERE (?1 IS NULL OR id < ?1)
               AND (?2 IS NULL OR at >= ?2)
               AND (?3 IS NULL OR at <= ?3)
               AND (?4 IS NULL OR action = ?4)
             ORDER BY id DESC LIMIT ?5",
        )
        .bind(filter.before)
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(AuditAction::as_str))
        .bind(i64::from(filter.limit))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        let items = rows.iter().map(audit_of).collect::<StoreResult<Vec<_>>>()?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_events
             WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at <= ?2) AND (?3 IS NULL OR action = ?3)",
        )
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(AuditAction::as_str))
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        Ok((items, total.max(0) as u64))
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let row = sqlx::query(
            "SELECT (SELECT value FROM counters WHERE name = 'consumers') AS consumers,
                    (SELECT COUNT(*) FROM consumers WHERE enabled = 1) AS enabled_consumers,
                    (SELECT COUNT(*) FROM permission_groups) AS groups,
                    (SELECT COUNT(*) FROM users) AS users",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        let get = |name: &str| -> StoreResult<u64> {
            Ok(row.try_get::<i64, _>(name).map_err(backend)?.max(0) as u64)
        };
        Ok(Counts {
            consumers: get("consumers")?,
            enabled_consumers: get("enabled_consumers")?,
            permission_groups: get("groups")?,
            users: get("users")?,
        })
    }

    async fn add_token_stats(&self, stats: &[TokenStat]) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                for stat in stats {
                    sqlx::query(
                        "INSERT INTO token_stats (hour, issued, failed) VALUES (?, ?, ?)
                     ON CONFLICT (hour) DO UPDATE SET issued = issued + excluded.issued,
                                                      failed = failed + excluded.failed",
                    )
                    .bind(stat.hour)
                    .bind(stat.issued as i64)
                    .bind(stat.failed as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn token_stats(&self, from_hour: i64, to_hour: i64) -> StoreResult<Vec<TokenStat>> {
        let rows = sqlx::query(
            "SELECT hour, issued, failed FROM token_stats WHERE hour >= ? AND hour <= ? ORDER BY hour",
        )
        .bind(from_hour)
        .bind(to_hour)
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(TokenStat {
                    hour: r.try_get("hour").map_err(backend)?,
                    issued: r.try_get::<i64, _>("issued").map_err(backend)?.max(0) as u64,
                    failed: r.try_get::<i64, _>("failed").map_err(backend)?.max(0) as u64,
                })
            })
            .collect()
    }
}
