//! The AppSpec of an ECS blue/green deployment, as CodeDeploy takes it
//! inline (`AppSpecContent`: the content and its SHA-256).

use serde_json::json;
use sha2::{Digest, Sha256};

/// The three hooks CodeDeploy calls the validator for, in the order they run.
pub const HOOKS: [&str; 3] = ["AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"];

/// The lowercase hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The AppSpec (JSON) of a deployment of `task_definition_arn` to the
/// service, with `hook_function` validating each of the [`HOOKS`].
pub fn appspec(task_definition_arn: &str, container_name: &str, container_port: u16, hook_function: &str) -> String {
    let hooks: Vec<_> = HOOKS.iter().map(|hook| json!({ *hook: hook_function })).collect();
    json!({
        "version": 0.0,
        "Resources": [{
            "TargetService": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "TaskDefinition": task_definition_arn,
                    "LoadBalancerInfo": {
                        "ContainerName": container_name,
                        "ContainerPort": container_port
                    }
                }
            }
        }],
        "Hooks": hooks
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_appspec_names_the_task_definition_the_container_and_all_three_hooks() {
        let text = appspec("arn:td:7", "app", 8080, "tandem-dev-deploy-hook");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let props = &v["Resources"][0]["TargetService"]["Properties"];
        assert_eq!(props["TaskDefinition"], "arn:td:7");
        assert_eq!(props["LoadBalancerInfo"]["ContainerName"], "app");
        assert_eq!(props["LoadBalancerInfo"]["ContainerPort"], 8080);
        let hooks: Vec<String> = v["Hooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let (name, function) = h.as_object().unwrap().iter().next().unwrap();
                assert_eq!(function, "tandem-dev-deploy-hook");
                name.clone()
            })
            .collect();
        assert_eq!(hooks, HOOKS);
    }

    #[test]
    fn the_digest_is_sha256_in_lowercase_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
