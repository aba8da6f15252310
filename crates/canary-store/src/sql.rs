//! The one way the store's SQL reaches a database: [`Db`], a connection to SQLite or to
//! PostgreSQL, with statements prepared once and cached, arguments as [`Arg`] and columns read
//! through [`Row::get`]. The SQL of each kind of data is written once, in the dialect both
//! engines share (`?1` placeholders, `ON CONFLICT`, `RETURNING`, `CASE` for a scalar minimum);
//! where the engines differ, the query asks [`Db::dialect`]. PostgreSQL's schema keeps every
//! integer a `BIGINT`, every real a `DOUBLE PRECISION` and every text in byte order (`COLLATE
//! "C"`), so that a value reads back as SQLite gives it.
//!
//! A transaction is a [`Tx`]: begun by the store's `begin_write`, committed by
//! [`Tx::commit`], rolled back when dropped uncommitted. Its statements run on the same
//! connection, so a function given a `&Db` works inside one or outside alike.

use std::collections::HashMap;

use crate::{BackendError, StoreError};

/// Which engine a connection talks to, for the few queries they spell differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection to the store's database.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Pg),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Postgres(_) => "Db::Postgres",
        })
    }
}

/// A PostgreSQL connection, driven by a thread of its own: the `postgres` client runs an
/// async runtime inside every call, which may not start on a thread that already drives one
/// (the server's, the engine's), so every statement is handed to the connection's thread and
/// its rows handed back in batches. Statements wait for each other as on one connection.
pub(crate) struct Pg {
    jobs: std::sync::mpsc::Sender<Job>,
    /// A query's rows are being read: another query now would wait for it forever.
    reading: std::cell::Cell<bool>,
}

/// Work for the connection's thread.
type Job = Box<dyn FnOnce(&mut PgConn) + Send>;

/// Rows handed back at a time.
const BATCH: usize = 256;

/// The most rows one multi-row statement writes ([`Db::insert_rows`]): 256 bars of 13
/// values are 3,328 arguments, far under either engine's limit (SQLite 32,766, PostgreSQL
/// 65,535).
pub(crate) const ROWS_AT_ONCE: usize = 256;

impl Pg {
    /// Connect on a new thread, which then runs the statements sent to it until the handle is
    /// dropped.
    pub fn start(config: postgres::Config) -> Result<Pg, postgres::Error> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let (ready, connected) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("canary-postgres".to_string())
            .spawn(move || {
                let client = match config.connect(postgres::NoTls) {
                    Ok(c) => {
                        let _ = ready.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let mut conn = PgConn {
                    client,
                    config,
                    statements: HashMap::new(),
                    in_transaction: false,
                };
                while let Ok(job) = queue.recv() {
                    job(&mut conn);
                }
            })
            .expect("a thread for the database connection");
        connected.recv().unwrap_or_else(|_| {
            unreachable!("the connection's thread says how connecting went before it ends")
        })?;
        Ok(Pg {
            jobs,
            reading: std::cell::Cell::new(false),
        })
    }

    /// Run `f` on the connection's thread and wait for what it gives.
    fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PgConn) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        if self.reading.get() {
            return Err(StoreError::Sql(BackendError::message(
                "a query was started while another's rows were being read (a defect)".to_string(),
            )));
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())
    }
}

fn gone() -> StoreError {
    StoreError::Sql(BackendError::message(
        "the database connection's thread has ended (a defect)".to_string(),
    ))
}

/// A statement's argument, owned, to travel to the connection's thread.
#[derive(Debug, Clone)]
enum OwnedArg {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
    Ints(Vec<i64>),
}

impl OwnedArg {
    fn of(a: &Arg<'_>) -> Self {
        match *a {
            Arg::Int(v) => OwnedArg::Int(v),
            Arg::Real(v) => OwnedArg::Real(v),
            Arg::Text(v) => OwnedArg::Text(v.map(str::to_string)),
            Arg::Blob(v) => OwnedArg::Blob(v.map(<[u8]>::to_vec)),
            Arg::Ints(v) => OwnedArg::Ints(v.to_vec()),
        }
    }

    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        match self {
            OwnedArg::Int(v) => v,
            OwnedArg::Real(v) => v,
            OwnedArg::Text(v) => v,
            OwnedArg::Blob(v) => v,
            OwnedArg::Ints(v) => v,
        }
    }
}

