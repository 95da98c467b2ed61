//! What the app's tests share: the test database's settings (or a skip),
//! the real router served on a loopback port, a plain HTTP client, and a TCP
//! proxy that plays a database writer going down and coming back.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tandem_app::config::DbTls;
use tandem_app::db::Database;
use tandem_app::http::{self, AppState};
use tandem_app::secret::{DbSettings, MemorySecret};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, oneshot};
use tokio::task::{JoinHandle, JoinSet};

/// The variables `scripts/mariadb.sh env` prints.
const VARS: [&str; 5] = [
    "TANDEM_TEST_DB_HOST",
    "TANDEM_TEST_DB_PORT",
    "TANDEM_TEST_DB_USER",
    "TANDEM_TEST_DB_PASSWORD",
    "TANDEM_TEST_DB_NAME",
];

/// The file `scripts/mariadb.sh up` writes, read when the variables are unset.
fn env_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.local/mariadb/test.env")
}

/// The test MariaDB's settings: from the `TANDEM_TEST_DB_*` variables, or
/// else from the file that `scripts/mariadb.sh up` leaves while it runs.
///
/// `None` (after saying SKIPPED on stderr) when neither is there; a panic
/// naming the fix instead when `CI=true` or `TANDEM_REQUIRE_TOOLS=1`, so a
/// pipeline cannot pass without running these tests.
pub(crate) fn test_db(test: &str) -> Option<DbSettings> {
    let from_env: HashMap<&str, String> = VARS
        .iter()
        .filter_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    let vars = if from_env.len() == VARS.len() {
        from_env
    } else {
        let text = std::fs::read_to_string(env_file()).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.trim().trim_start_matches("export ").split_once('='))
            .filter_map(|(k, v)| VARS.iter().find(|name| **name == k).map(|name| (*name, unquote(v))))
            .collect()
    };
    if vars.len() == VARS.len() {
        let port = vars["TANDEM_TEST_DB_PORT"]
            .parse()
            .unwrap_or_else(|_| panic!("TANDEM_TEST_DB_PORT is not a port: {}", vars["TANDEM_TEST_DB_PORT"]));
        return Some(DbSettings {
            host: vars["TANDEM_TEST_DB_HOST"].clone(),
            port,
            username: vars["TANDEM_TEST_DB_USER"].clone(),
            password: vars["TANDEM_TEST_DB_PASSWORD"].clone(),
            dbname: Some(vars["TANDEM_TEST_DB_NAME"].clone()),
        });
    }
    let ci = std::env::var("CI").ok();
    let require = std::env::var("TANDEM_REQUIRE_TOOLS").ok();
    let hint = "start it with `scripts/mariadb.sh up` (it installs and starts MariaDB under .local/mariadb/), \
                or set the TANDEM_TEST_DB_* variables (`eval \"$(scripts/mariadb.sh env)\"`)";
    if ci.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true")) || require.as_deref() == Some("1") {
        panic!(
            "{test}: no test database, and it is required here (CI={}, TANDEM_REQUIRE_TOOLS={}): {hint}",
            ci.as_deref().unwrap_or("<unset>"),
            require.as_deref().unwrap_or("<unset>")
        );
    }
    eprintln!("SKIPPED {test}: no test database; {hint}");
    None
}

/// A value as the shell would read it: `'x'` or `"x"` or `x`.
fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    v.to_owned()
}

/// A database (TLS off, as on loopback) whose secret the test controls.
pub(crate) fn database(secret: &Arc<MemorySecret>) -> Arc<Database> {
    Arc::new(Database::new(secret.clone(), DbTls::Disabled))
}

/// The service's router over `db`, with image tag `tag`.
pub(crate) fn app_router(db: Arc<Database>, tag: &str) -> axum::Router {
    http::router(AppState::unfenced(db, tag))
}

/// A router served on a loopback port, as `main` serves it.
pub(crate) struct TestApp {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    /// Serves `router` on 127.0.0.1 on a free port.
    pub(crate) async fn serve(router: axum::Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(http::serve(listener, router, async {
            let _ = rx.await;
        }));
        Self {
            addr,
            shutdown: Some(tx),
            server,
        }
    }

    /// Sends the shutdown signal (what SIGTERM does in `main`).
    pub(crate) fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down and waits for the server to return.
    pub(crate) async fn stop(mut self) -> std::io::Result<()> {
        self.begin_shutdown();
        self.server.await.expect("the server task panicked")
    }

    /// `GET path`: the status and the body as JSON.
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let (status, body) = get(self.addr, path).await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: body {body:?} is not JSON: {e}"));
        (status, json)
    }
}

/// `GET path` on a new HTTP/1.1 connection: the status and the body.
pub(crate) async fn get(addr: SocketAddr, path: &str) -> Result<(StatusCode, String), String> {
    send(addr, hyper::Method::GET, path).await
}

/// `method path` (no body) on a new HTTP/1.1 connection: the status and the body.
pub(crate) async fn send(addr: SocketAddr, method: hyper::Method, path: &str) -> Result<(StatusCode, String), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| format!("body: {e}"))?;
    Ok((status, String::from_utf8_lossy(&body.to_bytes()).into_owned()))
}

/// A TCP proxy to the database: stopping it drops every connection through
/// it and closes its port, as a writer that goes down does.
pub(crate) struct Proxy {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    accept: JoinHandle<()>,
    conns: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    /// A proxy to `upstream` on a free loopback port.
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        Self::start_at("127.0.0.1:0".parse().unwrap(), upstream).await
    }

    /// A proxy to `upstream` on `addr` (again on the port of a stopped one).
    pub(crate) async fn start_at(addr: SocketAddr, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let addr = listener.local_addr().unwrap();
        let conns = Arc::new(Mutex::new(JoinSet::new()));
        let tasks = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                tasks.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { addr, accept, conns }
    }

    /// Closes the port and every connection through it, and waits until
    /// they are closed.
    pub(crate) async fn stop(self) -> SocketAddr {
        self.accept.abort();
        let _ = self.accept.await;
        self.conns.lock().await.shutdown().await;
        self.addr
    }
}

/// A loopback address where nothing listens.
pub(crate) async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// `settings` pointed at `addr` instead.
pub(crate) fn at(settings: &DbSettings, addr: SocketAddr) -> DbSettings {
    DbSettings {
        host: addr.ip().to_string(),
        port: addr.port(),
        ..settings.clone()
    }
}

/// The test database's address.
pub(crate) fn addr_of(settings: &DbSettings) -> SocketAddr {
    format!("{}:{}", settings.host, settings.port)
        .parse()
        .unwrap_or_else(|_| panic!("TANDEM_TEST_DB_HOST must be an IP address, not {:?}", settings.host))
}
