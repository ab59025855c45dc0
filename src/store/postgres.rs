//! The PostgreSQL store, for several `consola serve` replicas over one database: one pool
//! for reads and writes, migrations run once under an advisory lock, and the server's
//! errors mapped to the same storage faults as SQLite's, so `/readyz` and 503 behave alike.
//! Its dialect is here; its sections are the shared ones (`sql`), but for the change feed.
//!
//! Times are Unix milliseconds (UTC) as on SQLite; ids are native UUIDs.

use super::sql::{DbId, Dialect, SqlBackend, Statement, classify};
use super::{Fault, HealthStore, StoreError, StoreResult, unique};
use async_trait::async_trait;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgPoolOptions, PgQueryResult, PgRow, PgTypeInfo, PgValueRef,
};
use sqlx::{Connection, Decode, Encode, PgPool, Pool, Postgres, Type};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

mod changes;

pub struct PostgresStore {
    pool: PgPool,
    /// How long the change feed's listener may hear nothing (see `changes`).
    silence_limit: Duration,
}

/// The advisory lock that migrations run under, so that replicas starting together apply
/// them once: the first takes it, the others wait and then find nothing to do.
const MIGRATION_LOCK: i64 = 0x0063_6f6e_736f_6c61; // "consola" in ASCII

/// How long a request waits for a connection before it is answered 503: a database that is
/// down refuses connections at once, so this bounds a slow or saturated one.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection that sat idle this long is pinged before a request gets it, so that one
/// the database dropped meanwhile (a restart, a failover) is replaced instead of failing
/// the request. A busy connection is not: a ping per acquire is one more round trip per
/// statement, which doubled the consumer list's latency.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(5);

impl PostgresStore {
    /// Connects to a `postgres://` URL and applies the migrations.
    pub async fn open_url(url: &str) -> StoreResult<PostgresStore> {
        let options = PgConnectOptions::from_str(url).map_err(Postgres::error)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_WHEN_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(Postgres::error)?;
        migrate(&pool).await?;
        Ok(PostgresStore {
            pool,
            silence_limit: changes::SILENCE_LIMIT,
        })
    }

    /// The same store, its change feed taking a connection that hears nothing for `limit`
    /// for dead (30 s by default; tests shorten it).
    pub fn with_feed_silence_limit(self, limit: Duration) -> PostgresStore {
        PostgresStore {
            silence_limit: limit,
            ..self
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Applies the migrations under [`MIGRATION_LOCK`], held on a connection of its own for the
/// whole run (the migrations use another of the pool) and released even when one fails.
async fn migrate(pool: &PgPool) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(Postgres::error)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(Postgres::error)?;
    let mut migrator = sqlx::migrate!("src/store/migrations/postgres");
    // sqlx's own lock is the same kind, keyed by the database's name; this one is held for
    // the whole start-up step, so it is the one to reason about.
    migrator.set_locking(false);
    let migrated = migrator.run(pool).await.map_err(StoreError::Migrate);
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        // The lock is the session's: a connection that cannot say so is not reused.
        conn.close_on_drop();
    }
    migrated
}

impl Dialect for Postgres {
    // READ COMMITTED: a statement that must see one row alone locks it.
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const POSITION: &'static str = "strpos";
    const GREATEST: &'static str = "GREATEST";
    const BYTE_ORDER: &'static str = " COLLATE \"C\"";

    fn error(err: sqlx::Error) -> StoreError {
        classify(err, |db| unique::by_constraint(db.constraint()), fault_of)
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

/// Ids are native UUIDs in PostgreSQL's tables.
impl Type<Postgres> for DbId {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Uuid as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbId {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbId {
    fn decode(value: PgValueRef<'r>) -> Result<DbId, BoxDynError> {
        <Uuid as Decode<Postgres>>::decode(value).map(DbId)
    }
}

/// Unlike SQLite, PostgreSQL never ends a transaction behind the client's back without
/// saying so, and sqlx rolls back a transaction dropped half-way before its connection is
/// used again (or closes the connection), so sqlx's own transactions are enough here.
impl SqlBackend for PostgresStore {
    type Db = Postgres;
    type Tx = sqlx::Transaction<'static, Postgres>;

    fn reader(&self) -> &Pool<Postgres> {
        &self.pool
    }
    async fn begin(&self) -> StoreResult<Self::Tx> {
        self.pool.begin().await.map_err(Postgres::error)
    }
    async fn commit(tx: Self::Tx) -> StoreResult<()> {
        tx.commit().await.map_err(Postgres::error)
    }
    /// Dropped, the transaction is rolled back by sqlx.
    async fn rollback(tx: Self::Tx, _cause: &StoreError) {
        drop(tx);
    }
    async fn finished(&self, _outcome: Result<(), &StoreError>) {}
    /// On a connection of the pool, which sqlx returns out of any transaction.
    async fn run_alone(&self, statement: Statement<Postgres>) -> StoreResult<Vec<PgRow>> {
        statement.fetch_all(&self.pool).await
    }
}

/// `/readyz` answers within this even when the server hangs rather than refuses.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[async_trait]
impl HealthStore for PostgresStore {
    async fn ready(&self) -> StoreResult<()> {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(READY_TIMEOUT, ping).await {
            Ok(answer) => answer.map(|_| ()).map_err(Postgres::error),
            Err(_) => Err(StoreError::Unavailable(Fault::Unreachable)),
        }
    }

    async fn close(&self) {
        PostgresStore::close(self).await
    }
}

/// The storage faults among PostgreSQL's SQLSTATE codes and the client's own errors: each
/// clears when its cause is removed (the server back, space freed), so the caller retries.
fn fault_of(err: &sqlx::Error) -> Option<Fault> {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            match code.as_ref() {
                // disk_full
                "53100" => Some(Fault::StorageFull),
                // read_only_sql_transaction: a standby, or default_transaction_read_only
                "25006" => Some(Fault::ReadOnly),
                // io_error, data_corrupted
                "58030" | "XX001" => Some(Fault::Io),
                // serialization_failure, deadlock_detected, lock_not_available
                "40001" | "40P01" | "55P03" => Some(Fault::Locked),
                // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
                "57P01" | "57P02" | "57P03" | "53300" => Some(Fault::Unreachable),
                // connection_exception and its subclasses
                code if code.starts_with("08") => Some(Fault::Unreachable),
                _ => None,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Fault::Unreachable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing listens on port 1 of the loopback address: the connection is refused, as by
    /// a database server that is down, and the caller is told to retry (503), not that the
    /// database is broken.
    #[tokio::test]
    async fn a_server_that_refuses_connections_is_unreachable() {
        let opened = PostgresStore::open_url("postgres://consola@127.0.0.1:1/consola").await;
        assert!(
            matches!(opened, Err(StoreError::Unavailable(Fault::Unreachable))),
            "{:?}",
            opened.err()
        );
    }
}
