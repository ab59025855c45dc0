//! The PostgreSQL store, for several `consola serve` replicas over one database: one pool
//! for reads and writes, migrations run once under an advisory lock, and the server's
//! errors mapped to the same storage faults as SQLite's, so `/readyz` and 503 behave alike.
//!
//! Times are Unix milliseconds (UTC) as on SQLite; ids are native UUIDs.

use super::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};
use std::str::FromStr;
use std::time::Duration;

mod account;
mod audit;
mod changes;
mod consumers;
mod grants;
mod groups;
mod health;
mod sealed_keys;
mod security;
mod ssh_keys;
mod throttles;
mod users;
mod writer;

use super::sqlite::{from_ms, ms};
use users::insert_user_row;
use writer::Writer;

pub struct PostgresStore {
    writer: Writer,
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

impl PostgresStore {
    /// Connects to a `postgres://` URL and applies the migrations.
    pub async fn open_url(url: &str) -> StoreResult<PostgresStore> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(backend)?;
        migrate(&pool).await?;
        Ok(PostgresStore {
            writer: Writer::new(pool.clone()),
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
    let mut conn = pool.acquire().await.map_err(backend)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let mut migrator = sqlx::migrate!("src/store/migrations/postgres");
    // sqlx's own lock is the same kind, keyed by the database's name; this one is held for
    // the whole start-up step, so it is the one to reason about.
    migrator.set_locking(false);
    let migrated = migrator
        .run(pool)
        .await
        .map_err(|e| StoreError::Backend(e.to_string()));
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

fn backend(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::RowNotFound = err {
        return StoreError::NotFound;
    }
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            // The constraints are named in the migrations; see 0001_initial.sql.
            let key = match db.constraint() {
                Some("consumers_client_id_key") => "client_id",
                Some("users_username_key_key") => "username",
                Some("users_one_super_admin") => "super_admin",
                Some("account_pkey") => "account",
                Some("ssh_keys_fingerprint_key") => "fingerprint",
                _ => "name",
            };
            return StoreError::Duplicate(key);
        }
        if db.is_foreign_key_violation() {
            return StoreError::InvalidReference;
        }
    }
    match fault_of(&err) {
        Some(fault) => StoreError::Unavailable(fault),
        None => StoreError::Backend(err.to_string()),
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

fn json_of<T: serde::de::DeserializeOwned>(row: &PgRow, column: &str) -> StoreResult<T> {
    let text: String = row.try_get(column).map_err(backend)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Backend(format!("bad {column}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Key of a name for unique indexes: the domain's comparison key (NFKC, case folded).
fn name_key(name: &str) -> String {
    crate::domain::names::comparison_key(name)
}

fn count_of(value: i64) -> u64 {
    value.max(0) as u64
}

async fn insert_audit(conn: &mut PgConnection, audit: &NewAuditEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (at, ip, actor_kind, actor_name, action, module, target, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ms(audit.at))
    .bind(&audit.ip)
    .bind(&audit.actor.kind)
    .bind(&audit.actor.name)
    .bind(audit.action.as_str())
    .bind(&audit.module)
    .bind(&audit.target)
    .bind(&audit.description)
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// `NotFound` when a write matched no row.
fn found(done: &sqlx::postgres::PgQueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// After an update matched no row: `NotFound` if the row is gone, `Stale` otherwise.
async fn missing_or_stale(conn: &mut PgConnection, table: Table, id: Uuid) -> StoreError {
    let sql = match table {
        Table::Users => "SELECT COUNT(*) FROM users WHERE id = $1",
        Table::Groups => "SELECT COUNT(*) FROM permission_groups WHERE id = $1",
        Table::Consumers => "SELECT COUNT(*) FROM consumers WHERE id = $1",
    };
    match sqlx::query_scalar::<_, i64>(sql)
        .bind(id)
        .fetch_one(conn)
        .await
    {
        Ok(0) => StoreError::NotFound,
        Ok(_) => StoreError::Stale,
        Err(e) => backend(e),
    }
}

/// The tables whose rows carry a version.
#[derive(Clone, Copy)]
enum Table {
    Users,
    Groups,
    Consumers,
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
