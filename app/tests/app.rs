//! The service over real HTTP on a loopback port, against a real MariaDB
//! server (`scripts/mariadb.sh up`; see `support::test_db` for when the
//! database tests skip and when they fail instead).

mod support;

use axum::routing::get;
use hyper::StatusCode;
use mysql_async::prelude::Queryable;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{Proxy, TestApp, addr_of, app_router, at, closed_port, database, test_db};
use tandem_app::config::DbTls;
use tandem_app::db::Database;
use tandem_app::secret::{MemorySecret, NoSecret};
use tokio::sync::{Notify, oneshot};

/// An app with no database secret.
async fn app_without_db() -> TestApp {
    let db = Arc::new(Database::new(Arc::new(NoSecret), DbTls::Disabled));
    TestApp::serve(app_router(db, "v42")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_version_answer_without_a_database() {
    let app = app_without_db().await;
    assert_eq!(app.get("/health").await, (StatusCode::OK, json!({"status": "healthy"})));
    assert_eq!(app.get("/version").await, (StatusCode::OK, json!({"version": "v42"})));
    let (status, _) = support::get(app.addr, "/nope").await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_without_a_secret_answers_503_saying_what_to_set() {
    let app = app_without_db().await;
    let (status, body) = app.get("/db").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("TANDEM_DB_SECRET"), "{reason}");
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_answers_ok_when_the_writer_answers() {
    let Some(settings) = test_db("db_answers_ok_when_the_writer_answers") else {
        return;
    };
    let secret = Arc::new(MemorySecret::from_settings(&settings));
    let db = database(&secret);
    db.start().await;
    let app = TestApp::serve(app_router(db, "dev")).await;
    assert_eq!(app.get("/db").await, (StatusCode::OK, json!({"status": "ok"})));
    assert_eq!(app.get("/db").await, (StatusCode::OK, json!({"status": "ok"})));
    assert_eq!(
        secret.reads(),
        1,
        "the secret is read at start and kept while the writer answers"
    );
    app.stop().await.unwrap();
}

/// The integration check of SEED.md: create a table, insert a row, read it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_a_table_inserts_a_row_and_selects_it_back() {
    let Some(settings) = test_db("creates_a_table_inserts_a_row_and_selects_it_back") else {
        return;
    };
    let db = database(&Arc::new(MemorySecret::from_settings(&settings)));
    let mut conn = db.conn().await.unwrap();
    // One table per process, so that concurrent runs do not meet.
    let table = format!("test_table_{}", std::process::id());
    conn.query_drop(format!("DROP TABLE IF EXISTS {table}")).await.unwrap();
    conn.query_drop(format!(
        "CREATE TABLE IF NOT EXISTS {table} (id INT PRIMARY KEY, value VARCHAR(50))"
    ))
    .await
    .unwrap();
    conn.exec_drop(format!("INSERT INTO {table} (id, value) VALUES (?, ?)"), (1, "test"))
        .await
        .unwrap();
    let value: Option<String> = conn
        .exec_first(format!("SELECT value FROM {table} WHERE id = ?"), (1,))
        .await
        .unwrap();
    conn.query_drop(format!("DROP TABLE {table}")).await.unwrap();
    assert_eq!(value.as_deref(), Some("test"));
}

/// The writer goes down (every connection dropped, its port closed) and
/// comes back at the same endpoint: 503 with a reason, then 200, without
/// restarting the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_answers_503_while_the_writer_is_down_and_recovers_when_it_is_back() {
    let Some(settings) = test_db("db_answers_503_while_the_writer_is_down_and_recovers_when_it_is_back") else {
        return;
    };
    let upstream = addr_of(&settings);
    let proxy = Proxy::start(upstream).await;
    let secret = Arc::new(MemorySecret::from_settings(&at(&settings, proxy.addr)));
    let app = TestApp::serve(app_router(database(&secret), "dev")).await;
    assert_eq!(app.get("/db").await.0, StatusCode::OK, "through the proxy");

    let down = proxy.stop().await;
    let (status, body) = app.get("/db").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    let reason = body["reason"].as_str().unwrap();
    assert_eq!(
        reason, "SELECT 1 on the database writer failed; the service's log has the cause",
        "the public answer says what failed"
    );
    assert!(
        !reason.contains(&down.port().to_string()) && !reason.contains(&down.ip().to_string()),
        "the public answer names the writer's host or port: {reason}"
    );
    assert!(
        !reason.contains(&settings.password),
        "the reason shows the password: {reason}"
    );
    assert!(
        !reason.contains("Error {") && !reason.contains("kind:"),
        "a Debug dump: {reason}"
    );
    assert_eq!(
        secret.reads(),
        2,
        "read once at first use, and again when the connection failed"
    );

    let _back = Proxy::start_at(down, upstream).await;
    assert_eq!(app.get("/db").await, (StatusCode::OK, json!({"status": "ok"})));
    app.stop().await.unwrap();
}

/// A failover: the secret now names another writer. The app follows it on
/// the next failure, without a restart, and keeps it while it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_follows_the_secret_to_a_new_writer_without_a_restart() {
    let Some(settings) = test_db("db_follows_the_secret_to_a_new_writer_without_a_restart") else {
        return;
    };
    let old_writer = closed_port().await;
    let secret = Arc::new(MemorySecret::from_settings(&at(&settings, old_writer)));
    let app = TestApp::serve(app_router(database(&secret), "dev")).await;

    let (status, body) = app.get("/db").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("SELECT 1 on the database writer failed")
            && !reason.contains(&old_writer.port().to_string()),
        "the public answer says what failed, not where: {reason}"
    );
    assert_eq!(secret.reads(), 2, "read at first use, and once more after the failure");

    secret.set_settings(&settings);
    assert_eq!(app.get("/db").await, (StatusCode::OK, json!({"status": "ok"})));
    assert_eq!(
        secret.reads(),
        3,
        "the failure re-read the secret and found the new writer"
    );
    assert_eq!(app.get("/db").await.0, StatusCode::OK);
    assert_eq!(secret.reads(), 3, "a working writer is kept without reading the secret");
    app.stop().await.unwrap();
}

