//! PostgreSQL side of [`AuditStore`]: the audit log, Hawk nonces and the dashboard figures.

use super::*;
use crate::store::AuditStore;

fn audit_of(row: &PgRow) -> StoreResult<AuditEvent> {
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
impl AuditStore for PostgresStore {
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
            .transaction(async |tx| {
                sqlx::query("DELETE FROM hawk_nonces WHERE ts < $1")
                    .bind(forget_before)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                // One row per nonce across every replica: the second insert finds it taken.
                let inserted = sqlx::query(
                    "INSERT INTO hawk_nonces (digest, ts) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(&digest[..])
                .bind(ts)
                .execute(&mut *tx)
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
             WHERE ($1::BIGINT IS NULL OR id < $1)
               AND ($2::BIGINT IS NULL OR at >= $2)
               AND ($3::BIGINT IS NULL OR at <= $3)
               AND ($4::TEXT IS NULL OR action = $4)
             ORDER BY id DESC LIMIT $5",
        )
        .bind(filter.before)
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(AuditAction::as_str))
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let items = rows.iter().map(audit_of).collect::<StoreResult<Vec<_>>>()?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_events
             WHERE ($1::BIGINT IS NULL OR at >= $1) AND ($2::BIGINT IS NULL OR at <= $2)
               AND ($3::TEXT IS NULL OR action = $3)",
        )
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(AuditAction::as_str))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok((items, count_of(total)))
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let row = sqlx::query(
            "SELECT (SELECT value FROM counters WHERE name = 'consumers') AS consumers,
                    (SELECT COUNT(*) FROM consumers WHERE enabled) AS enabled_consumers,
                    (SELECT COUNT(*) FROM permission_groups) AS groups,
                    (SELECT COUNT(*) FROM users) AS users",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let get = |name: &str| -> StoreResult<u64> {
            Ok(count_of(row.try_get::<i64, _>(name).map_err(backend)?))
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
                // Every replica adds its own counts to the same hours.
                for stat in stats {
                    sqlx::query(
                        "INSERT INTO token_stats (hour, issued, failed) VALUES ($1, $2, $3)
                         ON CONFLICT (hour) DO UPDATE
                             SET issued = token_stats.issued + excluded.issued,
                                 failed = token_stats.failed + excluded.failed",
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
            "SELECT hour, issued, failed FROM token_stats
             WHERE hour >= $1 AND hour <= $2 ORDER BY hour",
        )
        .bind(from_hour)
        .bind(to_hour)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(TokenStat {
                    hour: r.try_get("hour").map_err(backend)?,
                    issued: count_of(r.try_get("issued").map_err(backend)?),
                    failed: count_of(r.try_get("failed").map_err(backend)?),
                })
            })
            .collect()
    }
}
