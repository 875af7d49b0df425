//! One way to run SQL on either backend, in plain Rust.
//!
//! Both schemas use the same table and column names and both drivers accept `$1`
//! placeholders, so nearly every statement is written once. sqlx is generic over the
//! database only through trait bounds on every bound value and executor, which would
//! swamp each function; instead a statement's arguments are collected as [`Arg`]s and
//! bound to whichever driver the executor belongs to, and rows come back as [`Row`],
//! read by column name with the few types we store (integers, text, booleans, bytes and
//! one float score).

use sqlx::postgres::{PgConnection, PgPool, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Type};

use crate::sqlite::WriteTx;
use crate::{Backend, Result};

/// A value bound to a statement, typed even when null: PostgreSQL refuses a `TEXT` null
/// for a `BIGINT` column.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// What may be bound to a statement.
pub trait IntoArg {
    fn into_arg(self) -> Arg;
    /// The null of this value's type, for `None`.
    fn null() -> Arg
    where
        Self: Sized;
}

macro_rules! into_arg {
    ($($t:ty => $variant:ident($conv:expr)),* $(,)?) => {$(
        impl IntoArg for $t {
            fn into_arg(self) -> Arg {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(Some(($conv)(self)))
            }
            fn null() -> Arg {
                Arg::$variant(None)
            }
        }
    )*};
}

into_arg! {
    i64 => Int(|v| v),
    i32 => Int(i64::from),
    u32 => Int(i64::from),
    f64 => Float(|v| v),
    bool => Bool(|v| v),
    String => Text(|v| v),
    &str => Text(str::to_owned),
    Vec<u8> => Bytes(|v| v),
    &[u8] => Bytes(<[u8]>::to_vec),
}

impl<T: IntoArg> IntoArg for Option<T> {
    fn into_arg(self) -> Arg {
        match self {
            Some(v) => v.into_arg(),
            None => T::null(),
        }
    }
    fn null() -> Arg {
        T::null()
    }
}

impl<T: IntoArg + Clone> IntoArg for &T {
    fn into_arg(self) -> Arg {
        self.clone().into_arg()
    }
    fn null() -> Arg {
        T::null()
    }
}

