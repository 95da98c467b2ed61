//! `tandem-app`: reads its settings, reads the database secret, serves HTTP (or HTTPS)
//! until SIGTERM or SIGINT, and drains the requests in flight before it exits.

use anyhow::Context;
use std::sync::Arc;
use tandem_app::config::{Config, ServeTls};
use tandem_app::db::Database;
use tandem_app::http::{self, AppState};
use tandem_app::secret::{NoSecret, SecretSource, SecretsManagerSource};
use tandem_app::tls;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tandem_core::telemetry::init();
    let config = Config::from_env().context("the environment has a bad setting")?;

    let source: Arc<dyn SecretSource> = match &config.db_secret {
        Some(id) => {
            let sdk = tandem_core::aws::load_config().await;
            Arc::new(SecretsManagerSource::new(aws_sdk_secretsmanager::Client::new(&sdk), id))
        }
        None => {
            tracing::warn!("TANDEM_DB_SECRET is not set: GET /db will answer 503");
            Arc::new(NoSecret)
        }
    };
    let db = Arc::new(Database::new(source, config.db_tls.clone()));
    db.start().await;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %config.listen, version = %config.image_tag, https = config.serve_tls == ServeTls::SelfSigned, "serving");
    let state = AppState {
        db,
        image_tag: config.image_tag.into(),
    };
    let app = http::router(state);
    match config.serve_tls {
        ServeTls::Off => http::serve(listener, app, http::shutdown_signal()).await,
        ServeTls::SelfSigned => {
            let identity = tls::self_signed(&["tandem-app".to_owned()])?;
            tls::serve(listener, app, tls::server_config(identity)?, http::shutdown_signal()).await
        }
    }
    .context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}
