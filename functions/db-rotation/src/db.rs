//! The database, as the rotation sees it: log in with a version's password,
//! change the logged-in user's own password, run the test query. Each call
//! opens its own connection (TCP, TLS as configured, as the app connects:
//! `app/src/db.rs`) and closes it.
//!
//! [`Database`] is the seam the shell's tests replace; [`MariaDb`] is the
//! real one (MariaDB and MySQL alike, through mysql_async on rustls and ring).

use crate::credentials::{Credentials, Password};
use crate::decide::{Login, set_password_statement};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;
use tandem_core::text::shorten_values;

/// How long one connection's work (connect, TLS, log in, queries) may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// MySQL's and MariaDB's "access denied" at login.
pub const ACCESS_DENIED: u16 = 1045;

/// Whether connections to the database use TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTls {
    /// TLS with the server's certificate and name verified against these
    /// roots, or against the built-in web roots when `None`.
    Required {
        /// A PEM bundle of trusted certificate authorities.
        ca_file: Option<PathBuf>,
    },
    /// Plain TCP (local tests only, set explicitly).
    Disabled,
}

/// Why the database could not be used, in one sentence naming where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// Connecting or logging in failed for another reason than a refused password.
    #[error(
        "the database at {endpoint} could not be reached as {user} ({reason}); check that the writer is up, that \
         this function's security group reaches it, and its TLS certificate"
    )]
    Unreachable {
        /// `host:port`.
        endpoint: String,
        /// The user.
        user: String,
        /// The driver's account of it.
        reason: String,
    },
    /// The password was refused where it had to work.
    #[error("the database at {endpoint} refused the {stage} password of {user} (access denied)")]
    Refused {
        /// `host:port`.
        endpoint: String,
        /// The user.
        user: String,
        /// The secret's stage whose password it was.
        stage: String,
    },
    /// A statement failed.
    #[error("{what} as {user} on the database at {endpoint} failed ({reason})")]
    Statement {
        /// What was run, in words.
        what: &'static str,
        /// `host:port`.
        endpoint: String,
        /// The user.
        user: String,
        /// The driver's account of it, without the password.
        reason: String,
    },
    /// The attempt did not finish in time.
    #[error("the database at {endpoint} did not answer within {} s", ATTEMPT_TIMEOUT.as_secs())]
    Timeout {
        /// `host:port`.
        endpoint: String,
    },
}

/// A future of the [`Database`] calls.
pub type DbFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DbError>> + Send + 'a>>;

/// What the rotation does to the database.
pub trait Database: Send + Sync {
    /// Whether `who`'s password logs in (closing the connection again).
    fn log_in<'a>(&'a self, who: &'a Credentials) -> DbFuture<'a, Login>;
    /// Logs in as `who` (whose password is `stage`'s) and sets the user's
    /// own password to `new`.
    fn set_own_password<'a>(&'a self, who: &'a Credentials, stage: &'a str, new: &'a Password) -> DbFuture<'a, ()>;
    /// Logs in as `who` (whose password is `stage`'s) and runs `SELECT NOW()`.
    fn select_now<'a>(&'a self, who: &'a Credentials, stage: &'a str) -> DbFuture<'a, ()>;
}

/// The real database, over TCP with TLS as configured.
pub struct MariaDb {
    tls: DbTls,
}

impl MariaDb {
    /// A database reached with `tls`.
    pub fn new(tls: DbTls) -> Self {
        Self { tls }
    }

    /// A connection as `who`; `None` when the password is refused.
    async fn connect(&self, who: &Credentials) -> Result<Option<Conn>, DbError> {
        match Conn::new(opts(who, &self.tls)).await {
            Ok(conn) => Ok(Some(conn)),
            Err(mysql_async::Error::Server(e)) if e.code == ACCESS_DENIED => Ok(None),
            Err(e) => Err(DbError::Unreachable {
                endpoint: who.endpoint(),
                user: who.username.clone(),
                reason: shorten_values(&e.to_string()),
            }),
        }
    }

    /// A connection as `who`, whose password must work.
    async fn must_connect(&self, who: &Credentials, stage: &str) -> Result<Conn, DbError> {
        self.connect(who).await?.ok_or_else(|| DbError::Refused {
            endpoint: who.endpoint(),
            user: who.username.clone(),
            stage: stage.to_owned(),
        })
    }
}

/// `work`, given [`ATTEMPT_TIMEOUT`].
async fn in_time<T>(who: &Credentials, work: impl Future<Output = Result<T, DbError>>) -> Result<T, DbError> {
    tokio::time::timeout(ATTEMPT_TIMEOUT, work).await.unwrap_or_else(|_| {
        Err(DbError::Timeout {
            endpoint: who.endpoint(),
        })
    })
}

impl Database for MariaDb {
    fn log_in<'a>(&'a self, who: &'a Credentials) -> DbFuture<'a, Login> {
        Box::pin(in_time(who, async move {
            match self.connect(who).await? {
                Some(conn) => {
                    let _ = conn.disconnect().await;
                    Ok(Login::Works)
                }
                None => Ok(Login::Refused),
            }
        }))
    }

