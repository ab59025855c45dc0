//! The SQLite store: WAL journal, `synchronous=FULL`, one writer connection (SQLite allows one
//! writer; serializing in the pool avoids busy retries) and a few readers. Its dialect (ids
//! as TEXT, its error codes) is here; its sections are the shared ones (`sql`).

use super::sql::{DbId, Dialect, SqlBackend, Statement, classify};
use super::{ChangeFeed, ChangeStore, Fault, HealthStore, StoreError, StoreResult, unique};
use async_trait::async_trait;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    SqliteArgumentsBuffer, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
    SqliteQueryResult, SqliteRow, SqliteSynchronous, SqliteTypeInfo, SqliteValueRef,
};
use sqlx::{Decode, Encode, Pool, Sqlite, SqlitePool, Type};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

mod rekey;
mod writer;

use writer::{Transaction, Writer};

pub struct SqliteStore {
    writer: Writer,
    reader: SqlitePool,
}

impl Dialect for Sqlite {
    // The one writer connection holds the whole database until COMMIT.
    const FOR_UPDATE: &'static str = "";
    const POSITION: &'static str = "instr";
    const GREATEST: &'static str = "max";
    // BINARY, SQLite's default collation, is byte order.
    const BYTE_ORDER: &'static str = "";

    fn error(err: sqlx::Error) -> StoreError {
        classify(err, |db| unique::by_sqlite_message(db.message()), fault_of)
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

/// Ids are TEXT in SQLite's tables (the hyphenated form).
impl Type<Sqlite> for DbId {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for DbId {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbId {
    fn decode(value: SqliteValueRef<'r>) -> Result<DbId, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(DbId(Uuid::parse_str(text)?))
    }
}

impl SqlBackend for SqliteStore {
    type Db = Sqlite;
    type Tx = Transaction;

    fn reader(&self) -> &Pool<Sqlite> {
        &self.reader
    }
    async fn begin(&self) -> StoreResult<Transaction> {
        self.writer.begin().await
    }
    async fn commit(tx: Transaction) -> StoreResult<()> {
        tx.commit().await
    }
    async fn rollback(tx: Transaction, cause: &StoreError) {
        tx.rollback(cause).await
    }
    async fn finished(&self, outcome: Result<(), &StoreError>) {
        self.writer.finished(outcome).await
    }
    async fn run_alone(&self, statement: Statement<Sqlite>) -> StoreResult<Vec<SqliteRow>> {
        self.writer.alone(statement).await
    }
}

#[async_trait]
impl HealthStore for SqliteStore {
    async fn ready(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(Sqlite::error)?;
        if self.writer.fault().is_some() {
            self.writer.probe().await?;
        }
        Ok(())
    }

    async fn close(&self) {
        SqliteStore::close(self).await
    }
}

/// One server owns a SQLite database, so nobody else changes it.
#[async_trait]
impl ChangeStore for SqliteStore {
    async fn follow_changes(&self) -> Option<ChangeFeed> {
        None
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
            SqliteConnectOptions::from_str(url).map_err(Sqlite::error)?,
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
            // Temporary tables and journals in memory: a multi-row INSERT … RETURNING (the
            // values used once) otherwise made and deleted a file for every group.
            .pragma("temp_store", "memory")
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
            .map_err(Sqlite::error)?;
        sqlx::migrate!("src/store/migrations")
            .run(&writer)
            .await
            .map_err(StoreError::Migrate)?;
        rekey::rekey_names(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(Sqlite::error)?;
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
        .map_err(|source| StoreError::CreateFile {
            path: path.to_owned(),
            source,
        })
}
