//! The one way the PostgreSQL store writes: a transaction that either commits or leaves
//! nothing behind.
//!
//! Unlike SQLite, PostgreSQL never ends a transaction behind the client's back without
//! saying so, and sqlx rolls back a transaction dropped half-way before its connection is
//! used again (or closes the connection), so sqlx's own transactions are enough here.

use super::backend;
use crate::store::StoreResult;
use sqlx::{PgConnection, PgPool};

pub(super) struct Writer {
    pool: PgPool,
}

impl Writer {
    pub(super) fn new(pool: PgPool) -> Writer {
        Writer { pool }
    }

    /// Runs `work` in one transaction (READ COMMITTED; a statement that must see one row
    /// alone locks it with `FOR UPDATE`) and commits it. On any error it is rolled back.
    pub(super) async fn transaction<T>(
        &self,
        work: impl AsyncFnOnce(&mut PgConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let value = work(&mut *tx).await?;
        tx.commit().await.map_err(backend)?;
        Ok(value)
    }
}