    fn set_own_password<'a>(&'a self, who: &'a Credentials, stage: &'a str, new: &'a Password) -> DbFuture<'a, ()> {
        Box::pin(in_time(who, async move {
            let mut conn = self.must_connect(who, stage).await?;
            let failed = |what: &'static str, e: mysql_async::Error| DbError::Statement {
                what,
                endpoint: who.endpoint(),
                user: who.username.clone(),
                reason: without(&shorten_values(&e.to_string()), new),
            };
            let version: Option<String> =
                (conn.query_first("SELECT VERSION()").await).map_err(|e| failed("SELECT VERSION()", e))?;
            let mode: Option<String> = (conn.query_first("SELECT @@SESSION.sql_mode").await)
                .map_err(|e| failed("SELECT @@SESSION.sql_mode", e))?;
            // The password as a string literal, escaped the way the
            // session's sql_mode reads literals (the driver's own escaping).
            let no_backslash_escapes = mode.unwrap_or_default().contains("NO_BACKSLASH_ESCAPES");
            let literal = mysql_async::Value::from(new.expose()).as_sql(no_backslash_escapes);
            let statement = set_password_statement(&version.unwrap_or_default(), &literal);
            (conn.query_drop(statement).await).map_err(|e| failed("SET PASSWORD", e))?;
            let _ = conn.disconnect().await;
            Ok(())
        }))
    }

    fn select_now<'a>(&'a self, who: &'a Credentials, stage: &'a str) -> DbFuture<'a, ()> {
        Box::pin(in_time(who, async move {
            let mut conn = self.must_connect(who, stage).await?;
            let now: Option<mysql_async::Value> =
                conn.query_first("SELECT NOW()").await.map_err(|e| DbError::Statement {
                    what: "SELECT NOW()",
                    endpoint: who.endpoint(),
                    user: who.username.clone(),
                    reason: without(&shorten_values(&e.to_string()), &who.password),
                })?;
            let _ = conn.disconnect().await;
            match now {
                Some(_) => Ok(()),
                None => Err(DbError::Statement {
                    what: "SELECT NOW()",
                    endpoint: who.endpoint(),
                    user: who.username.clone(),
                    reason: "it answered no row".into(),
                }),
            }
        }))
    }
}

/// `text` with every occurrence of `password` hidden (a server's syntax
/// error quotes the statement near the fault).
pub fn without(text: &str, password: &Password) -> String {
    if password.expose().is_empty() {
        return text.to_owned();
    }
    text.replace(password.expose(), "(the password)")
}

/// The driver's options for `who`: TCP only (never the server's socket file,
/// which the driver would otherwise switch to on loopback), TLS as configured.
fn opts(who: &Credentials, tls: &DbTls) -> OptsBuilder {
    OptsBuilder::default()
        .ip_or_hostname(who.host.clone())
        .tcp_port(who.port)
        .user(Some(who.username.clone()))
        .pass(Some(who.password.expose().to_owned()))
        .db_name(who.dbname.clone())
        .prefer_socket(false)
        .ssl_opts(ssl_opts(tls))
}

/// TLS options: `None` when disabled; otherwise the server's certificate
/// and name are verified, against the CA file when one is given.
fn ssl_opts(tls: &DbTls) -> Option<SslOpts> {
    match tls {
        DbTls::Disabled => None,
        DbTls::Required { ca_file: None } => Some(SslOpts::default()),
        DbTls::Required { ca_file: Some(path) } => Some(SslOpts::default().with_root_certs(vec![path.clone().into()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_on_and_verified_unless_disabled() {
        assert!(ssl_opts(&DbTls::Disabled).is_none());
        let default = ssl_opts(&DbTls::Required { ca_file: None }).unwrap();
        assert!(!default.accept_invalid_certs() && !default.skip_domain_validation());
        let with_ca = ssl_opts(&DbTls::Required {
            ca_file: Some("/etc/ssl/rds.pem".into()),
        })
        .unwrap();
        assert_eq!(with_ca.root_certs().len(), 1);
    }

    #[test]
    fn a_driver_message_loses_the_password() {
        let pw = Password::new("Zq9!xx");
        let text = "You have an error in your SQL syntax near 'Zq9!xx')' at line 1";
        assert_eq!(
            without(text, &pw),
            "You have an error in your SQL syntax near '(the password)')' at line 1"
        );
        assert_eq!(without(text, &Password::new("")), text);
    }

    #[test]
    fn the_password_literal_is_escaped_for_either_sql_mode() {
        let literal = |text: &str, nbe| mysql_async::Value::from(text).as_sql(nbe);
        assert_eq!(literal("a'b", false), r"'a\'b'");
        assert_eq!(literal("a'b", true), "'a''b'");
        assert_eq!(literal(r"a\b", false), r"'a\\b'");
    }
}
