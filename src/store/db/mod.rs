//! The database: one connection to the store's engine, SQLite or
//! PostgreSQL, spoken to in one dialect of SQL so every store behaviour is
//! written once.
//!
//! The dialect is SQLite's placeholders (`?1`) and the portable subset both
//! engines share (`INSERT ... ON CONFLICT`, `RETURNING`, `coalesce`), plus
//! `greatest(a, b)`, which SQLite spells `max(a, b)`. Parameters and results
//! travel as a few plain [`Value`]s, converted to each engine's types at the
//! edge, so the store's code never names an engine. Schema definitions are
//! the one thing each engine has of its own (see `schema`).
//!
//! A write transaction is serialized against every other writer: SQLite's
//! `BEGIN IMMEDIATE`, PostgreSQL's transaction-scoped advisory lock. So a
//! listing folds into stories the same way on both, even with several byline
//! processes writing to one PostgreSQL.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

mod tls;
mod value;

use tls::Tls;

pub(crate) use value::{Param, Row, Value, params};

/// The advisory lock every PostgreSQL write transaction takes (any number
/// unlikely to clash with another application's: "byline" in ASCII).
const WRITE_LOCK: i64 = 0x0000_6279_6c69_6e65;

/// Why a statement failed, as the engine said it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("column {column}: expected {expected}, found {found}")]
    Type {
        column: usize,
        expected: &'static str,
        found: String,
    },
    #[error("the query returned no row")]
    NoRow,
    /// A `postgres://` url whose TLS keys could not be followed.
    #[error("{0}")]
    Url(String),
}

/// PostgreSQL's own message (with its detail), not the client's summary
/// "db error"; any other error with its causes, which the client's summary
/// ("error performing TLS handshake") leaves out.
pub fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text.push_str(": ");
                text.push_str(&c.to_string());
                cause = c.source();
            }
            text
        }
    }
}

impl DbError {
    /// Did a PostgreSQL transaction fail only because another ran beside it
    /// (a deadlock, a serialization failure, a story inserted at the same
    /// moment)? Running it again succeeds.
    pub(super) fn is_conflict(&self) -> bool {
        use postgres::error::SqlState;
        match self {
            DbError::Postgres(e) => e.code().is_some_and(|c| {
                [
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::UNIQUE_VIOLATION,
                ]
                .contains(c)
            }),
            _ => false,
        }
    }

    /// Is this SQLite saying the file is damaged or not a database?
    pub(super) fn is_damage(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            _ => false,
        }
    }
}

/// Which engine a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

/// One connection. Methods take `&self`, as rusqlite's do, so a
/// transaction can be handed to helpers by shared reference.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<RefCell<Pg>>),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Postgres(_) => "Db::Postgres",
        })
    }
}

/// A PostgreSQL client with its prepared statements, by dialect text.
pub(crate) struct Pg {
    client: Closing,
    statements: HashMap<String, postgres::Statement>,
    /// How to connect again after the server went away.
    config: postgres::Config,
    tls: Tls,
    /// The server process of this session (notifications name it).
    pid: i64,
}

