//! The database writer: a connection pool built from the secret, kept for
//! the life of the process, and rebuilt from a fresh read of the secret when
//! a connection fails.
//!
//! After a failover the secret names the new writer (or the same name
//! resolves to it), while the pool still holds connections to the old one.
//! So a failed attempt re-reads the secret, replaces the pool, and tries once
//! more; when several requests fail at once, only the first rebuilds.

use crate::config::DbTls;
use crate::secret::{DbSettings, SecretError, SecretSource};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long one attempt (connect, TLS, log in, `SELECT 1`) may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most connections the pool keeps open.
pub const MAX_CONNECTIONS: usize = 10;

/// Why the database cannot be used, in one sentence that names where.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The secret could not be read or used.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Connecting, logging in or the query failed.
    #[error("SELECT 1 on the database writer at {endpoint} failed: {reason}")]
    Failed {
        /// `host:port` of the writer.
        endpoint: String,
        /// The driver's account of it.
        reason: String,
    },
    /// A write was refused or failed.
    #[error("the write to the database writer at {endpoint} failed: {reason}")]
    Write {
        /// `host:port` of the writer.
        endpoint: String,
        /// The driver's account of it.
        reason: String,
    },
    /// The attempt did not finish in time.
    #[error("the database writer at {endpoint} did not answer within {} s", ATTEMPT_TIMEOUT.as_secs())]
    Timeout {
        /// `host:port` of the writer.
        endpoint: String,
    },
}

impl DbError {
    /// The reason to put in an HTTP answer: what failed, without the
    /// writer's host and port, the secret's name or the driver's words,
    /// which the internet has no business reading. The app's log carries
    /// the whole sentence ([`std::fmt::Display`]).
    pub fn public_reason(&self) -> String {
        const SEE_LOG: &str = "the service's log has the cause";
        match self {
            // Configuration, not a location: the fix is in the sentence.
            Self::Secret(SecretError::NotConfigured) => self.to_string(),
            Self::Secret(_) => format!("the database credentials could not be read or used; {SEE_LOG}"),
            Self::Failed { .. } => format!("SELECT 1 on the database writer failed; {SEE_LOG}"),
            Self::Write { .. } => format!("the write to the database writer failed; {SEE_LOG}"),
            Self::Timeout { .. } => format!(
                "the database writer did not answer within {} s; {SEE_LOG}",
                ATTEMPT_TIMEOUT.as_secs()
            ),
        }
    }
}

/// The pool for one reading of the secret.
#[derive(Clone)]
struct Writer {
    /// Counts rebuilds, so that concurrent failures rebuild once.
    generation: u64,
    settings: DbSettings,
    pool: Pool,
}

/// The database writer, as the secret currently names it.
pub struct Database {
    source: Arc<dyn SecretSource>,
    tls: DbTls,
    current: Mutex<Option<Writer>>,
    /// The epoch the pool was built at: a new epoch means the writer may
    /// have moved (a failover), so the secret is read again.
    epoch: Mutex<Option<u64>>,
}

/// The table the app's writes go to (`POST /writes`).
pub const WRITES_TABLE: &str = "tandem_writes";

impl Database {
    /// A database whose settings come from `source`; nothing is read until
    /// [`Database::start`] or the first use.
    pub fn new(source: Arc<dyn SecretSource>, tls: DbTls) -> Self {
        Self {
            source,
            tls,
            current: Mutex::new(None),
            epoch: Mutex::new(None),
        }
    }

    /// Reads the secret and prepares the pool (connections open on first
    /// use). A failure is logged, not fatal: `/db` reports it, and the next
    /// use reads the secret again.
    pub async fn start(&self) {
        match self.writer(None).await {
            Ok(w) => tracing::info!(endpoint = %w.settings.endpoint(), "database settings read from the secret"),
            Err(e) => tracing::warn!(error = %e, "database settings not available yet"),
        }
    }

    /// Runs `SELECT 1` on the writer; on failure re-reads the secret,
    /// rebuilds the pool and tries once more.
    pub async fn check(&self) -> Result<(), DbError> {
        self.conn().await.map(drop)
    }

