//! What a release deploys, derived from the properties alone: the task
//! definition's settings with their fingerprint, and the AppSpec that
//! CodeDeploy follows.

use super::props::Props;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The tag that carries a task definition's [`TaskSpec::fingerprint`], so
/// that an Update can tell whether its settings are already live.
pub const SPEC_TAG: &str = "tandem:spec";

/// The three hooks CodeDeploy calls the validator for, in the order they run.
pub const HOOKS: [&str; 3] = ["AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"];

/// Everything that shapes the task definition a release registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskSpec {
    /// The task-definition family.
    pub family: String,
    /// `repository:tag`.
    pub image: String,
    /// Fargate CPU units.
    pub cpu: String,
    /// Fargate memory (MiB).
    pub memory: String,
    /// `ARM64` or `X86_64`.
    pub cpu_architecture: String,
    /// The container's name.
    pub container_name: String,
    /// The container's port.
    pub container_port: u16,
    /// The container's environment, `TANDEM_IMAGE_TAG` included.
    pub environment: BTreeMap<String, String>,
    /// The role ECS pulls and logs with.
    pub execution_role_arn: String,
    /// The role the app runs as.
    pub task_role_arn: String,
    /// The container's log group.
    pub log_group: String,
    /// The log group's region (this one).
    pub log_region: String,
}

impl TaskSpec {
    /// The spec of a release of `props` in `region`.
    pub fn new(props: &Props, region: &str) -> Self {
        let mut environment = props.environment.clone();
        environment.insert("TANDEM_IMAGE_TAG".into(), props.image_tag.clone());
        Self {
            family: props.family.clone(),
            image: format!("{}:{}", props.repository_uri, props.image_tag),
            cpu: props.cpu.clone(),
            memory: props.memory.clone(),
            cpu_architecture: props.cpu_architecture.clone(),
            container_name: props.container_name.clone(),
            container_port: props.container_port,
            environment,
            execution_role_arn: props.execution_role_arn.clone(),
            task_role_arn: props.task_role_arn.clone(),
            log_group: props.log_group.clone(),
            log_region: region.to_owned(),
        }
    }

    /// A stable digest of every setting: equal fingerprints, same task.
    pub fn fingerprint(&self) -> String {
        // serde_json writes struct fields in declaration order and the
        // environment sorted (a BTreeMap), so the text is canonical.
        let text = serde_json::to_string(self).unwrap_or_default();
        sha256_hex(&text)
    }
}

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
    use crate::blue_green::props::fixture;

    #[test]
    fn the_spec_adds_the_image_tag_and_names_the_image() {
        let spec = TaskSpec::new(&fixture(), "us-east-1");
        assert_eq!(spec.image, "123456789012.images.example/tandem-dev-app:v1.2.3");
        assert_eq!(spec.environment["TANDEM_IMAGE_TAG"], "v1.2.3");
        assert_eq!(spec.environment["TANDEM_ENV"], "dev");
        assert!(
            !spec.environment.contains_key("TANDEM_REGION_ROLE"),
            "the role is not baked in"
        );
    }

    #[test]
    fn the_fingerprint_changes_with_every_setting_and_only_then() {
        let base = TaskSpec::new(&fixture(), "us-east-1");
        assert_eq!(base.fingerprint(), TaskSpec::new(&fixture(), "us-east-1").fingerprint());
        assert_eq!(base.fingerprint().len(), 64);
        type Change = Box<dyn Fn(&mut Props)>;
        let changes: Vec<Change> = vec![
            Box::new(|p| p.image_tag = "v2".into()),
            Box::new(|p| p.cpu = "512".into()),
            Box::new(|p| p.memory = "1024".into()),
            Box::new(|p| p.container_port = 9090),
            Box::new(|p| {
                p.environment.insert("X".into(), "1".into());
            }),
            Box::new(|p| p.task_role_arn.push('x')),
            Box::new(|p| p.execution_role_arn.push('x')),
            Box::new(|p| p.log_group.push('x')),
            Box::new(|p| p.cpu_architecture = "X86_64".into()),
            Box::new(|p| p.family.push('x')),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut props = fixture();
            change(&mut props);
            assert_ne!(
                TaskSpec::new(&props, "us-east-1").fingerprint(),
                base.fingerprint(),
                "change {i}"
            );
        }
        let mut same = fixture();
        same.desired_count = 9;
        same.hook_function = "other".into();
        assert_eq!(
            TaskSpec::new(&same, "us-east-1").fingerprint(),
            base.fingerprint(),
            "settings outside the task definition do not count"
        );
    }

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
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
