//! The `topology` Lambda: builds its clients once, then serves
//! `Custom::CrossRegionOutputs` and `Custom::VpcPeering` (see the library).

use std::sync::Arc;
use tandem_core::aws::{RegionalClients, load_config};
use tandem_core::cfn::sender::HttpTransport;
use tandem_core::cfn::{Runner, SelfInvoke, Settings};
use topology::{cross_region_outputs, vpc_peering};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // Built once per process, outside the handler.
    let config = load_config().await;
    let cloudformation = RegionalClients::new(&config, aws_sdk_cloudformation::Client::new);
    let ec2 = RegionalClients::new(&config, aws_sdk_ec2::Client::new);
    let runner = Runner::new(Arc::new(HttpTransport::new()), Settings::from_env())
        .serve(cross_region_outputs::CrossRegionOutputs::new(cloudformation))
        .serve(vpc_peering::VpcPeering::new(ec2))
        .continue_with(Arc::new(SelfInvoke::from_config(&config)));
    tandem_core::cfn::serve(runner).await
}