/// Where a statement runs: a pool (reads, single statements) or a connection inside a
/// transaction.
pub enum Exec<'e> {
    SqlitePool(&'e SqlitePool),
    Sqlite(&'e mut SqliteConnection),
    PgPool(&'e PgPool),
    Pg(&'e mut PgConnection),
}

/// The backend's pool, for reads outside a transaction.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl<'e> From<&'e Pool> for Exec<'e> {
    fn from(p: &'e Pool) -> Self {
        match p {
            Pool::Sqlite(p) => Exec::SqlitePool(p),
            Pool::Postgres(p) => Exec::PgPool(p),
        }
    }
}

/// A write transaction on either backend. On SQLite it is a savepoint in the single
/// writer's group-commit batch; on PostgreSQL an ordinary transaction. Dropped without
/// [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: TxInner,
}

enum TxInner {
    Sqlite(WriteTx),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn sqlite(tx: WriteTx) -> Self {
        Tx {
            inner: TxInner::Sqlite(tx),
        }
    }

    pub(crate) fn postgres(tx: sqlx::Transaction<'static, Postgres>) -> Self {
        Tx {
            inner: TxInner::Postgres(tx),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Keeps the transaction's writes; returns once they are durable.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await,
            TxInner::Postgres(tx) => Ok(tx.commit().await?),
        }
    }
}

/// One statement and its arguments, run by [`Query::execute`] or a `fetch_*`.
#[must_use]
pub struct Query {
    sql: String,
    args: Vec<Arg>,
}

/// A statement with `$n` placeholders.
pub fn query(sql: impl Into<String>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// A statement whose first column is the answer.
pub fn query_scalar<T: ColType>(sql: impl Into<String>) -> Scalar<T> {
    Scalar {
        query: query(sql),
        _t: std::marker::PhantomData,
    }
}

type SqliteQuery = sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments>;
type PgQuery = sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments>;

/// The statement with its arguments bound, for SQLite.
fn on_sqlite(sql: String, args: Vec<Arg>) -> SqliteQuery {
    args.into_iter()
        .fold(sqlx::query(AssertSqlSafe(sql)), |q, a| match a {
            Arg::Int(v) => q.bind(v),
            Arg::Float(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
        })
}

/// The statement with its arguments bound, for PostgreSQL.
fn on_postgres(sql: String, args: Vec<Arg>) -> PgQuery {
    args.into_iter()
        .fold(sqlx::query(AssertSqlSafe(sql)), |q, a| match a {
            Arg::Int(v) => q.bind(v),
            Arg::Float(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
        })
}

impl Query {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.args.push(value.into_arg());
        self
    }

    /// Rows affected.
    pub async fn execute<'e>(self, exec: impl Into<Exec<'e>>) -> Result<u64> {
        let Query { sql, args } = self;
        let done = match exec.into() {
            Exec::SqlitePool(p) => on_sqlite(sql, args).execute(p).await?.rows_affected(),
            Exec::Sqlite(c) => on_sqlite(sql, args).execute(c).await?.rows_affected(),
            Exec::PgPool(p) => on_postgres(sql, args).execute(p).await?.rows_affected(),
            Exec::Pg(c) => on_postgres(sql, args).execute(c).await?.rows_affected(),
        };
        Ok(done)
    }

    pub async fn fetch_all<'e>(self, exec: impl Into<Exec<'e>>) -> Result<Vec<Row>> {
        let Query { sql, args } = self;
        let rows = match exec.into() {
            Exec::SqlitePool(p) => sqlite_rows(on_sqlite(sql, args).fetch_all(p).await?),
            Exec::Sqlite(c) => sqlite_rows(on_sqlite(sql, args).fetch_all(c).await?),
            Exec::PgPool(p) => pg_rows(on_postgres(sql, args).fetch_all(p).await?),
            Exec::Pg(c) => pg_rows(on_postgres(sql, args).fetch_all(c).await?),
        };
        Ok(rows)
    }

    pub async fn fetch_optional<'e>(self, exec: impl Into<Exec<'e>>) -> Result<Option<Row>> {
        let Query { sql, args } = self;
        let row = match exec.into() {
            Exec::SqlitePool(p) => on_sqlite(sql, args)
                .fetch_optional(p)
                .await?
                .map(Row::Sqlite),
            Exec::Sqlite(c) => on_sqlite(sql, args)
                .fetch_optional(c)
                .await?
                .map(Row::Sqlite),
            Exec::PgPool(p) => on_postgres(sql, args)
                .fetch_optional(p)
                .await?
                .map(Row::Postgres),
            Exec::Pg(c) => on_postgres(sql, args)
                .fetch_optional(c)
                .await?
                .map(Row::Postgres),
        };
        Ok(row)
    }

    pub async fn fetch_one<'e>(self, exec: impl Into<Exec<'e>>) -> Result<Row> {
        self.fetch_optional(exec)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }
}

fn sqlite_rows(rows: Vec<SqliteRow>) -> Vec<Row> {
    rows.into_iter().map(Row::Sqlite).collect()
}

fn pg_rows(rows: Vec<PgRow>) -> Vec<Row> {
    rows.into_iter().map(Row::Postgres).collect()
}

/// A query read as the value of its first column.
#[must_use]
pub struct Scalar<T> {
    query: Query,
    _t: std::marker::PhantomData<T>,
}

