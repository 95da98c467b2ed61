//! The properties of `Custom::BlueGreenDeployment`, and their checks beyond types.

use super::contract;
use serde::Deserialize;
use std::collections::BTreeMap;
use tandem_core::cfn::props;
use tandem_core::image::{IMAGE_TAG_RULE, is_image_tag};

/// The resource's properties, as CloudFormation sends them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Props {
    /// The ECS cluster of the service.
    pub cluster: String,
    /// The ECS service, under the `CODE_DEPLOY` deployment controller.
    pub service: String,
    /// The task count the first release scales the service to (a service
    /// is created with zero tasks: there is no image before it). Later
    /// releases leave the count to auto scaling. `0` never scales.
    #[serde(deserialize_with = "props::number")]
    pub desired_count: i32,
    /// The task-definition family to register revisions in.
    pub family: String,
    /// The ECR repository URI, without a tag.
    pub repository_uri: String,
    /// The image tag to release; empty means "no release yet" (nothing is deployed).
    #[serde(default)]
    pub image_tag: String,
    /// The container's name (the load balancer targets it).
    pub container_name: String,
    /// The port the container listens on.
    #[serde(deserialize_with = "props::number")]
    pub container_port: u16,
    /// Fargate task CPU units, such as `256`.
    pub cpu: String,
    /// Fargate task memory in MiB, such as `512`.
    pub memory: String,
    /// `ARM64` (the default) or `X86_64`.
    #[serde(default = "default_architecture")]
    pub cpu_architecture: String,
    /// The role ECS pulls the image and writes logs with.
    pub execution_role_arn: String,
    /// The role the app runs as.
    pub task_role_arn: String,
    /// The CloudWatch Logs group of the container.
    pub log_group: String,
    /// The container's environment (`TANDEM_IMAGE_TAG` is added from `ImageTag`).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// More of the container's variables, from `NAME=value` entries (the
    /// app contract's `CommaDelimitedList`; empty entries ignored).
    #[serde(default, deserialize_with = "contract::extra_environment")]
    pub extra_environment: BTreeMap<String, String>,
    /// The container's secrets: each variable's Secrets Manager ARN, from
    /// `NAME=<secret ARN>` entries (empty entries ignored).
    #[serde(default, deserialize_with = "contract::secrets")]
    pub secrets: BTreeMap<String, String>,
    /// What moves traffic to a release: CodeDeploy (the default) or ECS itself.
    #[serde(default)]
    pub engine: Engine,
    /// The CodeDeploy application (required under the `codedeploy` engine).
    #[serde(default)]
    pub application_name: String,
    /// The CodeDeploy deployment group of the service (required under the
    /// `codedeploy` engine).
    #[serde(default)]
    pub deployment_group_name: String,
    /// The lifecycle-hook function (name or ARN) that the AppSpec names.
    pub hook_function: String,
    /// The region's state table, where the release is recorded.
    pub state_table: String,
}

fn default_architecture() -> String {
    "ARM64".into()
}

/// The release engine: what moves traffic from the serving task definition
/// to the released one (`Engine`; `codedeploy` when absent).
pub use tandem_core::release_engine::ReleaseEngine as Engine;

/// The environment names a release sets itself.
const RESERVED_ENVIRONMENT: &[&str] = &["TANDEM_IMAGE_TAG"];

