//! What a release deploys, derived from the properties alone: the task
//! definition's settings with their fingerprint (the AppSpec that CodeDeploy
//! follows is in `tandem_core::appspec`, shared with the rollback function).

use super::props::Props;
use serde::Serialize;
use std::collections::BTreeMap;
pub use tandem_core::appspec::{HOOKS, appspec, sha256_hex};

/// The tag that carries a task definition's [`TaskSpec::fingerprint`], so
/// that an Update can tell whether its settings are already live.
pub const SPEC_TAG: &str = "tandem:spec";

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
    /// The container's environment: `Environment`, `ExtraEnvironment` and
    /// `TANDEM_IMAGE_TAG`.
    pub environment: BTreeMap<String, String>,
    /// The role ECS pulls and logs with.
    pub execution_role_arn: String,
    /// The role the app runs as.
    pub task_role_arn: String,
    /// The container's log group.
    pub log_group: String,
    /// The log group's region (this one).
    pub log_region: String,
    /// The container's secrets: each variable's Secrets Manager ARN. Left
    /// out of the fingerprint's text when there are none, so that a spec
    /// without secrets has the fingerprint it had before they existed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, String>,
}

impl TaskSpec {
    /// The spec of a release of `props` in `region`.
    pub fn new(props: &Props, region: &str) -> Self {
        let mut environment = props.environment.clone();
        environment.extend(props.extra_environment.clone());
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
            secrets: props.secrets.clone(),
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

    /// The fixture's fingerprint as the code before `ExtraEnvironment` and
    /// `Secrets` computed it: a stack that sets neither must see no release.
    const FINGERPRINT_BEFORE_THE_APP_CONTRACT: &str =
        "4bbd8bb5d93f2f8784833a50289f33911a7adb1290d7afadca05c0625dcff052";

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tandem-dev/api-AbCdEf";

    #[test]
    fn without_extra_environment_or_secrets_the_fingerprint_is_the_one_of_before() {
        let spec = TaskSpec::new(&fixture(), "us-east-1");
        assert_eq!(spec.fingerprint(), FINGERPRINT_BEFORE_THE_APP_CONTRACT);
        let text = serde_json::to_string(&spec).unwrap();
        assert!(!text.contains("secrets"), "{text}");
    }

    #[test]
    fn extra_variables_join_the_environment_and_secrets_stay_apart() {
        let mut props = fixture();
        props.extra_environment.insert("FEATURE".into(), "on".into());
        props.secrets.insert("API_KEY".into(), SECRET.into());
        let spec = TaskSpec::new(&props, "us-east-1");
        assert_eq!(spec.environment["FEATURE"], "on");
        assert_eq!(spec.environment["TANDEM_ENV"], "dev");
        assert!(
            !spec.environment.contains_key("API_KEY"),
            "a secret is no plain variable"
        );
        assert_eq!(spec.secrets["API_KEY"], SECRET);
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
            Box::new(|p| {
                p.extra_environment.insert("FEATURE".into(), "on".into());
            }),
            Box::new(|p| {
                p.secrets.insert("API_KEY".into(), SECRET.into());
            }),
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
        same.engine = crate::blue_green::props::Engine::Ecs;
        same.application_name.clear();
        assert_eq!(
            TaskSpec::new(&same, "us-east-1").fingerprint(),
            base.fingerprint(),
            "settings outside the task definition do not count"
        );
    }
}