/// The connection itself, on its thread, with its prepared statements by the SQL they were
/// written in. A connection the server closed (a restart, a network cut) is opened again
/// before the next statement, unless it closed inside a transaction: that transaction is
/// lost, and its error says so; the next one opens a new connection.
pub(crate) struct PgConn {
    client: postgres::Client,
    config: postgres::Config,
    statements: HashMap<String, postgres::Statement>,
    in_transaction: bool,
}

impl PgConn {
    /// A live connection: the same one, or a new one if the server closed it between
    /// transactions.
    fn live(&mut self) -> Result<(), StoreError> {
        if !self.client.is_closed() {
            return Ok(());
        }
        if self.in_transaction {
            return Err(StoreError::Sql(BackendError::message(
                "the connection to the database server was lost during a write; nothing of it \
                 was stored (try again)"
                    .to_string(),
            )));
        }
        self.reconnect()
    }

    fn reconnect(&mut self) -> Result<(), StoreError> {
        self.client = self.config.connect(postgres::NoTls)?;
        self.statements.clear();
        Ok(())
    }

    /// Whether `e` says the connection was lost outside a transaction, so that the statement
    /// may be sent again on a new one: closed, or ended by the server (SQLSTATE 57P01
    /// `admin_shutdown`, 57P02 `crash_shutdown`, 57P03 `cannot_connect_now`).
    fn lost(&self, e: &postgres::Error) -> bool {
        let ended = e
            .code()
            .is_some_and(|c| matches!(c.code(), "57P01" | "57P02" | "57P03"));
        !self.in_transaction && (e.is_closed() || self.client.is_closed() || ended)
    }

    /// Run `f`, and once more on a new connection if the first found the old one lost
    /// outside a transaction.
    fn again<T>(
        &mut self,
        mut f: impl FnMut(&mut PgConn) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        match f(self) {
            Err(e) if self.lost(&e) => {
                self.reconnect()?;
                Ok(f(self)?)
            }
            r => Ok(r?),
        }
    }

    fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&placeholders(sql))?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// The SQL as PostgreSQL writes its placeholders: `?1` becomes `$1`, and a bare `?` the next
/// number. The store's SQL holds no `?` inside a literal.
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        out.push('$');
        if chars.peek().is_some_and(char::is_ascii_digit) {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
        } else {
            out.push_str(&next.to_string());
            next += 1;
        }
    }
    out
}

/// A value given to a statement. Each variant carries its own NULL, so that PostgreSQL knows
/// the type of a missing value as it knows a present one's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<&'a str>),
    Blob(Option<&'a [u8]>),
    /// A list of integers, as a PostgreSQL array (`= ANY(?1)`); SQLite has no such value.
    Ints(&'a [i64]),
}

/// A value that can be given to a statement, by reference (as `rusqlite::params!` takes them).
pub(crate) trait ToArg {
    fn arg(&self) -> Arg<'_>;
}

macro_rules! to_arg {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl ToArg for $t {
            fn arg(&self) -> Arg<'_> {
                let $v = self;
                $e
            }
        })*
    };
}

to_arg! {
    i64 => |v| Arg::Int(Some(*v));
    Option<i64> => |v| Arg::Int(*v);
    u32 => |v| Arg::Int(Some(i64::from(*v)));
    Option<u32> => |v| Arg::Int(v.map(i64::from));
    bool => |v| Arg::Int(Some(i64::from(*v)));
    f64 => |v| Arg::Real(Some(*v));
    Option<f64> => |v| Arg::Real(*v);
    str => |v| Arg::Text(Some(v));
    String => |v| Arg::Text(Some(v));
    Option<&str> => |v| Arg::Text(*v);
    Option<String> => |v| Arg::Text(v.as_deref());
    Vec<u8> => |v| Arg::Blob(Some(v));
    [u8] => |v| Arg::Blob(Some(v));
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn arg(&self) -> Arg<'_> {
        (**self).arg()
    }
}

/// The arguments of a statement: `args![a, b]` gives `a` and `b` by reference.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        &[$($crate::sql::ToArg::arg(&$a)),*][..]
    };
}
pub(crate) use args;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Ints(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "a list of values is bound on PostgreSQL only (a defect)".into(),
                ));
            }
            Arg::Int(Some(v)) => ValueRef::Integer(v),
            Arg::Real(Some(v)) => ValueRef::Real(v),
            Arg::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            Arg::Blob(Some(v)) => ValueRef::Blob(v),
            Arg::Int(None) | Arg::Real(None) | Arg::Text(None) | Arg::Blob(None) => ValueRef::Null,
        }))
    }
}