    /// A connection to the writer that has just answered `SELECT 1`, with
    /// the same single retry as [`Database::check`].
    pub async fn conn(&self) -> Result<Conn, DbError> {
        let writer = self.writer(None).await?;
        match attempt(&writer).await {
            Ok(conn) => Ok(conn),
            Err(first) => {
                tracing::warn!(
                    error = %first,
                    "database attempt failed; re-reading the secret and reconnecting once"
                );
                let writer = self.writer(Some(writer.generation)).await?;
                attempt(&writer).await
            }
        }
    }

    /// Inserts one row into [`WRITES_TABLE`] (made if missing) for `region`
    /// at `epoch`, the epoch the write gate opened at; returns its id. A
    /// new epoch rebuilds the pool from a fresh read of the secret first.
    pub async fn write(&self, region: &str, epoch: u64) -> Result<u64, DbError> {
        {
            let mut seen = self.epoch.lock().await;
            if seen.is_some_and(|e| e != epoch) {
                tracing::info!(epoch, "a new epoch: re-reading the secret before writing");
                let generation = self.current.lock().await.as_ref().map(|w| w.generation);
                if generation.is_some() {
                    self.writer(generation).await?;
                }
            }
            *seen = Some(epoch);
        }
        let mut conn = self.conn().await?;
        let endpoint = conn.opts().ip_or_hostname().to_owned();
        let failed = |e: mysql_async::Error| DbError::Write {
            endpoint: endpoint.clone(),
            reason: tandem_core::text::shorten_values(&e.to_string()),
        };
        let work = async {
            conn.query_drop(format!(
                "CREATE TABLE IF NOT EXISTS {WRITES_TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
                 region VARCHAR(32) NOT NULL, epoch BIGINT NOT NULL, \
                 at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
            ))
            .await
            .map_err(failed)?;
            conn.exec_drop(
                format!("INSERT INTO {WRITES_TABLE} (region, epoch) VALUES (?, ?)"),
                (region, epoch),
            )
            .await
            .map_err(failed)?;
            Ok(conn.last_insert_id().unwrap_or(0))
        };
        tokio::time::timeout(ATTEMPT_TIMEOUT, work).await.unwrap_or_else(|_| {
            Err(DbError::Timeout {
                endpoint: endpoint.clone(),
            })
        })
    }

    /// Whether the writer takes writes: `@@read_only` is off (a read replica,
    /// or a writer an operator set read-only, has it on).
    pub async fn read_only(&self) -> Result<bool, DbError> {
        let mut conn = self.conn().await?;
        let endpoint = conn.opts().ip_or_hostname().to_owned();
        let flag: Option<i64> = conn
            .query_first("SELECT @@global.read_only")
            .await
            .map_err(|e| DbError::Failed {
                endpoint,
                reason: tandem_core::text::shorten_values(&e.to_string()),
            })?;
        Ok(flag.unwrap_or(0) != 0)
    }

    /// The current writer, built from a fresh read of the secret when there
    /// is none or when it is still the one (`failed`) that just failed.
    async fn writer(&self, failed: Option<u64>) -> Result<Writer, DbError> {
        let mut current = self.current.lock().await;
        if let Some(w) = current.as_ref()
            && Some(w.generation) != failed
        {
            return Ok(w.clone());
        }
        let text = self.source.read().await?;
        let settings = DbSettings::parse(&text).map_err(|reason| SecretError::Invalid {
            secret: self.source.describe(),
            reason,
        })?;
        let generation = current.as_ref().map_or(0, |w| w.generation + 1);
        let writer = Writer {
            generation,
            pool: Pool::new(opts(&settings, &self.tls)),
            settings,
        };
        if let Some(old) = current.replace(writer.clone()) {
            tracing::info!(
                from = %old.settings.endpoint(),
                to = %writer.settings.endpoint(),
                "database pool rebuilt from the secret"
            );
            // Closes the old connections once they are returned, without
            // holding up this request; a dead server cannot stall it for long.
            tokio::spawn(async move {
                let _ = tokio::time::timeout(ATTEMPT_TIMEOUT, old.pool.disconnect()).await;
            });
        }
        Ok(writer)
    }
}

