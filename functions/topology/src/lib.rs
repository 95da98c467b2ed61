//! The `topology` Lambda's resources: CloudFormation custom resources for
//! the pieces of tandem that span two regions. `main.rs` wires them to the
//! runner.
//!
//! - `Custom::CrossRegionOutputs` ([`cross_region_outputs`]): reads the outputs
//!   of a stack in another region.
//! - `Custom::VpcPeering` ([`vpc_peering`]): peers this region's VPC with one
//!   in another region, and routes between them on both sides.
//! - `Custom::BlueGreenDeployment` ([`blue_green`]): releases an image to
//!   the ECS service through a CodeDeploy blue/green deployment, or through
//!   an ECS service deployment (`Engine: ecs`).

#![warn(missing_docs)]

pub mod blue_green;
pub mod cross_region_outputs;
pub mod vpc_peering;

#[cfg(test)]
mod events {
    //! Every sample in `events/` that this function accepts must parse, name
    //! the resource type its file name says, and carry valid properties
    //! (except the samples named `bad-property`).

    use super::{blue_green, cross_region_outputs, vpc_peering};
    use serde_json::{Map, Value};
    use tandem_core::cfn::{CustomResource, Request, RequestType, check_properties};

    /// A resource type this function serves, and how to check a sample's properties.
    struct Served {
        prefix: &'static str,
        resource_type: &'static str,
        check: fn(&Map<String, Value>) -> Result<(), String>,
    }

    /// Checks like the runner does before a Create or an Update.
    fn checked<R: CustomResource>(raw: &Map<String, Value>) -> Result<(), String> {
        check_properties::<R>(raw).map(|_| ())
    }

    const SERVED: &[Served] = &[
        Served {
            prefix: "blue-green-deployment-",
            resource_type: blue_green::BlueGreenDeployment::RESOURCE_TYPE,
            check: checked::<blue_green::BlueGreenDeployment>,
        },
        Served {
            prefix: "cross-region-outputs-",
            resource_type: cross_region_outputs::CrossRegionOutputs::RESOURCE_TYPE,
            check: checked::<cross_region_outputs::CrossRegionOutputs>,
        },
        Served {
            prefix: "vpc-peering-",
            resource_type: vpc_peering::VpcPeering::RESOURCE_TYPE,
            check: checked::<vpc_peering::VpcPeering>,
        },
    ];

    /// Every sample of every served type: (served type, file name, request).
    fn samples() -> Vec<(&'static Served, String, Request)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(served) = SERVED.iter().find(|s| name.starts_with(s.prefix)) {
                let text = std::fs::read_to_string(&path).unwrap();
                let request = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                found.push((served, name, request));
            }
        }
        found.sort_by(|a, b| a.1.cmp(&b.1));
        found
    }

    #[test]
    fn every_served_type_has_create_update_and_delete_samples() {
        let samples = samples();
        for served in SERVED {
            for kind in ["create", "update", "delete"] {
                let name = format!("{}{kind}.json", served.prefix);
                assert!(samples.iter().any(|(_, n, _)| *n == name), "events/{name} is missing");
            }
        }
    }

    #[test]
    fn every_sample_parses_and_names_a_served_type() {
        for (served, name, request) in samples() {
            assert_eq!(request.resource_type, served.resource_type, "{name}");
            assert!(
                request.response_url.expose().starts_with("http://127.0.0.1:4566/"),
                "{name}"
            );
            for kind in [RequestType::Create, RequestType::Update, RequestType::Delete] {
                if name.ends_with(&format!("-{}.json", kind.to_string().to_lowercase())) {
                    assert_eq!(request.request_type, kind, "{name}");
                }
            }
        }
    }

    #[test]
    fn samples_are_valid_except_the_ones_named_bad() {
        for (served, name, request) in samples() {
            let valid = (served.check)(&request.resource_properties);
            assert_eq!(valid.is_ok(), !name.contains("bad-property"), "{name}: {valid:?}");
            if let Some(old) = &request.old_resource_properties {
                assert_eq!((served.check)(old), Ok(()), "{name}: OldResourceProperties");
            }
        }
    }
}
