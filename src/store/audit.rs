//! The audit log and the dashboard figures.

use super::columns::{count_of, from_ms, ms};
use super::sql::{Columns, Sql, SqlBackend, Statement, query, transaction};
use super::*;
use sqlx::Database;

#[async_trait]
pub trait AuditStore {
    async fn record(&self, audit: &NewAuditEvent) -> StoreResult<()>;
    /// One page, newest first, and the total matching the filter.
    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<(Vec<AuditEvent>, u64)>;
    async fn counts(&self) -> StoreResult<Counts>;
    async fn add_token_stats(&self, stats: &[TokenStat]) -> StoreResult<()>;
    async fn token_stats(&self, from_hour: i64, to_hour: i64) -> StoreResult<Vec<TokenStat>>;
}

/// Adds the audit entry of a write, in the write's transaction.
pub(super) async fn insert_audit<DB: Sql>(
    conn: &mut <DB as Database>::Connection,
    audit: &NewAuditEvent,
) -> StoreResult<()> {
    let statement = query::<DB>(
        "INSERT INTO audit_events (at, ip, actor_kind, actor_name, action, module, target,
             description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    );
    with_audit_values(statement, audit).execute(conn).await?;
    Ok(())
}

/// Binds an entry's fields as `$1..$8`, in the order of `audit_events`' columns `at, ip,
/// actor_kind, actor_name, action, module, target, description`.
pub(super) fn with_audit_values<DB: Sql>(
    statement: Statement<DB>,
    audit: &NewAuditEvent,
) -> Statement<DB> {
    statement
        .bind(ms(audit.at))
        .bind(&audit.ip)
        .bind(&audit.actor.kind)
        .bind(&audit.actor.name)
        .bind(audit.action.as_str())
        .bind(&audit.module)
        .bind(&audit.target)
        .bind(&audit.description)
}

fn audit_of<R: Columns>(row: &R) -> StoreResult<AuditEvent>
where
    R::Database: Sql,
{
    let action: String = row.col("action")?;
    Ok(AuditEvent {
        id: row.col("id")?,
        at: from_ms(row.col("at")?),
        ip: row.col("ip")?,
        actor: Actor {
            kind: row.col("actor_kind")?,
            name: row.col("actor_name")?,
        },
        action: AuditAction::parse(&action).ok_or(StoreError::Corrupt("audit action"))?,
        module: row.col("module")?,
        target: row.col("target")?,
        description: row.col("description")?,
    })
}

#[async_trait]
impl<B: SqlBackend> AuditStore for B {
    async fn record(&self, audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| insert_audit::<B::Db>(tx, audit).await).await
    }

    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<(Vec<AuditEvent>, u64)> {
        let rows = B::query(
            "SELECT id, at, ip, actor_kind, actor_name, action, module, target, description
             FROM audit_events
             WHERE (CAST($1 AS BIGINT) IS NULL OR id < $1)
               AND (CAST($2 AS BIGINT) IS NULL OR at >= $2)
               AND (CAST($3 AS BIGINT) IS NULL OR at <= $3)
               AND (CAST($4 AS TEXT) IS NULL OR action = $4)
             ORDER BY id DESC LIMIT $5",
        )
        .bind(filter.before)
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(|a| a.as_str().to_owned()))
        .bind(i64::from(filter.limit))
        .fetch_all(self.reader())
        .await?;
        let items = rows.iter().map(audit_of).collect::<StoreResult<Vec<_>>>()?;
        let total: i64 = B::query(
            "SELECT COUNT(*) FROM audit_events
             WHERE (CAST($1 AS BIGINT) IS NULL OR at >= $1)
               AND (CAST($2 AS BIGINT) IS NULL OR at <= $2)
               AND (CAST($3 AS TEXT) IS NULL OR action = $3)",
        )
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(|a| a.as_str().to_owned()))
        .scalar(self.reader())
        .await?;
        Ok((items, count_of(total)))
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let row = B::query(
            "SELECT (SELECT value FROM counters WHERE name = 'consumers') AS consumers,
                    (SELECT COUNT(*) FROM consumers WHERE enabled) AS enabled_consumers,
                    (SELECT COUNT(*) FROM permission_groups) AS groups,
                    (SELECT COUNT(*) FROM users) AS users",
        )
        .fetch_one(self.reader())
        .await?;
        let get = |name: &str| -> StoreResult<u64> { Ok(count_of(row.col(name)?)) };
        Ok(Counts {
            consumers: get("consumers")?,
            enabled_consumers: get("enabled_consumers")?,
            permission_groups: get("groups")?,
            users: get("users")?,
        })
    }

    async fn add_token_stats(&self, stats: &[TokenStat]) -> StoreResult<()> {
        transaction(self, async |tx| {
            for stat in stats {
                // Every replica adds its own counts to the same hours.
                B::query(
                    "INSERT INTO token_stats (hour, issued, failed) VALUES ($1, $2, $3)
                     ON CONFLICT (hour) DO UPDATE
                         SET issued = token_stats.issued + excluded.issued,
                             failed = token_stats.failed + excluded.failed",
                )
                .bind(stat.hour)
                .bind(stat.issued as i64)
                .bind(stat.failed as i64)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        })
        .await
    }

    async fn token_stats(&self, from_hour: i64, to_hour: i64) -> StoreResult<Vec<TokenStat>> {
        let rows = B::query(
            "SELECT hour, issued, failed FROM token_stats
             WHERE hour >= $1 AND hour <= $2 ORDER BY hour",
        )
        .bind(from_hour)
        .bind(to_hour)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenStat {
                    hour: r.col("hour")?,
                    issued: count_of(r.col("issued")?),
                    failed: count_of(r.col("failed")?),
                })
            })
            .collect()
    }
}
