//! The `rollback` Lambda: builds its clients once, then decides and acts on
//! each event (see the library).

use lambda_runtime::{LambdaEvent, service_fn};
use rollback::shell::Rollback;
use tandem_core::aws::load_config;
use tandem_core::payload::Payload;
use tandem_core::state::StateTable;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // A bad setting stops the function at start, naming it.
    let settings = rollback::settings::from_env()?;
    let config = load_config().await;
    let rollback = Rollback {
        codedeploy: aws_sdk_codedeploy::Client::new(&config),
        sns: aws_sdk_sns::Client::new(&config),
        table: StateTable::new(aws_sdk_dynamodb::Client::new(&config), &settings.state_table),
        settings,
    };
    let rollback = &rollback;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        rollback.handle_payload(&event.payload).await.map_err(|e| {
            tracing::error!(error = %e, "the event was not handled");
            lambda_runtime::Error::from(e)
        })
    }))
    .await
}