impl Db {
    /// Connect to PostgreSQL at `url`, waiting at most `timeout` for the server.
    pub(crate) fn postgres(url: &str, timeout: Duration) -> Result<Db, DbError> {
        let (config, tls) = pg_config(url)?;
        let mut config = postgres::Config::from(config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        config.application_name("byline");
        Ok(Db::Postgres(Box::new(RefCell::new(Pg::connect(
            config, tls,
        )?))))
    }

    /// The PostgreSQL server process of this connection, if it is one.
    pub(crate) fn backend_pid(&self) -> Option<i64> {
        match self {
            Db::Sqlite(_) => None,
            Db::Postgres(pg) => Some(pg.borrow().pid),
        }
    }

    pub(crate) fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, checks).
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    /// Run statements with no parameters and no results (schema changes).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(pg) => with_pg(pg, |pg| {
                pg.reconnect_if_closed()?;
                Ok(pg.client.batch_execute(sql)?)
            }),
        }
    }

    /// Run one statement; how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        self.run(sql, params, true)
    }

    /// Run a statement that runs once (a bulk insert): not kept prepared.
    pub(crate) fn execute_once(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        self.run(sql, params, false)
    }

    fn run(&self, sql: &str, params: &[&dyn Param], keep: bool) -> Result<u64, DbError> {
        let values = values(params);
        match self {
            Db::Sqlite(c) => {
                let (sql, params) = (sqlite_dialect(sql), rusqlite::params_from_iter(values));
                let n = if keep {
                    c.prepare_cached(&sql)?.execute(params)?
                } else {
                    c.prepare(&sql)?.execute(params)?
                };
                Ok(n as u64)
            }
            Db::Postgres(pg) => with_pg(pg, |pg| {
                let stmt = if keep {
                    pg.statement(sql)?
                } else {
                    pg.reconnect_if_closed()?;
                    pg.client.prepare(&postgres_dialect(sql))?
                };
                Ok(pg.client.execute(&stmt, &pg_refs(&values))?)
            }),
        }
    }

    /// Every row a query returns.
    pub(crate) fn query(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, DbError> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(&sqlite_dialect(sql))?;
                let n = stmt.column_count();
                let rows = stmt.query_map(rusqlite::params_from_iter(values(params)), |r| {
                    (0..n).map(|i| sqlite_value(r, i)).collect::<Result<_, _>>()
                })?;
                Ok(rows.map(|r| r.map(Row::new)).collect::<Result<_, _>>()?)
            }
            Db::Postgres(pg) => {
                let values = values(params);
                with_pg(pg, |pg| {
                    let stmt = pg.statement(sql)?;
                    pg.client
                        .query(&stmt, &pg_refs(&values))?
                        .iter()
                        .map(pg_row)
                        .collect()
                })
            }
        }
    }

    /// The first row of a query, if any.
    pub(crate) fn query_opt(
        &self,
        sql: &str,
        params: &[&dyn Param],
    ) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query, which must have one.
    pub(crate) fn query_one(&self, sql: &str, params: &[&dyn Param]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or(DbError::NoRow)
    }

    /// Begin a write transaction. SQLite runs one at a time; PostgreSQL's
    /// run side by side (READ COMMITTED), each locking the stories it folds,
    /// and one that meets another's change at the same moment fails with a
    /// [`DbError::is_conflict`] error, to be run again. Dropped without
    /// [`Tx::commit`], it rolls back.
    pub(crate) fn write_tx(&self) -> Result<Tx<'_>, DbError> {
        match self {
            Db::Sqlite(_) => self.batch("BEGIN IMMEDIATE")?,
            Db::Postgres(_) => self.batch("BEGIN")?,
        }
        Ok(Tx {
            db: self,
            done: false,
        })
    }

    /// Begin a write transaction that no other writer runs beside, on
    /// either engine: for schema migrations and copies.
    pub(crate) fn exclusive_tx(&self) -> Result<Tx<'_>, DbError> {
        match self {
            Db::Sqlite(_) => self.batch("BEGIN IMMEDIATE")?,
            Db::Postgres(_) => {
                self.batch("BEGIN")?;
                let tx = Tx {
                    db: self,
                    done: false,
                };
                tx.execute("SELECT pg_advisory_xact_lock(?1)", params![WRITE_LOCK])?;
                return Ok(tx);
            }
        }
        Ok(Tx {
            db: self,
            done: false,
        })
    }
}

/// The settings of a `postgres://` url and the TLS they ask for (see
/// `tls`); a password missing from it is taken from `PGPASSWORD`, as
/// PostgreSQL's own tools do, so it need not sit in a config file or on a
/// command line.
pub fn pg_config(url: &str) -> Result<(tokio_postgres::Config, Tls), DbError> {
    let target = tls::target(url).map_err(DbError::Url)?;
    let tls = target.tls().map_err(DbError::Url)?;
    let mut config = target.config;
    if config.get_password().is_none()
        && let Some(password) = std::env::var_os("PGPASSWORD")
    {
        config.password(password.as_encoded_bytes());
    }
    Ok((config, tls))
}

/// The synchronous client runs a runtime of its own, and closing it blocks
/// on it: a store dropped on an async thread (the last clone of a handle
/// going out of scope in a task) closes its client on a thread of its own.
struct Closing(Option<postgres::Client>);

impl std::ops::Deref for Closing {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        self.0.as_ref().expect("a client until dropped")
    }
}