impl<T: ColType> Scalar<T> {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_one<'e>(self, exec: impl Into<Exec<'e>>) -> Result<T> {
        Ok(self.query.fetch_one(exec).await?.try_get(0usize)?)
    }

    pub async fn fetch_optional<'e>(self, exec: impl Into<Exec<'e>>) -> Result<Option<T>> {
        match self.query.fetch_optional(exec).await? {
            Some(row) => Ok(Some(row.try_get(0usize)?)),
            None => Ok(None),
        }
    }

    pub async fn fetch_all<'e>(self, exec: impl Into<Exec<'e>>) -> Result<Vec<T>> {
        self.query
            .fetch_all(exec)
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0usize)?))
            .collect()
    }
}

/// Several statements in one string, no arguments (migrations, index rebuilds).
pub async fn raw_execute<'e>(sql: &str, exec: impl Into<Exec<'e>>) -> Result<()> {
    let sql = AssertSqlSafe(sql.to_owned());
    match exec.into() {
        Exec::SqlitePool(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ())?,
        Exec::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ())?,
        Exec::PgPool(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ())?,
        Exec::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ())?,
    }
    Ok(())
}

/// A type both drivers decode from a column.
pub trait ColType:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl<T> ColType for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

/// A column index both drivers accept: a name or a position.
pub trait ColIndex: ColumnIndex<SqliteRow> + ColumnIndex<PgRow> {}
impl<I: ColumnIndex<SqliteRow> + ColumnIndex<PgRow>> ColIndex for I {}

/// A row from either backend.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    pub fn try_get<T: ColType, I: ColIndex>(
        &self,
        index: I,
    ) -> std::result::Result<T, sqlx::Error> {
        use sqlx::Row as _;
        match self {
            Row::Sqlite(r) => r.try_get(index),
            Row::Postgres(r) => r.try_get(index),
        }
    }
}

/// Builds a statement piece by piece, numbering placeholders as values are pushed.
#[derive(Default)]
pub struct SqlBuilder {
    sql: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    pub fn new(sql: impl Into<String>) -> Self {
        SqlBuilder {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: impl AsRef<str>) -> &mut Self {
        self.sql.push_str(sql.as_ref());
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind(&mut self, value: impl IntoArg) -> &mut Self {
        self.args.push(value.into_arg());
        self.sql.push('$');
        self.sql.push_str(&self.args.len().to_string());
        self
    }

    pub fn build(self) -> Query {
        Query {
            sql: self.sql,
            args: self.args,
        }
    }
}

/// Something statements run on, again and again: a write transaction, or a pool for
/// reads. Row functions take `&mut impl Db` so they serve both.
pub trait Db: Send {
    fn backend(&self) -> Backend;
    fn exec(&mut self) -> Exec<'_>;
}

impl Db for Tx {
    fn backend(&self) -> Backend {
        Tx::backend(self)
    }
    fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Exec::Sqlite(t),
            TxInner::Postgres(t) => Exec::Pg(t),
        }
    }
}

impl Db for &Pool {
    fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }
    fn exec(&mut self) -> Exec<'_> {
        Exec::from(&**self)
    }
}

impl Db for SqliteConnection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    fn exec(&mut self) -> Exec<'_> {
        Exec::Sqlite(self)
    }
}

impl Db for PgConnection {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn exec(&mut self) -> Exec<'_> {
        Exec::Pg(self)
    }
}

impl<'e, D: Db> From<&'e mut D> for Exec<'e> {
    fn from(db: &'e mut D) -> Self {
        db.exec()
    }
}

