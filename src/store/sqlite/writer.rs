//! How the SQLite store writes, on its single writer connection: a transaction that either
//! commits or leaves nothing behind, or one statement alone, which SQLite makes its own
//! transaction; and a record of storage faults.
//!
//! SQLite may end a transaction by itself when a statement or COMMIT fails (a full disk, an
//! I/O error), and sqlx's count of open transactions then no longer matches the connection:
//! every later `begin` became a savepoint inside a transaction that never ended, and the API
//! acknowledged writes that were never stored. So this module opens transactions itself with
//! `BEGIN IMMEDIATE`, which fails rather than nests on a connection still inside one, and a
//! connection whose transaction did not end in a clean COMMIT or ROLLBACK is closed, never
//! handed to the next write. A new connection has no state to be wrong about.

use crate::store::sql::{Dialect, Statement};
use crate::store::{Fault, StoreError, StoreResult};
use parking_lot::Mutex;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

/// The writer connection's pool (of one) and what it has seen.
pub(super) struct Writer {
    pool: SqlitePool,
    health: Health,
    last_probe: Mutex<Option<Instant>>,
}

const PROBE_INTERVAL: Duration = Duration::from_secs(1);

impl Writer {
    pub(super) fn new(pool: SqlitePool) -> Writer {
        Writer {
            pool,
            health: Health::default(),
            last_probe: Mutex::new(None),
        }
    }

    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The fault of the episode in progress: from a write that failed until the probe
    /// succeeds.
    pub(super) fn fault(&self) -> Option<Fault> {
        self.health.current()
    }

    /// Follows the storage faults after a write ended: a write that failed on one starts
    /// (or continues) an episode.
    pub(super) async fn finished(&self, outcome: Result<(), &StoreError>) {
        match outcome {
            Err(StoreError::Unavailable(fault)) => self.health.failed(*fault),
            // A small write may get through a full disk: only the probe ends an episode,
            // tried at most once a second on the back of ordinary writes.
            Ok(()) if self.health.current().is_some() && self.probe_due() => {
                let _ = self.probe().await;
            }
            _ => {}
        }
    }

    /// The probe's transaction: the same steps as every write's (`sql::transaction`).
    async fn run<T>(
        &self,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut tx = self.begin().await?;
        match work(&mut tx).await {
            Ok(value) => tx.commit().await.map(|()| value),
            Err(err) => {
                tx.rollback(&err).await;
                Err(err)
            }
        }
    }

    fn probe_due(&self) -> bool {
        let mut last = self.last_probe.lock();
        let due = last.is_none_or(|at| at.elapsed() >= PROBE_INTERVAL);
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// A write that stores nothing in the end but needs what real writes need: fresh pages,
    /// and WAL frames on disk at COMMIT. It asks for more room than an ordinary write
    /// (256 KiB), so that the space a failed write left behind in the WAL file does not
    /// pass for recovery. Its answer starts or ends the episode.
    pub(super) async fn probe(&self) -> StoreResult<()> {
        let result = self
            .run(async |tx| {
                sqlx::query("INSERT INTO write_probe (filler) VALUES (zeroblob(262144))")
                    .execute(&mut *tx)
                    .await
                    .map_err(Sqlite::error)?;
                sqlx::query("DELETE FROM write_probe")
                    .execute(&mut *tx)
                    .await
                    .map_err(Sqlite::error)?;
                Ok(())
            })
            .await;
        match &result {
            Ok(()) => self.health.succeeded(),
            Err(StoreError::Unavailable(fault)) => self.health.failed(*fault),
            Err(_) => {}
        }
        result
    }

    /// One statement by itself, outside any transaction: SQLite applies it wholly or not at
    /// all and leaves the connection out of a transaction either way (a transaction is
    /// never left open on a pooled connection: see [`Transaction`]). After a failure other
    /// than a refusal the connection is closed all the same, as a transaction's is.
    pub(super) async fn alone(&self, statement: Statement<Sqlite>) -> StoreResult<Vec<SqliteRow>> {
        let mut conn = self.pool.acquire().await.map_err(Sqlite::error)?;
        let outcome = statement.fetch_all(&mut *conn).await;
        if outcome.as_ref().is_err_and(|err| !is_refusal(err)) {
            conn.close_on_drop();
        }
        outcome
    }

    pub(super) async fn begin(&self) -> StoreResult<Transaction> {
        let conn = self.pool.acquire().await.map_err(Sqlite::error)?;
        Transaction::begin(conn).await
    }
}

/// A transaction in progress. Dropped before it ended cleanly (an error, or the request's
/// future dropped half-way), it closes its connection, and SQLite rolls back what it held.
pub(crate) struct Transaction {
    conn: PoolConnection<Sqlite>,
    ended: bool,
}

impl Transaction {
    async fn begin(mut conn: PoolConnection<Sqlite>) -> StoreResult<Transaction> {
        match sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
            Ok(_) => Ok(Transaction { conn, ended: false }),
            Err(err) => {
                // Whatever state the connection is in (perhaps still inside a transaction),
                // it is not reused.
                conn.close_on_drop();
                Err(Sqlite::error(err))
            }
        }
    }

