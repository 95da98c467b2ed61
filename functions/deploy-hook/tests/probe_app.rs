//! The hook's real prober against the real app, served on loopback: the
//! smoke paths the template configures answer as the hook expects, and a
//! green task whose database is unreachable fails the `/db` check.

use deploy_hook::decide::{Probe, probes_pass};
use deploy_hook::settings::parse_smoke_paths;
use std::sync::Arc;
use std::time::Duration;
use tandem_app::config::DbTls;
use tandem_app::db::Database;
use tandem_app::http::{AppState, router, serve};
use tandem_app::secret::NoSecret;
use tandem_core::probe::{HttpProber, Prober};

/// Serves the app with no database configured; returns its `ip:port`.
async fn app_without_database() -> String {
    let state = AppState::unfenced(Arc::new(Database::new(Arc::new(NoSecret), DbTls::Disabled)), "abc123");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve(listener, router(state), std::future::pending()));
    endpoint
}

async fn probe_all(endpoint: &str, paths: &str) -> Vec<Probe> {
    let prober = HttpProber::new(Duration::from_secs(5));
    let mut probes = Vec::new();
    for expected in parse_smoke_paths(paths, "/health").unwrap() {
        let answer = prober.get(&format!("http://{endpoint}{}", expected.path)).await;
        probes.push(Probe {
            endpoint: endpoint.to_owned(),
            expected,
            answer,
        });
    }
    probes
}

#[tokio::test]
async fn health_and_version_pass_on_the_real_app() {
    let endpoint = app_without_database().await;
    let probes = probe_all(&endpoint, "/version=200").await;
    assert_eq!(
        probes_pass(&probes).unwrap(),
        "the green targets are healthy and answered /health, /version as expected"
    );
}

#[tokio::test]
async fn a_green_task_without_its_database_fails_the_db_check() {
    let endpoint = app_without_database().await;
    // The paths the region template gives the hook.
    let probes = probe_all(&endpoint, "/version=200,/db=200").await;
    let why = probes_pass(&probes).unwrap_err();
    assert_eq!(why, format!("GET /db on {endpoint} answered 503, not 200"));
}