/// One column of the rows [`Db::insert_columns`] writes.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::Real(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    fn arg(&self, i: usize) -> Arg<'_> {
        match self {
            Column::Int(v) => Arg::Int(v[i]),
            Column::Real(v) => Arg::Real(v[i]),
            Column::Text(v) => Arg::Text(v[i].as_deref()),
        }
    }

    fn array_type(&self) -> &'static str {
        match self {
            Column::Int(_) => "bigint[]",
            Column::Real(_) => "double precision[]",
            Column::Text(_) => "text[]",
        }
    }

    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        match self {
            Column::Int(v) => v,
            Column::Real(v) => v,
            Column::Text(v) => v,
        }
    }
}

/// A row of a result, as either engine gives it.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as a `T`.
    pub fn get<T: Get>(&self, i: usize) -> Result<T, StoreError> {
        match self {
            Row::Sqlite(r) => T::sqlite(r, i),
            Row::Postgres(r) => T::postgres(r, i),
        }
    }
}

/// A type a column can be read as.
pub(crate) trait Get: Sized {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError>;
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError>;
}

fn pg_type(r: &postgres::Row, i: usize) -> Result<&postgres::types::Type, StoreError> {
    r.columns()
        .get(i)
        .map(postgres::Column::type_)
        .ok_or_else(|| {
            StoreError::Sql(BackendError::message(format!(
                "the query has no column {i}"
            )))
        })
}

fn wrong_type(i: usize, ty: &postgres::types::Type, want: &str) -> StoreError {
    StoreError::Sql(BackendError::message(format!(
        "column {i} is {ty}, not readable as {want}"
    )))
}

impl Get for i64 {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError> {
        Ok(r.get(i)?)
    }
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        use postgres::types::Type;
        let ty = pg_type(r, i)?;
        Ok(match *ty {
            Type::INT8 => r.try_get::<_, i64>(i)?,
            Type::INT4 => i64::from(r.try_get::<_, i32>(i)?),
            Type::INT2 => i64::from(r.try_get::<_, i16>(i)?),
            _ => return Err(wrong_type(i, ty, "an integer")),
        })
    }
}

impl Get for f64 {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError> {
        Ok(r.get(i)?)
    }
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        use postgres::types::Type;
        let ty = pg_type(r, i)?;
        Ok(match *ty {
            Type::FLOAT8 => r.try_get::<_, f64>(i)?,
            Type::FLOAT4 => f64::from(r.try_get::<_, f32>(i)?),
            #[expect(clippy::cast_precision_loss, reason = "as SQLite reads an integer")]
            Type::INT8 | Type::INT4 | Type::INT2 => i64::postgres(r, i)? as f64,
            _ => return Err(wrong_type(i, ty, "a number")),
        })
    }
}

impl Get for String {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError> {
        Ok(r.get(i)?)
    }
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        Ok(r.try_get(i)?)
    }
}

impl Get for Vec<u8> {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError> {
        Ok(r.get(i)?)
    }
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        Ok(r.try_get(i)?)
    }
}

impl Get for u32 {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError> {
        Ok(r.get(i)?)
    }
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        let v = i64::postgres(r, i)?;
        u32::try_from(v).map_err(|_| {
            StoreError::Sql(BackendError::message(format!(
                "column {i} holds {v}, out of range for a count"
            )))
        })
    }
}

impl Get for bool {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError> {
        Ok(r.get(i)?)
    }
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        Ok(i64::postgres(r, i)? != 0)
    }
}

/// Whether a PostgreSQL value is NULL, whatever its type.
struct IsNull(bool);

impl<'a> postgres::types::FromSql<'a> for IsNull {
    fn from_sql(
        _: &postgres::types::Type,
        _: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull(false))
    }
    fn from_sql_null(
        _: &postgres::types::Type,
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull(true))
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
}

