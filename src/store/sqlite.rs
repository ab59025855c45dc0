//! The SQLite store: WAL journal, `synchronous=FULL`, one writer connection (SQLite allows one
//! writer; serializing in the pool avoids busy retries) and a few readers.

use super::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, SqliteConnection, SqlitePool};
use std::path::Path;
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

use users::insert_user_row;
use writer::Writer;

pub struct SqliteStore {
    writer: Writer,
    reader: SqlitePool,
}

pub(crate) fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_ms(value: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(value).unwrap_or_default()
}

fn backend(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::RowNotFound = err {
        return StoreError::NotFound;
    }
    if let sqlx::Error::Database(db) = &err {
        let message = db.message();
        if db.is_unique_violation() {
            let key = if message.contains("client_id") {
                "client_id"
            } else if message.contains("username_key") {
                "username"
            } else if message.contains("users.role") || message.contains("super_admin") {
                "super_admin"
            } else if message.contains("ssh_keys.fingerprint") {
                "fingerprint"
            } else if message.contains("account.id") {
                "account"
            } else {
                "name"
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

/// The storage faults among SQLite's result codes (their primary code, the low byte): each
/// one clears when its cause is removed, so the caller is told to retry.
fn fault_of(err: &sqlx::Error) -> Option<Fault> {
    const SQLITE_BUSY: i64 = 5;
    const SQLITE_LOCKED: i64 = 6;
    const SQLITE_READONLY: i64 = 8;
    const SQLITE_IOERR: i64 = 10;
    const SQLITE_FULL: i64 = 13;
    const SQLITE_CANTOPEN: i64 = 14;
    match err {
        sqlx::Error::Database(db) => {
            let code: i64 = db.code()?.parse().ok()?;
            match code & 0xff {
                SQLITE_FULL => Some(Fault::StorageFull),
                SQLITE_READONLY => Some(Fault::ReadOnly),
                SQLITE_IOERR | SQLITE_CANTOPEN => Some(Fault::Io),
                SQLITE_BUSY | SQLITE_LOCKED => Some(Fault::Locked),
                _ => None,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Fault::Unreachable),
        _ => None,
    }
}

fn uuid_of(row: &SqliteRow, column: &str) -> StoreResult<Uuid> {
    let text: String = row.try_get(column).map_err(backend)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Backend(format!("bad id in {column}: {e}")))
}

fn json_of<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<T> {
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

async fn insert_audit(conn: &mut SqliteConnection, audit: &NewAuditEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (at, ip, actor_kind, actor_name, action, module, target, description)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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

impl SqliteStore {
    /// Opens (creating if needed, mode 0600) the database file and applies migrations.
    pub async fn open(path: &Path, max_pages: Option<u32>) -> StoreResult<SqliteStore> {
        create_private_file(path)?;
        Self::connect(SqliteConnectOptions::new().filename(path), max_pages).await
    }

    /// Opens a `sqlite:` URL (e.g. `sqlite::memory:` is not supported: readers would not
    /// share it; use a file).
    pub async fn open_url(url: &str, max_pages: Option<u32>) -> StoreResult<SqliteStore> {
        Self::connect(
            SqliteConnectOptions::from_str(url).map_err(backend)?,
            max_pages,
        )
        .await
    }

    /// `max_pages` caps the database's size (`PRAGMA max_page_count`, pages of 4 KiB): a
    /// write that needs more fails as on a full disk.
    async fn connect(
        options: SqliteConnectOptions,
        max_pages: Option<u32>,
    ) -> StoreResult<SqliteStore> {
        let mut options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Another process holding the lock gets this long before a write answers 503.
            .busy_timeout(Duration::from_secs(5));
        if let Some(pages) = max_pages {
            options = options.pragma("max_page_count", pages.to_string());
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Writes queue for the one connection; past this wait they are answered 503.
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(backend)?;
        sqlx::migrate!("src/store/migrations")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        security::rekey_names(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(backend)?;
        Ok(SqliteStore {
            writer: Writer::new(writer),
            reader,
        })
    }

    /// Closes both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.pool().close().await;
    }
}

/// Creates the file with mode 0600 if it does not exist; SQLite gives its WAL and shared
/// memory files the same mode.
fn create_private_file(path: &Path) -> StoreResult<()> {
    crate::private_file::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(|_| ())
        .map_err(|e| StoreError::Backend(format!("no se pudo crear {}: {e}", path.display())))
}

/// `NotFound` when a write matched no row.
fn found(done: &sqlx::sqlite::SqliteQueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// After an update matched no row: `NotFound` if the row is gone, `Stale` otherwise.
async fn missing_or_stale(conn: &mut SqliteConnection, table: &str, id: Uuid) -> StoreError {
    let exists = sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE id = ?"
    )))
    .bind(id.to_string())
    .fetch_one(conn)
    .await;
    match exists {
        Ok(0) => StoreError::NotFound,
        Ok(_) => StoreError::Stale,
        Err(e) => backend(e),
    }
}
