//! The `notify` Lambda: builds its clients once, then posts each ops-topic
//! message to the chat webhook (see the library).

use lambda_runtime::{LambdaEvent, service_fn};
use notify::shell::Notify;
use std::time::Duration;
use tandem_core::aws::load_config;
use tandem_core::payload::Payload;
use tandem_core::state::StateTable;
use tandem_core::webhook::HttpsPoster;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // A bad setting stops the function at start, naming it.
    let settings = notify::settings::from_env()?;
    let config = load_config().await;
    let notify = Notify::new(
        aws_sdk_secretsmanager::Client::new(&config),
        StateTable::new(aws_sdk_dynamodb::Client::new(&config), &settings.state_table),
        Box::new(HttpsPoster::new(Duration::from_secs(settings.timeout_secs))),
        settings,
    );
    let notify = &notify;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        notify.handle_payload(&event.payload).await.map_err(|e| {
            tracing::error!(error = %e, "the event was not delivered");
            lambda_runtime::Error::from(e)
        })
    }))
    .await
}