impl<T: Get> Get for Option<T> {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self, StoreError> {
        if r.get_ref(i)? == rusqlite::types::ValueRef::Null {
            return Ok(None);
        }
        T::sqlite(r, i).map(Some)
    }
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        if r.try_get::<_, IsNull>(i)?.0 {
            return Ok(None);
        }
        T::postgres(r, i).map(Some)
    }
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Mark the connection inside a transaction or out of one.
    fn set_in_transaction(&self, yes: bool) {
        if let Db::Postgres(pg) = self {
            let _ = pg.run(move |c| c.in_transaction = yes);
        }
    }

    /// Run a statement; the number of rows it changed.
    pub fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        match self {
            Db::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args))?),
            Db::Postgres(pg) => {
                let (sql, args) = (sql.to_string(), owned(args));
                let n = pg.run(move |c| {
                    c.live()?;
                    c.again(|c| {
                        let stmt = c.prepare(&sql)?;
                        let params: Vec<_> = args.iter().map(OwnedArg::pg).collect();
                        c.client.execute(&stmt, &params)
                    })
                })??;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// Insert many rows in few statements: `head` is the statement up to `VALUES`, `tail`
    /// what follows the rows (`ON CONFLICT …`, or nothing), `args` each row's `width` values
    /// one row after another. The rows go in chunks of a power of two up to
    /// [`ROWS_AT_ONCE`], so that each engine prepares few distinct statements, and each
    /// chunk is one round trip to a server. The number of rows changed.
    pub fn insert_rows(
        &self,
        head: &str,
        tail: &str,
        width: usize,
        args: &[Arg<'_>],
    ) -> Result<usize, StoreError> {
        debug_assert!(width > 0 && args.len().is_multiple_of(width), "whole rows");
        let row = format!("({})", vec!["?"; width].join(", "));
        let mut changed = 0;
        let mut rest = args;
        while rest.len() >= width {
            let take = ROWS_AT_ONCE.min(1 << (rest.len() / width).ilog2());
            let (chunk, after) = rest.split_at(take * width);
            let sql = format!(
                "{head} VALUES {} {tail}",
                vec![row.as_str(); take].join(", ")
            );
            changed += self.exec(&sql, chunk)?;
            rest = after;
        }
        Ok(changed)
    }

    /// Insert rows given column by column: on SQLite as [`Db::insert_rows`]; on PostgreSQL
    /// in one statement whatever their number, each column an array unnested
    /// (`INSERT … SELECT * FROM UNNEST($1::bigint[], …)`), so that a batch is one round
    /// trip to the server. The rows are inserted in order. The number of rows changed.
    pub fn insert_columns(
        &self,
        head: &str,
        tail: &str,
        columns: Vec<Column>,
    ) -> Result<usize, StoreError> {
        let rows = columns.first().map_or(0, Column::len);
        debug_assert!(columns.iter().all(|c| c.len() == rows), "whole rows");
        if rows == 0 {
            return Ok(0);
        }
        match self {
            Db::Sqlite(_) => {
                let mut args = Vec::with_capacity(rows * columns.len());
                for i in 0..rows {
                    args.extend(columns.iter().map(|c| c.arg(i)));
                }
                self.insert_rows(head, tail, columns.len(), &args)
            }
            Db::Postgres(pg) => {
                let arrays: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("${}::{}", i + 1, c.array_type()))
                    .collect();
                let sql = format!("{head} SELECT * FROM UNNEST({}) {tail}", arrays.join(", "));
                let n = pg.run(move |c| {
                    c.live()?;
                    c.again(|c| {
                        let stmt = c.prepare(&sql)?;
                        let params: Vec<_> = columns.iter().map(Column::pg).collect();
                        c.client.execute(&stmt, &params)
                    })
                })??;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// Run statements with no arguments and no result (a schema, `BEGIN`, `COMMIT`).
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(pg) => {
                let sql = sql.to_string();
                pg.run(move |c| {
                    c.live()?;
                    c.again(|c| c.client.batch_execute(&sql))
                })?
            }
        }
    }

    /// Call `f` with each row of a query, in order, until it returns `false`. The rows are
    /// read as they come: `f` may not query the database itself.
    pub fn each(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                while let Some(r) = rows.next()? {
                    if !f(&Row::Sqlite(r))? {
                        break;
                    }
                }
                Ok(())
            }
            Db::Postgres(pg) => {
                if pg.reading.get() {
                    return pg.run(|_| ());
                }
                let (sql, args) = (sql.to_string(), owned(args));
                let (tx, batches) = std::sync::mpsc::sync_channel(2);
                pg.jobs
                    .send(Box::new(move |c| stream(c, &sql, &args, &tx)))
                    .map_err(|_| gone())?;
                // Reading: a query asked by `f` now is refused, not left waiting.
                pg.reading.set(true);
                let read = (|| {
                    for batch in &batches {
                        for r in &batch? {
                            if !f(&Row::Postgres(r))? {
                                return Ok(());
                            }
                        }
                    }
                    Ok(())
                })();
                // Dropping the receiver ends a stream not read to its end.
                drop(batches);
                pg.reading.set(false);
                read
            }
        }
    }

    /// Every row of a query, each made a `T` by `f`.
    pub fn all<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.each(sql, args, |r| {
            out.push(f(r)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// The first row of a query, if any, made a `T` by `f`.
    pub fn one<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut f = Some(f);
        let mut out = None;
        self.each(sql, args, |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(false)
        })?;
        Ok(out)
    }

    /// The first column of the first row of a query that always gives one (an aggregate).
    pub fn value<T: Get>(&self, sql: &str, args: &[Arg<'_>]) -> Result<T, StoreError> {
        self.one(sql, args, |r| r.get(0))?.ok_or_else(|| {
            StoreError::Sql(BackendError::message(format!(
                "no row from {}",
                canary_model::excerpt::quoted(sql)
            )))
        })
    }
}

fn owned(args: &[Arg<'_>]) -> Vec<OwnedArg> {
    args.iter().map(OwnedArg::of).collect()
}

/// On the connection's thread: a query's rows sent in batches to `out` until they end or the
/// reader goes; asked again on a new connection if the old one was found lost before any
/// row was sent.
fn stream(
    c: &mut PgConn,
    sql: &str,
    args: &[OwnedArg],
    out: &std::sync::mpsc::SyncSender<Result<Vec<postgres::Row>, StoreError>>,
) {
    let send_err = |e: StoreError| {
        let _ = out.send(Err(e));
    };
    if let Err(e) = c.live() {
        return send_err(e);
    }
    let mut tried = false;
    loop {
        let stmt = match c.again(|c| c.prepare(sql)) {
            Ok(s) => s,
            Err(e) => return send_err(e),
        };
        match send_rows(&mut c.client, &stmt, args, out) {
            Ok(()) => return,
            // No row was sent yet: the query may be asked again.
            Err(e) if !tried && c.lost(&e) => {
                tried = true;
                if let Err(e) = c.reconnect() {
                    return send_err(e);
                }
            }
            Err(e) => return send_err(e.into()),
        }
    }
}

/// A prepared query's rows sent in batches to `out` (an error reading one sent too), until
/// they end or the reader goes; the error when the query could not be asked.
fn send_rows(
    client: &mut postgres::Client,
    stmt: &postgres::Statement,
    args: &[OwnedArg],
    out: &std::sync::mpsc::SyncSender<Result<Vec<postgres::Row>, StoreError>>,
) -> Result<(), postgres::Error> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut rows = client.query_raw(stmt, args.iter().map(OwnedArg::pg))?;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        match rows.next() {
            Ok(Some(r)) => {
                batch.push(r);
                if batch.len() == BATCH && out.send(Ok(std::mem::take(&mut batch))).is_err() {
                    return Ok(());
                }
            }
            Ok(None) => {
                let _ = out.send(Ok(batch));
                return Ok(());
            }
            Err(e) => {
                let _ = out.send(Err(e.into()));
                return Ok(());
            }
        }
    }
}

/// An open write transaction on a [`Db`]: committed by [`Tx::commit`], rolled back if dropped
/// before.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    open: bool,
}

impl<'a> Tx<'a> {
    /// A transaction the caller has just begun on `db`.
    pub fn begun(db: &'a Db) -> Self {
        db.set_in_transaction(true);
        Tx { db, open: true }
    }

    pub fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        let done = self.db.batch("COMMIT");
        self.db.set_in_transaction(false);
        done
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves the connection in the transaction; the next begin
            // then fails and says so (or, on a closed connection, opens a new one).
            let _ = self.db.batch("ROLLBACK");
            self.db.set_in_transaction(false);
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Sql(BackendError::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_as_postgresql_writes_them() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = ?12"),
            "SELECT a FROM t WHERE b = $2 AND c = $1 AND d = $12"
        );
        assert_eq!(placeholders("VALUES (?, ?)"), "VALUES ($1, $2)");
    }
}