/// TLS is on unless disabled, and a server without it is refused, not used
/// in plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_required_refuses_a_server_without_tls() {
    let Some(settings) = test_db("tls_required_refuses_a_server_without_tls") else {
        return;
    };
    let secret = Arc::new(MemorySecret::from_settings(&settings));
    let db = Arc::new(Database::new(secret, DbTls::Required { ca_file: None }));
    let err = db.check().await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "SELECT 1 on the database writer at {} failed",
            addr_of(&settings)
        )),
        "{err}"
    );
    assert!(
        err.contains("asked for SSL but server does not have this capability"),
        "{err}"
    );
}

/// SIGTERM's path: after the signal the app accepts no new connection, the
/// request already in flight still gets its whole answer, and the server
/// returns (so `main` exits) only after that answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_request_in_flight_finish() {
    let started = Arc::new(Notify::new());
    let answered = Arc::new(AtomicBool::new(false));
    let (release, released) = oneshot::channel::<()>();
    let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
    let slow = {
        let (started, answered) = (started.clone(), answered.clone());
        move || {
            let (started, answered, released) = (started.clone(), answered.clone(), released.clone());
            async move {
                started.notify_one();
                if let Some(rx) = released.lock().await.take() {
                    let _ = rx.await;
                }
                answered.store(true, Ordering::SeqCst);
                "finished"
            }
        }
    };
    let db = Arc::new(Database::new(Arc::new(NoSecret), DbTls::Disabled));
    let router = app_router(db, "dev").route("/slow", get(slow));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, signal) = oneshot::channel::<()>();
    let server = {
        let answered = answered.clone();
        tokio::spawn(async move {
            let result = tandem_app::http::serve(listener, router, async {
                let _ = signal.await;
            })
            .await;
            // Whether the slow request had been answered when serve returned.
            (result, answered.load(Ordering::SeqCst))
        })
    };

    let in_flight = tokio::spawn(support::get(addr, "/slow"));
    started.notified().await;
    shutdown.send(()).unwrap();
    // Wait (bounded) until the listener is closed: the shutdown has begun.
    let mut refused = false;
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "the app still accepts connections after the shutdown signal");

    release.send(()).unwrap();
    let answer = in_flight.await.unwrap();
    assert_eq!(answer, Ok((StatusCode::OK, "finished".to_owned())));
    let (result, answered_before_return) = server.await.unwrap();
    result.unwrap();
    assert!(
        answered_before_return,
        "the server returned while a request was still in flight"
    );
}
