//! `tandem-app`: reads its settings, reads the database secret, serves HTTP (or HTTPS)
//! until SIGTERM or SIGINT, and drains the requests in flight before it exits.

use anyhow::Context;
use std::sync::Arc;
use tandem_app::config::{Config, ServeTls};
use tandem_app::db::Database;
use tandem_app::fence::Gate;
use tandem_app::http::{self, AppState};
use tandem_app::secret::{NoSecret, SecretSource, SecretsManagerSource, WithEndpoint};
use tandem_app::tls;
use tandem_core::state::StateTable;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tandem_core::telemetry::init();
    let config = Config::from_env().context("the environment has a bad setting")?;

    let needs_aws = config.db_secret.is_some() || config.fence.is_some();
    let sdk = if needs_aws {
        Some(tandem_core::aws::load_config().await)
    } else {
        None
    };
    let source: Arc<dyn SecretSource> = match (&config.db_secret, &sdk) {
        (Some(id), Some(sdk)) => {
            let client = aws_sdk_secretsmanager::Client::new(sdk);
            let credentials: Arc<dyn SecretSource> = Arc::new(SecretsManagerSource::new(client.clone(), id));
            match &config.db_endpoint_secret {
                Some(endpoint) => Arc::new(WithEndpoint::new(
                    credentials,
                    Arc::new(SecretsManagerSource::new(client, endpoint)),
                )),
                None => credentials,
            }
        }
        _ => {
            tracing::warn!("TANDEM_DB_SECRET is not set: GET /db will answer 503");
            Arc::new(NoSecret)
        }
    };
    let (gate, region) = match (&config.fence, &sdk) {
        (Some(f), Some(sdk)) => {
            let table = |region: &str| {
                let config = tandem_core::aws::config_for_region(sdk, region);
                Arc::new(StateTable::new(
                    aws_sdk_dynamodb::Client::new(&config),
                    StateTable::name_for(&f.env),
                ))
            };
            let gate = Gate::new(
                &f.region,
                &f.configured_primary,
                table(&f.region),
                table(&f.peer_region),
                f.ttl,
            );
            (gate, f.region.clone())
        }
        _ => {
            tracing::warn!("TANDEM_ENV is not set: no write fence (a laptop or a test)");
            (Gate::unfenced(), "unknown".to_owned())
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
        gate: Arc::new(gate),
        region: region.into(),
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
