//! The `deploy-hook` Lambda: builds its clients once, then validates each
//! hook invocation (see the library).

use deploy_hook::hook::Hook;
use deploy_hook::settings::Settings;
use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;
use tandem_core::aws::load_config;
use tandem_core::cfn::Invocation;
use tandem_core::payload::Payload;
use tandem_core::probe::HttpProber;
use tandem_core::state::StateTable;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // A bad setting stops the function at start, naming it: every hook then
    // fails fast instead of each one waiting out CodeDeploy's hour.
    let settings = Settings::from_env()?;
    let config = load_config().await;
    let hook = Hook {
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&config),
        codedeploy: aws_sdk_codedeploy::Client::new(&config),
        state: (settings.state_table.clone()).map(|name| StateTable::new(aws_sdk_dynamodb::Client::new(&config), name)),
        prober: Arc::new(HttpProber::for_tasks(settings.probe_timeout)),
        region: config.region().map(|r| r.to_string()).unwrap_or_default(),
        settings,
    };
    let hook = &hook;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        let remaining = Invocation::from_context(&event.context).remaining;
        hook.handle_payload(&event.payload, remaining).await
    }))
    .await
}
