//! The `topology` Lambda: builds its clients once, then serves
//! `Custom::CrossRegionOutputs`, `Custom::VpcPeering` and
//! `Custom::BlueGreenDeployment` (see the library).

use std::sync::Arc;
use tandem_core::aws::{RegionalClients, load_config};
use tandem_core::cfn::sender::HttpTransport;
use tandem_core::cfn::{Runner, SelfInvoke, Settings};
use topology::{blue_green, cross_region_outputs, vpc_peering};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // Built once per process, outside the handler.
    let config = load_config().await;
    let cloudformation = RegionalClients::new(&config, aws_sdk_cloudformation::Client::new);
    let ec2 = RegionalClients::new(&config, aws_sdk_ec2::Client::new);
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let releases = blue_green::BlueGreenDeployment::new(
        aws_sdk_ecs::Client::new(&config),
        aws_sdk_codedeploy::Client::new(&config),
        aws_sdk_dynamodb::Client::new(&config),
        region,
    );
    let runner = Runner::new(Arc::new(HttpTransport::new()), Settings::from_env())
        .serve(cross_region_outputs::CrossRegionOutputs::new(cloudformation))
        .serve(vpc_peering::VpcPeering::new(ec2))
        .serve(releases)
        .continue_with(Arc::new(SelfInvoke::from_config(&config)));
    tandem_core::cfn::serve(runner).await
}
