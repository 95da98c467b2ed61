//! The `topology` Lambda: CloudFormation custom resources for the pieces of
//! tandem that span two regions.
//!
//! - `Custom::CrossRegionOutputs` ([`cross_region_outputs`]): reads the outputs
//!   of a stack in another region.

mod cross_region_outputs;

use std::sync::Arc;
use tandem_core::aws::{RegionalClients, load_config};
use tandem_core::cfn::sender::HttpTransport;
use tandem_core::cfn::{Runner, SelfInvoke, Settings};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::telemetry::init();
    // Built once per process, outside the handler.
    let config = load_config().await;
    let cloudformation = RegionalClients::new(&config, aws_sdk_cloudformation::Client::new);
    let runner = Runner::new(Arc::new(HttpTransport::new()), Settings::from_env())
        .serve(cross_region_outputs::CrossRegionOutputs::new(cloudformation))
        .continue_with(Arc::new(SelfInvoke::from_config(&config)));
    tandem_core::cfn::serve(runner).await
}