/// What each dialect writes its own way, as SQL fragments.
impl Backend {
    /// Appended to the `SELECT` that reads a ticket about to be changed in a write
    /// transaction. PostgreSQL: another node changing the same ticket waits here.
    /// SQLite: nothing, the IMMEDIATE batch already holds the database's write lock.
    pub(crate) fn row_lock(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Appended to the `SELECT`s that claim work (due SLA checks, deliveries), so
    /// several nodes claim at once without overlap; SQLite's single writer already
    /// keeps claims apart.
    pub(crate) fn claim_lock(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Whether `i.raw` (a received message's bytes) contains `text/html`.
    pub(crate) fn raw_has_html(self) -> &'static str {
        match self {
            // `instr` on two blobs compares bytes (`X'…'` is `text/html`).
            Backend::Sqlite => "(instr(i.raw, X'746578742f68746d6c') > 0)",
            // `position` on bytea compares bytes.
            Backend::Postgres => "(position(convert_to('text/html', 'UTF8') in i.raw) > 0)",
        }
    }

    /// The expression that draws a new ticket's number inside its `INSERT`.
    pub(crate) fn next_ticket_number(self) -> &'static str {
        match self {
            // Only the writer's lock serialises numbering: the IMMEDIATE batch holds it.
            Backend::Sqlite => "(SELECT COALESCE(MAX(number), 1000) + 1 FROM tickets)",
            // A sequence, so nodes never hand out the same number.
            Backend::Postgres => "nextval('ticket_number_seq')",
        }
    }
}

/// Values pushed into a builder with a separator between them.
pub struct Separated<'b> {
    builder: &'b mut SqlBuilder,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    pub fn push_bind(&mut self, value: impl IntoArg) -> &mut Self {
        if !self.first {
            self.builder.sql.push_str(self.separator);
        }
        self.first = false;
        self.builder.push_bind(value);
        self
    }
}

impl SqlBuilder {
    pub fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated {
            builder: self,
            separator,
            first: true,
        }
    }

    /// ` VALUES (…), (…)`: one row per item, its values pushed by `row`.
    pub fn push_values<I: IntoIterator>(
        &mut self,
        items: I,
        mut row: impl FnMut(Separated<'_>, I::Item),
    ) -> &mut Self {
        self.sql.push_str("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.sql.push('(');
            row(self.separated(", "), item);
            self.sql.push(')');
        }
        self
    }

    pub fn build_scalar<T: ColType>(self) -> Scalar<T> {
        Scalar {
            query: self.build(),
            _t: std::marker::PhantomData,
        }
    }
}

/// A row read as a tuple of its columns, in order.
pub trait FromColumns: Sized {
    fn from_columns(row: &Row) -> Result<Self>;
}

macro_rules! tuple_from_columns {
    ($($t:ident $i:tt),+) => {
        impl<$($t: ColType),+> FromColumns for ($($t,)+) {
            fn from_columns(row: &Row) -> Result<Self> {
                Ok(($(row.try_get::<$t, usize>($i)?,)+))
            }
        }
    };
}

tuple_from_columns!(A 0, B 1);
tuple_from_columns!(A 0, B 1, C 2);
tuple_from_columns!(A 0, B 1, C 2, D 3);

/// A statement whose rows are read as tuples.
pub fn query_as<T: FromColumns>(sql: impl Into<String>) -> QueryAs<T> {
    QueryAs {
        query: query(sql),
        _t: std::marker::PhantomData,
    }
}

#[must_use]
pub struct QueryAs<T> {
    query: Query,
    _t: std::marker::PhantomData<T>,
}

impl<T: FromColumns> QueryAs<T> {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_one<'e>(self, exec: impl Into<Exec<'e>>) -> Result<T> {
        T::from_columns(&self.query.fetch_one(exec).await?)
    }

    pub async fn fetch_optional<'e>(self, exec: impl Into<Exec<'e>>) -> Result<Option<T>> {
        match self.query.fetch_optional(exec).await? {
            Some(row) => Ok(Some(T::from_columns(&row)?)),
            None => Ok(None),
        }
    }

    pub async fn fetch_all<'e>(self, exec: impl Into<Exec<'e>>) -> Result<Vec<T>> {
        self.query
            .fetch_all(exec)
            .await?
            .iter()
            .map(T::from_columns)
            .collect()
    }
}

impl<D: Db + ?Sized> Db for &mut D {
    fn backend(&self) -> Backend {
        (**self).backend()
    }
    fn exec(&mut self) -> Exec<'_> {
        (**self).exec()
    }
}