    /// On failure SQLite may have kept the transaction open or rolled it back; either way
    /// the connection is dropped unended, so neither is carried into the next write.
    pub(super) async fn commit(mut self) -> StoreResult<()> {
        sqlx::query("COMMIT")
            .execute(&mut *self.conn)
            .await
            .map_err(Sqlite::error)?;
        self.ended = true;
        Ok(())
    }

    /// Ends the transaction after `cause`. A fault may have ended it inside SQLite already,
    /// so then the connection goes, as it does when ROLLBACK itself fails.
    pub(super) async fn rollback(mut self, cause: &StoreError) {
        let clean = is_refusal(cause);
        if clean
            && sqlx::query("ROLLBACK")
                .execute(&mut *self.conn)
                .await
                .is_ok()
        {
            self.ended = true;
        }
    }
}

/// A refusal leaves the transaction open and intact in SQLite; anything else (a storage
/// fault, a failed statement, a value that could not be read) may have ended it.
fn is_refusal(cause: &StoreError) -> bool {
    match cause {
        StoreError::NotFound
        | StoreError::Duplicate(_)
        | StoreError::InUse
        | StoreError::InvalidReference
        | StoreError::Stale => true,
        StoreError::Unavailable(_)
        | StoreError::Database(_)
        | StoreError::Migrate(_)
        | StoreError::Json { .. }
        | StoreError::Corrupt(_)
        | StoreError::CreateFile { .. } => false,
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

impl Deref for Transaction {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for Transaction {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

/// Storage faults as episodes: the log says when writes start failing and when they succeed
/// again, once each, not once per request.
#[derive(Default)]
struct Health {
    episode: Mutex<Option<Fault>>,
}

impl Health {
    fn current(&self) -> Option<Fault> {
        *self.episode.lock()
    }

    /// The fault may change within an episode (an I/O error, then a read-only file); the
    /// episode is the same.
    fn failed(&self, fault: Fault) {
        let mut episode = self.episode.lock();
        match *episode {
            None => tracing::error!(
                fault = fault.as_str(),
                "the database refuses writes; every write is answered 503 until it recovers"
            ),
            Some(before) if before != fault => {
                tracing::debug!(fault = fault.as_str(), "the storage fault changed")
            }
            Some(_) => {}
        }
        *episode = Some(fault);
    }

    fn succeeded(&self) {
        let mut episode = self.episode.lock();
        if let Some(fault) = episode.take() {
            tracing::warn!(fault = fault.as_str(), "the database takes writes again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;
    use crate::store::sql::transaction;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    /// A store over a table of its own, read through a pool of its own.
    async fn store(dir: &std::path::Path) -> (SqliteStore, SqlitePool) {
        let options = SqliteConnectOptions::new()
            .filename(dir.join("t.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        let other = SqlitePoolOptions::new()
            .connect_with(options.clone().read_only(true))
            .await
            .unwrap();
        let reader = SqlitePoolOptions::new()
            .connect_with(options.read_only(true))
            .await
            .unwrap();
        let store = SqliteStore {
            writer: Writer::new(pool),
            reader,
        };
        (store, other)
    }

    async fn stored(other: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(other)
            .await
            .unwrap()
    }

    async fn insert(tx: &mut SqliteConnection, n: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO t VALUES (?)")
            .bind(n)
            .execute(tx)
            .await
            .map_err(Sqlite::error)?;
        Ok(())
    }

    /// A request dropped half-way through its transaction (the client went away) leaves
    /// nothing behind: the next write is not nested inside it, and is stored.
    #[tokio::test]
    async fn a_transaction_dropped_half_way_leaves_nothing_and_the_next_write_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (store, other) = store(dir.path()).await;
        let abandoned = transaction(&store, async |tx| {
            insert(tx, 1).await?;
            std::future::pending::<()>().await;
            Ok(())
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(100), abandoned)
                .await
                .is_err()
        );
        transaction(&store, async |tx| insert(tx, 2).await)
            .await
            .expect("the next write");
        assert_eq!(stored(&other).await, vec![2]);
    }

    /// A write that fails on a clean error (a domain refusal) is rolled back, and the
    /// connection serves the next write.
    #[tokio::test]
    async fn a_refused_write_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, other) = store(dir.path()).await;
        let refused = transaction(&store, async |tx| {
            insert(tx, 1).await?;
            Err::<(), _>(StoreError::Stale)
        })
        .await;
        assert!(matches!(refused, Err(StoreError::Stale)));
        transaction(&store, async |tx| insert(tx, 2).await)
            .await
            .unwrap();
        assert_eq!(stored(&other).await, vec![2]);
        assert_eq!(store.writer.fault(), None, "a refusal is no storage fault");
    }
}
