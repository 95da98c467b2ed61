//! The HTTP side: routes, and serving them until a shutdown signal, letting
//! the requests in flight finish.

use crate::db::Database;
use crate::fence::Gate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The database writer.
    pub db: Arc<Database>,
    /// What `GET /version` answers.
    pub image_tag: Arc<str>,
    /// Whether this region may write now.
    pub gate: Arc<Gate>,
    /// This region (recorded with each write).
    pub region: Arc<str>,
}

impl AppState {
    /// The state of an app with no write fence (no state tables: tests, a
    /// laptop), in us-east-1.
    pub fn unfenced(db: Arc<Database>, image_tag: &str) -> Self {
        Self {
            db,
            image_tag: image_tag.into(),
            gate: Arc::new(Gate::unfenced()),
            region: "us-east-1".into(),
        }
    }
}

/// The service's routes:
///
/// - `GET /health`: 200 `{"status":"healthy"}` while the process serves
///   (the load balancer's check; it does not touch the database).
/// - `GET /db`: `SELECT 1` on the writer: 200 `{"status":"ok"}`, or 503
///   `{"status":"unavailable","reason":"..."}`. No answer names the
///   writer's host or port ([`crate::db::DbError::public_reason`]); the log
///   does.
/// - `GET /version`: 200 `{"version":"<image tag>"}`.
/// - `GET /writable`: 200 `{"status":"writable","epoch":N}` when the write
///   fence is open and the writer is not read-only; otherwise 503 with
///   `status` `fenced`, `standby`, `read-only` or `unavailable` and a `reason`.
/// - `POST /writes`: one row into the writes table, 201 `{"id":…,"region":…,
///   "epoch":…}`; 503 `{"status":"fenced"|"standby","reason":…}` while the
///   region is fenced or the standby (nothing reaches the database), or
///   `unavailable`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/db", get(db))
        .route("/version", get(version))
        .route("/writable", get(writable))
        .route("/writes", axum::routing::post(write))
        .with_state(state)
}

fn unavailable(status: &str, reason: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": status, "reason": reason})),
    )
        .into_response()
}

async fn writable(State(state): State<AppState>) -> Response {
    let epoch = match state.gate.check().await {
        Ok(epoch) => epoch,
        Err(refused) => return unavailable(refused.status, refused.reason),
    };
    match state.db.read_only().await {
        Ok(false) => Json(json!({"status": "writable", "epoch": epoch})).into_response(),
        Ok(true) => unavailable(
            "read-only",
            "the database answers @@read_only = 1: it is a replica, or was set read-only".into(),
        ),
        Err(e) => {
            tracing::warn!(reason = %e, "GET /writable: the database is unavailable");
            unavailable("unavailable", e.public_reason())
        }
    }
}

async fn write(State(state): State<AppState>) -> Response {
    let epoch = match state.gate.check().await {
        Ok(epoch) => epoch,
        Err(refused) => return unavailable(refused.status, refused.reason),
    };
    match state.db.write(&state.region, epoch).await {
        Ok(id) => (
            StatusCode::CREATED,
            Json(json!({"id": id, "region": &*state.region, "epoch": epoch})),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(reason = %e, "POST /writes: the write failed");
            unavailable("unavailable", e.public_reason())
        }
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "healthy"}))
}

async fn db(State(state): State<AppState>) -> Response {
    match state.db.check().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(reason = %e, "GET /db: the database is unavailable");
            unavailable("unavailable", e.public_reason())
        }
    }
}

async fn version(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"version": &*state.image_tag}))
}

/// Serves `app` on `listener` until `shutdown` completes; then stops
/// accepting, lets the requests in flight finish, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Completes on SIGTERM (what ECS sends before it stops a task) or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let wait = |kind: SignalKind, name: &'static str| async move {
        match signal(kind) {
            Ok(mut s) => {
                s.recv().await;
                tracing::info!(signal = name, "shutting down: draining the requests in flight");
            }
            Err(e) => {
                tracing::error!(signal = name, error = %e, "cannot listen for the signal");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = wait(SignalKind::terminate(), "SIGTERM") => {}
        () = wait(SignalKind::interrupt(), "SIGINT") => {}
    }
}
