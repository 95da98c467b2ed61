//! The drill's apps and their traffic: one `tandem-app` a region on a
//! loopback port, each with its own writer (a database of the local
//! MariaDB, named by a drill secret in its region) and its write fence
//! reading both regions' state tables; and a writer task a region that
//! sends `POST /writes` to that app directly all night, as traffic that
//! slipped past DNS would (cached DNS, keep-alive, a direct hit).

use super::http::Http;
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_core::clock::unix_now_ms;
use tokio::time::Instant;

/// The drill's credentials secret, in each region.
pub(crate) const DRILL_SECRET: &str = "tandem-local/drill-db";
/// Each region's endpoint override (the region stack's), which a promotion writes.
pub(crate) const ENDPOINT_SECRET: &str = "tandem-local/db-endpoint";
/// How often each writer sends a write.
pub(crate) const WRITE_EVERY: Duration = Duration::from_millis(100);

/// The local MariaDB, from `scripts/mariadb.sh env`.
#[derive(Debug, Clone)]
pub(crate) struct Maria {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) password: String,
}

impl Maria {
    /// From the environment `scripts/mariadb.sh env` prints.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| {
            std::env::var(name).with_context(|| {
                format!("{name} is not set: start the local MariaDB and load its settings (`scripts/mariadb.sh up` and `eval \"$(scripts/mariadb.sh env)\"`; make drill does both)")
            })
        };
        Ok(Self {
            host: var("TANDEM_TEST_DB_HOST")?,
            port: var("TANDEM_TEST_DB_PORT")?
                .parse()
                .context("TANDEM_TEST_DB_PORT is not a port")?,
            user: var("TANDEM_TEST_DB_USER")?,
            password: var("TANDEM_TEST_DB_PASSWORD")?,
        })
    }
}

/// The database that stands for `region`'s writer.
pub(crate) fn writer_db(region: &str) -> String {
    format!("tandem_drill_{}", region.replace('-', "_"))
}

/// Puts the drill's credentials secret in `region`: the local MariaDB,
/// database [`writer_db`] of the region.
pub(crate) async fn put_secret(sm: &aws_sdk_secretsmanager::Client, maria: &Maria, region: &str) -> anyhow::Result<()> {
    let value = serde_json::json!({"username": maria.user, "password": maria.password, "host": maria.host,
                                   "port": maria.port, "dbname": writer_db(region)})
    .to_string();
    let created = sm.create_secret().name(DRILL_SECRET).secret_string(&value).send().await;
    if created.is_err() {
        (sm.put_secret_value()
            .secret_id(DRILL_SECRET)
            .secret_string(value)
            .send())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "could not write {DRILL_SECRET} in {region} ({})",
                tandem_core::aws::error_text(&e)
            )
        })?;
    }
    Ok(())
}

/// Empties `region`'s endpoint override (`{}`): its app reads the writer
/// its credentials secret names.
pub(crate) async fn clear_endpoint(sm: &aws_sdk_secretsmanager::Client, region: &str) -> anyhow::Result<()> {
    (sm.put_secret_value()
        .secret_id(ENDPOINT_SECRET)
        .secret_string("{}")
        .send())
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "could not reset {ENDPOINT_SECRET} in {region} ({})",
            tandem_core::aws::error_text(&e)
        )
    })?;
    Ok(())
}

/// A child process that is killed when dropped.
pub(crate) struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What an app needs to know to start.
pub(crate) struct AppSpec<'a> {
    pub(crate) binary: &'a Path,
    pub(crate) port: u16,
    pub(crate) region: &'a str,
    pub(crate) peer: &'a str,
    pub(crate) configured_primary: &'a str,
    pub(crate) endpoint_url: &'a str,
    pub(crate) log: PathBuf,
}

