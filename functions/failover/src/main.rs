//! The `failover` Lambda: builds its clients once, then handles each event
//! (see the library).

use failover::shell::{Failover, Invocation};
use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tandem_core::aws::load_config;
use tandem_core::payload::Payload;
use tandem_core::probe::HttpProber;
use tandem_core::state::StateTable;

/// Time kept back from the Lambda deadline to record where a promotion got.
const DEADLINE_MARGIN: Duration = Duration::from_secs(20);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // A bad setting stops the function at start, naming it.
    let settings = failover::settings::from_env()?;
    let config = load_config().await;
    // The peer's table, for a later epoch; its calls end within the shell's
    // own timeout, since the peer may be the region that is down.
    let peer_config = tandem_core::aws::config_for_region(&config, &settings.peer_region);
    // One attempt (the peer may be the region that is down; the next round
    // reads it again), within the shell's own limit.
    let retry = aws_sdk_dynamodb::config::retry::RetryConfig::disabled();
    let peer_dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&peer_config)
            .retry_config(retry)
            .build(),
    );
    let failover = Failover {
        rds: aws_sdk_rds::Client::new(&config),
        secrets: aws_sdk_secretsmanager::Client::new(&config),
        cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
        sns: aws_sdk_sns::Client::new(&config),
        table: StateTable::new(aws_sdk_dynamodb::Client::new(&config), &settings.state_table),
        peer_table: Some(StateTable::new(peer_dynamodb, &settings.state_table)),
        prober: Arc::new(HttpProber::new(Duration::from_secs(settings.probe_timeout_secs))),
        settings,
    };
    let failover = &failover;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(DEADLINE_MARGIN);
        let call = Invocation {
            request_id: event.context.request_id.clone(),
            until: tokio::time::Instant::now() + left,
        };
        // The error itself, not a `Diagnostic`: the runtime logs it with `{:?}`,
        // which is its sentence (a `Diagnostic` would print as a struct dump),
        // and turns it into the named type and sentence Lambda records.
        failover.handle_payload(&event.payload, &call).await.inspect_err(|e| {
            tracing::error!(error = %e, "the event was not handled");
        })
    }))
    .await
}