impl std::ops::DerefMut for Closing {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        self.0.as_mut().expect("a client until dropped")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(client) = self.0.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            // Closing cannot fail in a way anyone could act on.
            let _ = std::thread::Builder::new()
                .name("byline-pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

/// `f` on the connection. Like every store call it blocks: async callers
/// run store calls in `spawn_blocking` (the client blocks on a runtime of
/// its own, which tokio refuses inside an async task).
fn with_pg<T>(
    cell: &RefCell<Pg>,
    f: impl FnOnce(&mut Pg) -> Result<T, DbError>,
) -> Result<T, DbError> {
    f(&mut cell.borrow_mut())
}

impl Pg {
    /// A session the server closed (a restart, a failover) is opened
    /// again, so the store recovers without restarting byline.
    fn reconnect_if_closed(&mut self) -> Result<(), DbError> {
        if self.client.is_closed() {
            *self = Pg::connect(self.config.clone(), self.tls.clone())?;
        }
        Ok(())
    }

    fn connect(config: postgres::Config, tls: Tls) -> Result<Pg, DbError> {
        let mut client = config.connect(tls.clone())?;
        // Statements stay prepared for the session, and after five runs
        // PostgreSQL may switch one to a generic plan made from the table
        // statistics of that moment: on a store that was empty then (every
        // new replica's), a feed read became a scan costing 5-70 ms where
        // its index takes 0.1 ms. Planning each run costs microseconds.
        client.batch_execute("SET plan_cache_mode = force_custom_plan")?;
        let pid = client
            .query_one("SELECT pg_backend_pid()", &[])?
            .get::<_, i32>(0);
        Ok(Pg {
            client: Closing(Some(client)),
            statements: HashMap::new(),
            config,
            tls,
            pid: i64::from(pid),
        })
    }

    /// The prepared statement of `sql`, prepared once per connection. A
    /// session the server closed (a restart, a failover) is opened again
    /// first, so the store recovers without restarting byline.
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        self.reconnect_if_closed()?;
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&postgres_dialect(sql))?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// A write transaction; derefs to its connection.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    done: bool,
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<(), DbError> {
        self.done = true;
        self.db.batch("COMMIT")
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
        if !self.done {
            // A failed rollback leaves a broken connection, which the next
            // statement reports.
            let _ = self.db.batch("ROLLBACK");
        }
    }
}

fn values(params: &[&dyn Param]) -> Vec<Value> {
    params.iter().map(|p| p.value()).collect()
}

fn pg_refs(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// `greatest(` is SQLite's two-argument `max(`.
fn sqlite_dialect(sql: &str) -> std::borrow::Cow<'_, str> {
    if sql.contains("greatest(") {
        sql.replace("greatest(", "max(").into()
    } else {
        sql.into()
    }
}

/// `?N` placeholders become `$N`; SQLite's planner hint `CROSS JOIN ... ON`
/// (keep the left table outermost) a plain `JOIN`; and `DESC` keeps SQLite's
/// place for a missing value, `NULLS LAST`. Quoted text is left alone.
fn postgres_dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut quoted = false;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match word.as_str() {
            "CROSS" => {}
            "DESC" => out.push_str("DESC NULLS LAST"),
            w => out.push_str(w),
        }
        word.clear();
    };
    for c in sql.chars() {
        if quoted {
            out.push(c);
            quoted = c != '\'';
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        let dropped = word == "CROSS";
        flush(&mut word, &mut out);
        match c {
            '\'' => {
                quoted = true;
                out.push(c);
            }
            '?' => out.push('$'),
            // The space after a dropped `CROSS`.
            ' ' if dropped => {}
            c => out.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

fn sqlite_value(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Value> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i)? {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        // The store writes no reals or blobs; one read back is shown as text.
        ValueRef::Real(f) => Value::Text(f.to_string()),
        ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
    })
}

fn pg_row(r: &postgres::Row) -> Result<Row, DbError> {
    let mut values = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|n| Value::Int(i64::from(n)))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|n| Value::Int(i64::from(n)))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map(|b| Value::Int(i64::from(b)))
        } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(ty) {
            r.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(DbError::Type {
                column: i,
                expected: "an integer, a flag or text",
                found: ty.name().to_owned(),
            });
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row::new(values))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// A value goes out as the type PostgreSQL inferred for its placeholder.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) if *ty == Type::BOOL => (*n != 0).to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT8 => n.to_sql(ty, out),
            Value::Int(n) => Err(format!("{n} given where PostgreSQL expects {ty}").into()),
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            postgres_dialect("SELECT '?' , x FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?' , x FROM t WHERE a = $1 AND b = $12"
        );
        assert_eq!(
            postgres_dialect("SELECT 'DESC' FROM a CROSS JOIN b ON a.k = b.k ORDER BY a.d DESC, k"),
            "SELECT 'DESC' FROM a JOIN b ON a.k = b.k ORDER BY a.d DESC NULLS LAST, k"
        );
        assert_eq!(
            sqlite_dialect("SET a = greatest(a, ?2)"),
            "SET a = max(a, ?2)"
        );
    }
}