/// Starts the app for one region, as its task would run: its secrets, its
/// fence, the local AWS for both.
pub(crate) fn start(spec: &AppSpec<'_>) -> anyhow::Result<App> {
    let log = std::fs::File::create(&spec.log).with_context(|| format!("could not create {}", spec.log.display()))?;
    let child = Command::new(spec.binary)
        .env("PORT", spec.port.to_string())
        .env("TANDEM_IMAGE_TAG", format!("drill-{}", spec.region))
        .env("TANDEM_ENV", "local")
        .env("TANDEM_REGION", spec.region)
        .env("TANDEM_PEER_REGION", spec.peer)
        .env("TANDEM_CONFIGURED_PRIMARY", spec.configured_primary)
        .env("TANDEM_DB_SECRET", DRILL_SECRET)
        .env("TANDEM_DB_ENDPOINT_SECRET", ENDPOINT_SECRET)
        .env("TANDEM_DB_TLS", "disabled")
        .env("TANDEM_FENCE_TTL_MS", "250")
        .env("AWS_ENDPOINT_URL", spec.endpoint_url)
        .env("AWS_REGION", spec.region)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("could not start {}", spec.binary.display()))?;
    Ok(App(child))
}

/// Waits until `port` answers `/health`.
pub(crate) async fn wait_healthy(http: &Http, port: u16) -> anyhow::Result<()> {
    let url = format!("http://127.0.0.1:{port}/health");
    let started = Instant::now();
    while !matches!(http.send(http::Method::GET, &url, String::new()).await, Ok((200, _))) {
        if started.elapsed() > Duration::from_secs(15) {
            bail!("the app did not answer {url} within 15 s: is the port taken?");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// One answer to a write: when it was sent (Unix ms), its status, and the
/// `status` of its body (`fenced`, `standby`, …) or the connection error.
#[derive(Debug, Clone)]
pub(crate) struct WriteAnswer {
    pub(crate) at_ms: u64,
    pub(crate) status: Option<u16>,
    pub(crate) what: String,
}

/// A writer: sends `POST /writes` to one app every [`WRITE_EVERY`] until stopped.
pub(crate) struct Writer {
    answers: Arc<Mutex<Vec<WriteAnswer>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    pub(crate) fn start(http: Http, port: u16) -> Self {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let log = answers.clone();
        let url = format!("http://127.0.0.1:{port}/writes");
        let task = tokio::spawn(async move {
            loop {
                let at_ms = unix_now_ms();
                let answer = match http.send(http::Method::POST, &url, String::new()).await {
                    Ok((status, body)) => {
                        let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                        let what = value["status"].as_str().unwrap_or("written").to_owned();
                        WriteAnswer {
                            at_ms,
                            status: Some(status),
                            what,
                        }
                    }
                    Err(why) => WriteAnswer {
                        at_ms,
                        status: None,
                        what: why,
                    },
                };
                log.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(answer);
                tokio::time::sleep(WRITE_EVERY).await;
            }
        });
        Self { answers, task }
    }

    /// Stops it; every answer it got, in order.
    pub(crate) fn stop(self) -> Vec<WriteAnswer> {
        self.task.abort();
        let answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        answers.clone()
    }

    /// The writes it saw land (201) since `since_ms`.
    pub(crate) fn landed_since(&self, since_ms: u64) -> usize {
        let answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        landed(&answers, since_ms)
    }
}

/// How many of `answers` landed (201) at or after `since_ms`.
pub(crate) fn landed(answers: &[WriteAnswer], since_ms: u64) -> usize {
    answers
        .iter()
        .filter(|a| a.at_ms >= since_ms && a.status == Some(201))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_has_its_own_writer_database() {
        assert_eq!(writer_db("us-east-1"), "tandem_drill_us_east_1");
        assert_ne!(writer_db("us-east-1"), writer_db("us-east-2"));
    }

    #[test]
    fn only_landed_writes_after_the_time_count() {
        let a = |at_ms, status| WriteAnswer {
            at_ms,
            status,
            what: String::new(),
        };
        let answers = [a(10, Some(201)), a(20, Some(503)), a(30, Some(201)), a(40, None)];
        assert_eq!(landed(&answers, 0), 2);
        assert_eq!(landed(&answers, 21), 1);
        assert_eq!(landed(&answers, 31), 0);
    }
}
