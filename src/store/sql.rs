//! Where the store's sections meet sqlx: one statement text (`$1..$N`, which SQLite reads
//! too) bound and run the same way on either database, so each section is written once
//! (`impl<B: SqlBackend> …Store for B`). What truly differs between the two databases is
//! the [`Dialect`] of each (in `sqlite.rs` and `postgres.rs`) and how each [`SqlBackend`]
//! writes: a transaction, or one statement alone.
//!
//! sqlx's own generic API needs a where clause per value type and per executor at every use;
//! here those bounds are stated once, in the blanket impls below, and the sections see only
//! [`Sql`], whose supertraits the compiler carries along by itself.

use super::{Fault, StoreError, StoreResult};
use sqlx::error::BoxDynError;
use sqlx::{
    ColumnIndex, Connection, Database, Decode, Encode, Executor, IntoArguments, Pool, Row,
    SqlSafeStr, SqlStr, Type,
};
use std::future::Future;
use uuid::Uuid;

/// What differs between SQLite and PostgreSQL for the same statement.
pub(crate) trait Dialect: Database {
    /// Appended to a `SELECT` that must hold its rows until the transaction ends. Empty on
    /// SQLite, whose one writer holds the whole database.
    const FOR_UPDATE: &'static str;
    /// The function that finds a needle in a haystack, `f(haystack, needle)`, 1-based.
    const POSITION: &'static str;
    /// The larger of two values, `f(a, b)`.
    const GREATEST: &'static str;
    /// Appended to an `ORDER BY` of text so that it sorts by bytes, whatever the collation.
    const BYTE_ORDER: &'static str;
    /// What the database's error means to the caller.
    fn error(err: sqlx::Error) -> StoreError;
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// What a database error means to the caller, the same on both databases but for how each
/// names the unique key a duplicate hit and which of its errors are storage faults.
pub(crate) fn classify(
    err: sqlx::Error,
    unique_key: fn(&dyn sqlx::error::DatabaseError) -> &'static str,
    fault_of: fn(&sqlx::Error) -> Option<Fault>,
) -> StoreError {
    if let sqlx::Error::RowNotFound = err {
        return StoreError::NotFound;
    }
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            return StoreError::Duplicate(unique_key(db.as_ref()));
        }
        if db.is_foreign_key_violation() {
            return StoreError::InvalidReference;
        }
    }
    match fault_of(&err) {
        Some(fault) => StoreError::Unavailable(fault),
        None => StoreError::Database(err),
    }
}

/// A UUID as each database keeps it: TEXT on SQLite, a native UUID on PostgreSQL (the
/// encodings live in each backend's file).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DbId(pub Uuid);

/// A value a statement binds, as the database receives it.
pub(crate) trait Param {
    type Wire;
    fn wire(self) -> Self::Wire;
}

/// A value read from a column, from what the database returns.
pub(crate) trait Cell: Sized {
    type Wire;
    fn from_wire(wire: Self::Wire) -> Self;
}

macro_rules! as_is {
    ($($t:ty),*) => {$(
        impl Param for $t {
            type Wire = $t;
            fn wire(self) -> $t {
                self
            }
        }
    )*};
}
as_is!(i64, bool, String, Vec<u8>);

macro_rules! cell_as_is {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            type Wire = $t;
            fn from_wire(wire: $t) -> $t {
                wire
            }
        }
    )*};
}
cell_as_is!(i64, bool, String, Vec<u8>);

impl<'a> Param for &'a str {
    type Wire = &'a str;
    fn wire(self) -> &'a str {
        self
    }
}

impl<'a> Param for &'a String {
    type Wire = &'a str;
    fn wire(self) -> &'a str {
        self
    }
}

impl<'a> Param for &'a [u8] {
    type Wire = &'a [u8];
    fn wire(self) -> &'a [u8] {
        self
    }
}

impl<'a> Param for &'a Vec<u8> {
    type Wire = &'a [u8];
    fn wire(self) -> &'a [u8] {
        self
    }
}

impl Param for Uuid {
    type Wire = DbId;
    fn wire(self) -> DbId {
        DbId(self)
    }
}

impl Cell for Uuid {
    type Wire = DbId;
    fn from_wire(wire: DbId) -> Uuid {
        wire.0
    }
}

impl<T: Param> Param for Option<T> {
    type Wire = Option<T::Wire>;
    fn wire(self) -> Self::Wire {
        self.map(T::wire)
    }
}

