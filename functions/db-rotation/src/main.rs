//! The `db-rotation` Lambda: builds its clients once, then runs each rotation
//! step Secrets Manager invokes it with (see the library).

use db_rotation::db::MariaDb;
use db_rotation::shell::Rotation;
use lambda_runtime::{LambdaEvent, service_fn};
use tandem_core::aws::load_config;
use tandem_core::payload::Payload;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // A bad setting stops the function at start, naming it.
    let settings = db_rotation::settings::from_env()?;
    let config = load_config().await;
    let rotation = Rotation::new(
        aws_sdk_secretsmanager::Client::new(&config),
        Box::new(MariaDb::new(settings.db_tls.clone())),
        settings,
    );
    let rotation = &rotation;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        rotation.handle_payload(&event.payload).await.map_err(|e| {
            tracing::error!(error = %e, "the rotation step failed");
            lambda_runtime::Error::from(e)
        })
    }))
    .await
}
