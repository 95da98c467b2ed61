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

#[cfg(test)]
mod events {
    //! Every sample in `events/` that this function accepts must parse, name
    //! a resource type it serves, and carry valid properties.

    use super::cross_region_outputs::{CrossRegionOutputs, Props, validate};
    use tandem_core::cfn::{CustomResource, Request, props};

    fn samples() -> Vec<(String, Request)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("cross-region-outputs-") {
                let text = std::fs::read_to_string(&path).unwrap();
                let request = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                found.push((name, request));
            }
        }
        found
    }

    #[test]
    fn every_sample_parses_and_names_a_served_type() {
        let samples = samples();
        assert!(samples.len() >= 3, "create, update and delete samples at least");
        for (name, request) in samples {
            assert_eq!(request.resource_type, CrossRegionOutputs::RESOURCE_TYPE, "{name}");
            assert!(
                request.response_url.expose().starts_with("http://127.0.0.1:4566/"),
                "{name}"
            );
        }
    }

    #[test]
    fn samples_are_valid_except_the_ones_named_bad() {
        for (name, request) in samples() {
            let parsed = props::parse::<Props>(&request.resource_properties).map_err(|e| e.to_string());
            let valid = parsed.and_then(|p| validate(&p));
            assert_eq!(valid.is_ok(), !name.contains("bad-property"), "{name}: {valid:?}");
        }
    }
}