/// Checks the properties beyond their types; the error names the property and the fix.
pub fn validate(p: &Props) -> Result<(), String> {
    let required = [
        ("Cluster", &p.cluster),
        ("Service", &p.service),
        ("Family", &p.family),
        ("RepositoryUri", &p.repository_uri),
        ("ContainerName", &p.container_name),
        ("ExecutionRoleArn", &p.execution_role_arn),
        ("TaskRoleArn", &p.task_role_arn),
        ("LogGroup", &p.log_group),
        ("StateTable", &p.state_table),
    ];
    if let Some((name, _)) = required.iter().find(|(_, value)| value.trim().is_empty()) {
        return Err(format!("property `{name}` is empty; give it a value"));
    }
    if p.engine == Engine::CodeDeploy {
        let codedeploy = [
            ("ApplicationName", &p.application_name),
            ("DeploymentGroupName", &p.deployment_group_name),
        ];
        if let Some((name, _)) = codedeploy.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(format!(
                "property `{name}` is empty; give it a value (the codedeploy engine deploys through it), \
                 or set `Engine` to \"ecs\""
            ));
        }
    }
    if !p.image_tag.is_empty() && !is_image_tag(&p.image_tag) {
        return Err(format!(
            "property `ImageTag` is {:?}, which is not an image tag: use {IMAGE_TAG_RULE}",
            p.image_tag
        ));
    }
    // A registry host may carry a port (`host:5000/repo`): only the path's last part may not.
    let repository = p.repository_uri.rsplit('/').next().unwrap_or_default();
    if repository.contains(':') || p.repository_uri.contains('@') {
        return Err(format!(
            "property `RepositoryUri` is {:?}; give the repository without a tag or digest (the tag goes in `ImageTag`)",
            p.repository_uri
        ));
    }
    if !p.image_tag.is_empty() && p.hook_function.trim().is_empty() {
        return Err(
            "property `HookFunction` is empty, so no lifecycle hook would validate the release; \
             deploy the deploy-hook function first (make deploy), then release"
                .into(),
        );
    }
    if p.desired_count < 0 {
        return Err(format!(
            "property `DesiredCount` is {}; use 0 (never scale) or more",
            p.desired_count
        ));
    }
    if p.container_port == 0 {
        return Err("property `ContainerPort` is 0; use the port the container listens on".into());
    }
    if !["ARM64", "X86_64"].contains(&p.cpu_architecture.as_str()) {
        return Err(format!(
            "property `CpuArchitecture` is {:?}; use \"ARM64\" or \"X86_64\"",
            p.cpu_architecture
        ));
    }
    for (field, value) in [("Cpu", &p.cpu), ("Memory", &p.memory)] {
        if value.parse::<u32>().map_or(true, |n| n == 0) {
            return Err(format!(
                "property `{field}` is {value:?}; give a whole number, such as \"256\" for Cpu or \"512\" for Memory"
            ));
        }
    }
    if let Some(name) = p
        .environment
        .keys()
        .find(|k| RESERVED_ENVIRONMENT.contains(&k.as_str()))
    {
        return Err(format!(
            "property `Environment` sets {name}, which the release sets itself from `ImageTag`; remove it"
        ));
    }
    app_contract(p)
}

/// `ExtraEnvironment` and `Secrets` set no name that `Environment`, the
/// release or the other one sets already.
fn app_contract(p: &Props) -> Result<(), String> {
    let set_by = |name: &str| {
        if RESERVED_ENVIRONMENT.contains(&name) {
            Some("the release sets it itself from `ImageTag`: remove the entry")
        } else if p.environment.contains_key(name) {
            Some("`Environment` sets it already: keep it in one of the two")
        } else {
            None
        }
    };
    for name in p.extra_environment.keys() {
        if let Some(fix) = set_by(name) {
            return Err(format!("property `ExtraEnvironment` sets {name}, but {fix}"));
        }
    }
    for name in p.secrets.keys() {
        let fix = set_by(name).or_else(|| {
            (p.extra_environment.contains_key(name))
                .then_some("`ExtraEnvironment` sets it already: keep it in one of the two")
        });
        if let Some(fix) = fix {
            return Err(format!("property `Secrets` sets {name}, but {fix}"));
        }
    }
    Ok(())
}

/// The properties the region stack gives, as CloudFormation sends them.
#[cfg(test)]
pub(crate) fn raw_fixture() -> serde_json::Value {
    serde_json::json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tandem-dev-topology",
        "Cluster": "tandem-dev",
        "Service": "tandem-dev-app",
        "DesiredCount": "2",
        "Family": "tandem-dev-app",
        "RepositoryUri": "123456789012.images.example/tandem-dev-app",
        "ImageTag": "v1.2.3",
        "ContainerName": "app",
        "ContainerPort": "8080",
        "Cpu": "256",
        "Memory": "512",
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/tandem-dev-task-execution-us-east-1",
        "TaskRoleArn": "arn:aws:iam::123456789012:role/tandem-dev-task-us-east-1",
        "LogGroup": "/ecs/tandem-dev",
        "Environment": {"TANDEM_ENV": "dev", "PORT": "8080"},
        "ApplicationName": "tandem-dev",
        "DeploymentGroupName": "tandem-dev-app",
        "HookFunction": "tandem-dev-deploy-hook",
        "StateTable": "tandem-dev-state"
    })
}