/// A connection from `writer`'s pool that answered `SELECT 1`.
async fn attempt(writer: &Writer) -> Result<Conn, DbError> {
    let endpoint = writer.settings.endpoint();
    let failed = |e: mysql_async::Error| DbError::Failed {
        endpoint: endpoint.clone(),
        reason: tandem_core::text::shorten_values(&e.to_string()),
    };
    let work = async {
        let mut conn = writer.pool.get_conn().await.map_err(failed)?;
        let one: Option<i64> = conn.query_first("SELECT 1").await.map_err(failed)?;
        match one {
            Some(1) => Ok(conn),
            other => Err(DbError::Failed {
                endpoint: endpoint.clone(),
                reason: format!("it answered {other:?} instead of 1"),
            }),
        }
    };
    tokio::time::timeout(ATTEMPT_TIMEOUT, work).await.unwrap_or_else(|_| {
        Err(DbError::Timeout {
            endpoint: endpoint.clone(),
        })
    })
}

/// The driver's options for `settings`: TCP only (never the server's own
/// socket file, which the driver would otherwise switch to on loopback),
/// TLS as configured.
fn opts(settings: &DbSettings, tls: &DbTls) -> OptsBuilder {
    let constraints = PoolConstraints::new(0, MAX_CONNECTIONS).unwrap_or_default();
    OptsBuilder::default()
        .ip_or_hostname(settings.host.clone())
        .tcp_port(settings.port)
        .user(Some(settings.username.clone()))
        .pass(Some(settings.password.clone()))
        .db_name(settings.dbname.clone())
        .prefer_socket(false)
        .ssl_opts(ssl_opts(tls))
        .pool_opts(PoolOpts::default().with_constraints(constraints))
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
    use crate::secret::MemorySecret;

    #[tokio::test]
    async fn a_secret_that_cannot_be_used_fails_naming_the_key_and_is_read_again() {
        let secret = Arc::new(MemorySecret::new(
            r#"{"username":"u","password":"hunter2","port":3306}"#,
        ));
        let db = Database::new(secret.clone(), DbTls::Disabled);
        let err = db.check().await.unwrap_err().to_string();
        assert_eq!(err, r#"the database secret "memory" is not usable: it has no "host""#);
        db.check().await.unwrap_err();
        assert_eq!(secret.reads(), 2, "a failed read is not cached");
    }

    /// Every public reason leaves out the writer's endpoint, the secret's
    /// name and the driver's words, which the log keeps.
    #[test]
    fn a_public_reason_names_what_failed_but_not_where() {
        let endpoint = "writer.internal.example:3306".to_string();
        let driver = "Access denied for user 'tandem'@'10.0.3.7'".to_string();
        let errors = [
            DbError::Failed {
                endpoint: endpoint.clone(),
                reason: driver.clone(),
            },
            DbError::Write {
                endpoint: endpoint.clone(),
                reason: driver.clone(),
            },
            DbError::Timeout {
                endpoint: endpoint.clone(),
            },
            DbError::Secret(SecretError::Read {
                secret: "tandem-prod/db".into(),
                reason: driver.clone(),
            }),
        ];
        for e in &errors {
            let public = e.public_reason();
            assert!(e.to_string().contains("writer.internal.example") || e.to_string().contains("tandem-prod/db"));
            for hidden in [
                "writer.internal.example",
                "3306",
                "tandem-prod/db",
                "10.0.3.7",
                "Access denied",
            ] {
                assert!(!public.contains(hidden), "{public:?} shows {hidden:?}");
            }
            assert!(public.ends_with("the service's log has the cause"), "{public}");
        }
        let unset = DbError::Secret(SecretError::NotConfigured).public_reason();
        assert!(
            unset.contains("TANDEM_DB_SECRET"),
            "the configuration fix stays: {unset}"
        );
    }

    #[test]
    fn tls_is_on_unless_disabled() {
        assert!(ssl_opts(&DbTls::Disabled).is_none());
        assert!(ssl_opts(&DbTls::Required { ca_file: None }).is_some());
        let with_ca = ssl_opts(&DbTls::Required {
            ca_file: Some("/etc/ssl/rds.pem".into()),
        })
        .unwrap();
        assert_eq!(with_ca.root_certs().len(), 1);
    }
}