impl<T: Cell> Cell for Option<T> {
    type Wire = Option<T::Wire>;
    fn from_wire(wire: Self::Wire) -> Self {
        wire.map(T::from_wire)
    }
}

/// The database takes `T` as a bound value.
pub(crate) trait Binds<T>: Database {
    fn add(args: &mut Self::Arguments, value: T) -> Result<(), BoxDynError>;
}

impl<DB: Database, T> Binds<T> for DB
where
    for<'t> T: Encode<'t, DB> + Type<DB>,
{
    fn add(args: &mut DB::Arguments, value: T) -> Result<(), BoxDynError> {
        sqlx::Arguments::add(args, value)
    }
}

/// The database returns `T` from a column.
pub(crate) trait Reads<T>: Database {
    fn read(row: &Self::Row, column: &str) -> Result<T, sqlx::Error>;
    fn read_at(row: &Self::Row, index: usize) -> Result<T, sqlx::Error>;
}

impl<DB: Database, T> Reads<T> for DB
where
    T: for<'r> Decode<'r, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    fn read(row: &DB::Row, column: &str) -> Result<T, sqlx::Error> {
        row.try_get(column)
    }
    fn read_at(row: &DB::Row, index: usize) -> Result<T, sqlx::Error> {
        row.try_get(index)
    }
}

/// A connection that runs statements.
pub(crate) trait Runs: Connection + Send {
    fn fetch_all<'c>(
        &'c mut self,
        sql: SqlStr,
        args: <Self::Database as Database>::Arguments,
    ) -> impl Future<Output = Result<Vec<<Self::Database as Database>::Row>, sqlx::Error>> + Send + 'c;
    fn fetch_optional<'c>(
        &'c mut self,
        sql: SqlStr,
        args: <Self::Database as Database>::Arguments,
    ) -> impl Future<Output = Result<Option<<Self::Database as Database>::Row>, sqlx::Error>> + Send + 'c;
    fn execute<'c>(
        &'c mut self,
        sql: SqlStr,
        args: <Self::Database as Database>::Arguments,
    ) -> impl Future<Output = Result<<Self::Database as Database>::QueryResult, sqlx::Error>> + Send + 'c;
}

impl<C> Runs for C
where
    C: Connection + Send,
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
    <C::Database as Database>::Arguments: IntoArguments<C::Database>,
{
    fn fetch_all<'c>(
        &'c mut self,
        sql: SqlStr,
        args: <C::Database as Database>::Arguments,
    ) -> impl Future<Output = Result<Vec<<C::Database as Database>::Row>, sqlx::Error>> + Send + 'c
    {
        sqlx::query_with(sql, args).fetch_all(self)
    }
    fn fetch_optional<'c>(
        &'c mut self,
        sql: SqlStr,
        args: <C::Database as Database>::Arguments,
    ) -> impl Future<Output = Result<Option<<C::Database as Database>::Row>, sqlx::Error>> + Send + 'c
    {
        sqlx::query_with(sql, args).fetch_optional(self)
    }
    fn execute<'c>(
        &'c mut self,
        sql: SqlStr,
        args: <C::Database as Database>::Arguments,
    ) -> impl Future<Output = Result<<C::Database as Database>::QueryResult, sqlx::Error>> + Send + 'c
    {
        sqlx::query_with(sql, args).execute(self)
    }
}

/// A database the sections run on: its dialect, and every value type they bind and read.
pub(crate) trait Sql:
    Dialect<Connection: Runs>
    + Binds<i64>
    + Binds<Option<i64>>
    + Binds<bool>
    + Binds<String>
    + for<'a> Binds<&'a str>
    + Binds<Option<String>>
    + for<'a> Binds<&'a [u8]>
    + Binds<Vec<u8>>
    + Binds<Option<Vec<u8>>>
    + Binds<DbId>
    + Binds<Option<DbId>>
    + Reads<i64>
    + Reads<Option<i64>>
    + Reads<bool>
    + Reads<String>
    + Reads<Option<String>>
    + Reads<Vec<u8>>
    + Reads<Option<Vec<u8>>>
    + Reads<DbId>
    + Reads<Option<DbId>>
{
}