/// [`raw_fixture`], parsed.
#[cfg(test)]
pub(crate) fn fixture() -> Props {
    props::parse(raw_fixture().as_object().unwrap()).unwrap()
}

/// [`raw_fixture`] under the ECS engine: `Engine: ecs`, no CodeDeploy names.
#[cfg(test)]
pub(crate) fn raw_ecs_fixture() -> serde_json::Value {
    let mut raw = raw_fixture();
    let object = raw.as_object_mut().unwrap();
    object.remove("ApplicationName");
    object.remove("DeploymentGroupName");
    object.insert("Engine".into(), "ecs".into());
    raw
}

/// [`raw_ecs_fixture`], parsed.
#[cfg(test)]
pub(crate) fn ecs_fixture() -> Props {
    props::parse(raw_ecs_fixture().as_object().unwrap()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw() -> serde_json::Value {
        raw_fixture()
    }

    fn with(key: &str, value: serde_json::Value) -> Result<Props, String> {
        let mut raw = raw();
        raw[key] = value;
        let p: Props = props::parse(raw.as_object().unwrap()).map_err(|e| e.to_string())?;
        validate(&p).map(|_| p)
    }

    #[test]
    fn the_stack_properties_parse_with_cloudformation_strings() {
        let p = with("ImageTag", json!("v1.2.3")).unwrap();
        assert_eq!(p.desired_count, 2);
        assert_eq!(p.container_port, 8080);
        assert_eq!(p.cpu_architecture, "ARM64");
        assert_eq!(p.environment["TANDEM_ENV"], "dev");
    }

    #[test]
    fn an_empty_image_tag_is_valid_and_means_no_release() {
        let p = with("ImageTag", json!("")).unwrap();
        assert!(p.image_tag.is_empty());
        assert!(with("HookFunction", json!("")).is_err());
        let mut raw = raw();
        raw["ImageTag"] = json!("");
        raw["HookFunction"] = json!("");
        let p: Props = props::parse(raw.as_object().unwrap()).unwrap();
        assert_eq!(validate(&p), Ok(()), "no hook is needed before the first release");
    }

    #[test]
    fn bad_values_are_refused_naming_the_property_and_the_fix() {
        let cases = [
            ("ImageTag", json!("-bad"), "`ImageTag`"),
            ("ImageTag", json!("a:b"), "not an image tag"),
            ("RepositoryUri", json!("registry.example/repo:tag"), "without a tag"),
            (
                "RepositoryUri",
                json!("registry.example/repo@sha256:00"),
                "without a tag",
            ),
            ("Cluster", json!(" "), "`Cluster` is empty"),
            ("DesiredCount", json!("-1"), "`DesiredCount`"),
            ("ContainerPort", json!("0"), "`ContainerPort`"),
            ("CpuArchitecture", json!("arm"), "\"ARM64\""),
            ("Cpu", json!("quarter"), "`Cpu`"),
            ("Memory", json!("0"), "`Memory`"),
            ("Environment", json!({"TANDEM_IMAGE_TAG": "x"}), "sets TANDEM_IMAGE_TAG"),
            ("HookFunction", json!(""), "deploy-hook"),
        ];
        for (key, value, needle) in cases {
            let err = with(key, value.clone()).unwrap_err();
            assert!(err.contains(needle), "{key}={value}: {err}");
        }
        let err = with("ContainerPort", json!("http")).unwrap_err();
        assert!(err.contains("ContainerPort"), "{err}");
    }

    #[test]
    fn a_registry_with_a_port_is_a_repository_without_a_tag() {
        let p = with("RepositoryUri", json!("localhost:5000/tandem-dev-app")).unwrap();
        assert_eq!(p.repository_uri, "localhost:5000/tandem-dev-app");
    }
}