impl<DB> Sql for DB where
    DB: Dialect<Connection: Runs>
        + Binds<i64>
        + Binds<Option<i64>>
        + Binds<bool>
        + Binds<String>
        + for<'a> Binds<&'a str>
        + Binds<Option<String>>
        + for<'a> Binds<&'a [u8]>
        + Binds<Vec<u8>>
        + Binds<Option<Vec<u8>>>
        + Binds<DbId>
        + Binds<Option<DbId>>
        + Reads<i64>
        + Reads<Option<i64>>
        + Reads<bool>
        + Reads<String>
        + Reads<Option<String>>
        + Reads<Vec<u8>>
        + Reads<Option<Vec<u8>>>
        + Reads<DbId>
        + Reads<Option<DbId>>
{
}

/// Where a statement runs: the write transaction's connection, or the reader pool (a
/// connection taken from it for the statement, as sqlx's pool executor does).
pub(crate) trait On<DB: Sql>: Send {
    fn fetch_all(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> impl Future<Output = Result<Vec<DB::Row>, sqlx::Error>> + Send;
    fn fetch_optional(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> impl Future<Output = Result<Option<DB::Row>, sqlx::Error>> + Send;
    fn execute(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> impl Future<Output = Result<DB::QueryResult, sqlx::Error>> + Send;
}

impl<DB: Sql> On<DB> for &mut DB::Connection {
    async fn fetch_all(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> Result<Vec<DB::Row>, sqlx::Error> {
        Runs::fetch_all(self, sql, args).await
    }
    async fn fetch_optional(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> Result<Option<DB::Row>, sqlx::Error> {
        Runs::fetch_optional(self, sql, args).await
    }
    async fn execute(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> Result<DB::QueryResult, sqlx::Error> {
        Runs::execute(self, sql, args).await
    }
}

impl<DB: Sql> On<DB> for &Pool<DB> {
    async fn fetch_all(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> Result<Vec<DB::Row>, sqlx::Error> {
        let mut conn = self.acquire().await?;
        Runs::fetch_all(&mut *conn, sql, args).await
    }
    async fn fetch_optional(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> Result<Option<DB::Row>, sqlx::Error> {
        let mut conn = self.acquire().await?;
        Runs::fetch_optional(&mut *conn, sql, args).await
    }
    async fn execute(
        self,
        sql: SqlStr,
        args: DB::Arguments,
    ) -> Result<DB::QueryResult, sqlx::Error> {
        let mut conn = self.acquire().await?;
        Runs::execute(&mut *conn, sql, args).await
    }
}

/// A statement and its bound values; its errors come back as [`StoreError`]s.
pub(crate) struct Statement<DB: Database> {
    sql: SqlStr,
    args: DB::Arguments,
    /// A value that could not be encoded; reported when the statement runs, as sqlx does.
    unbound: Option<BoxDynError>,
}

/// A statement with `$1..$N` placeholders.
pub(crate) fn query<DB: Sql>(sql: impl SqlSafeStr) -> Statement<DB> {
    Statement {
        sql: sql.into_sql_str(),
        args: Default::default(),
        unbound: None,
    }
}

impl<DB: Sql> Statement<DB> {
    pub(crate) fn bind<T: Param>(mut self, value: T) -> Self
    where
        DB: Binds<T::Wire>,
    {
        if self.unbound.is_none()
            && let Err(err) = DB::add(&mut self.args, value.wire())
        {
            self.unbound = Some(err);
        }
        self
    }

    fn parts(self) -> StoreResult<(SqlStr, DB::Arguments)> {
        match self.unbound {
            Some(err) => Err(DB::error(sqlx::Error::Encode(err))),
            None => Ok((self.sql, self.args)),
        }
    }

    /// Runs it; the number of rows it changed.
    pub(crate) async fn execute(self, on: impl On<DB>) -> StoreResult<u64> {
        let (sql, args) = self.parts()?;
        let done = on.execute(sql, args).await.map_err(DB::error)?;
        Ok(DB::rows_affected(&done))
    }

    /// Runs it; `NotFound` unless it changed a row.
    pub(crate) async fn execute_found(self, on: impl On<DB>) -> StoreResult<()> {
        match self.execute(on).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    pub(crate) async fn fetch_all(self, on: impl On<DB>) -> StoreResult<Vec<DB::Row>> {
        let (sql, args) = self.parts()?;
        on.fetch_all(sql, args).await.map_err(DB::error)
    }

    pub(crate) async fn fetch_optional(self, on: impl On<DB>) -> StoreResult<Option<DB::Row>> {
        let (sql, args) = self.parts()?;
        on.fetch_optional(sql, args).await.map_err(DB::error)
    }

    /// The first row; `NotFound` when there is none.
    pub(crate) async fn fetch_one(self, on: impl On<DB>) -> StoreResult<DB::Row> {
        self.fetch_optional(on).await?.ok_or(StoreError::NotFound)
    }

    /// The first column of the first row; `NotFound` when there is none.
    pub(crate) async fn scalar<T: Cell>(self, on: impl On<DB>) -> StoreResult<T>
    where
        DB: Reads<T::Wire>,
    {
        let row = self.fetch_one(on).await?;
        at::<DB, T>(&row, 0)
    }

    /// The first column of the first row, if there is one.
    pub(crate) async fn scalar_optional<T: Cell>(self, on: impl On<DB>) -> StoreResult<Option<T>>
    where
        DB: Reads<T::Wire>,
    {
        match self.fetch_optional(on).await? {
            Some(row) => at::<DB, T>(&row, 0).map(Some),
            None => Ok(None),
        }
    }

    /// The first column of every row.
    pub(crate) async fn scalars<T: Cell>(self, on: impl On<DB>) -> StoreResult<Vec<T>>
    where
        DB: Reads<T::Wire>,
    {
        let rows = self.fetch_all(on).await?;
        rows.iter().map(|row| at::<DB, T>(row, 0)).collect()
    }
}

/// The columns of a row, by name.
pub(crate) trait Columns: Row {
    fn col<T: Cell>(&self, column: &str) -> StoreResult<T>
    where
        Self::Database: Sql + Reads<T::Wire>;
}

impl<R: Row> Columns for R {
    fn col<T: Cell>(&self, column: &str) -> StoreResult<T>
    where
        R::Database: Sql + Reads<T::Wire>,
    {
        <R::Database as Reads<T::Wire>>::read(self, column)
            .map(T::from_wire)
            .map_err(<R::Database as Dialect>::error)
    }
}

fn at<DB, T>(row: &DB::Row, index: usize) -> StoreResult<T>
where
    DB: Sql + Reads<T::Wire>,
    T: Cell,
{
    DB::read_at(row, index).map(T::from_wire).map_err(DB::error)
}

/// A store over one of the databases: the reader pool and the write transaction.
pub(crate) trait SqlBackend: Send + Sync + 'static {
    type Db: Sql;
    /// A write transaction in progress.
    type Tx: std::ops::DerefMut<Target = <Self::Db as Database>::Connection> + Send;

    /// The pool that reads go through.
    fn reader(&self) -> &Pool<Self::Db>;
    /// A statement on this store's database.
    fn query(sql: impl SqlSafeStr) -> Statement<Self::Db> {
        query(sql)
    }
    fn begin(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;
    fn commit(tx: Self::Tx) -> impl Future<Output = StoreResult<()>> + Send;
    /// Ends the transaction after `cause`, leaving nothing of it behind.
    fn rollback(tx: Self::Tx, cause: &StoreError) -> impl Future<Output = ()> + Send;
    /// Told how each write ended (SQLite follows its storage faults from here).
    fn finished(&self, outcome: Result<(), &StoreError>) -> impl Future<Output = ()> + Send;
    /// Runs one write statement outside any transaction (see [`alone`]); its rows.
    fn run_alone(
        &self,
        statement: Statement<Self::Db>,
    ) -> impl Future<Output = StoreResult<Vec<<Self::Db as Database>::Row>>> + Send;
}

/// Runs `work` in one write transaction and commits it; on any error nothing of it stays.
pub(crate) async fn transaction<B: SqlBackend, T>(
    store: &B,
    work: impl AsyncFnOnce(&mut <B::Db as Database>::Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let outcome = async {
        let mut tx = store.begin().await?;
        match work(&mut tx).await {
            Ok(value) => B::commit(tx).await.map(|()| value),
            Err(err) => {
                B::rollback(tx, &err).await;
                Err(err)
            }
        }
    }
    .await;
    store.finished(outcome.as_ref().map(|_| ())).await;
    outcome
}

/// Runs one write statement as its own transaction; its rows (`RETURNING`). Both databases
/// apply a statement sent outside a transaction wholly or not at all, so it needs neither
/// BEGIN nor COMMIT: one round trip to the database instead of the three of [`transaction`],
/// for the one-statement write on the token endpoint's path (the values used once). Taking
/// the statement itself, it cannot be handed a second one.
pub(crate) async fn alone<B: SqlBackend>(
    store: &B,
    statement: Statement<B::Db>,
) -> StoreResult<Vec<<B::Db as Database>::Row>> {
    let outcome = store.run_alone(statement).await;
    store.finished(outcome.as_ref().map(|_| ())).await;
    outcome
}
