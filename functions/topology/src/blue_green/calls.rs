//! The resource's ECS and CodeDeploy calls: what both engines observe and
//! register, and the CodeDeploy engine's deployment (the ECS engine's is in
//! `ecs_calls.rs`). Each returns one readable sentence on failure, naming
//! the call, what it was about and the fix.

use super::plan::{DeploymentView, Observed, Status, TrafficShift};
use super::props::{Engine, Props};
use super::spec::{SPEC_TAG, TaskSpec};
use aws_sdk_codedeploy::types::{AppSpecContent, RevisionLocation, RevisionLocationType};
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, KeyValuePair, LogConfiguration, LogDriver, NetworkMode,
    OsFamily, PortMapping, RuntimePlatform, Secret, Tag, TaskDefinitionField, TransportProtocol,
};
use tandem_core::aws::{error_code, error_text, is_unreadable_answer};

/// The service's live task definition, its spec tag and its task count.
pub(super) async fn observe(ecs: &aws_sdk_ecs::Client, props: &Props) -> Result<Observed, String> {
    let out = (ecs.describe_services())
        .cluster(&props.cluster)
        .services(&props.service)
        .send()
        .await
        .map_err(|e| {
            let fix = if is_unreadable_answer(&e) {
                "ECS answered with a service the SDK cannot read; see which field with \
                 `aws ecs describe-services`, correct it in the region stack, then retry"
            } else {
                "check that the cluster exists and retry"
            };
            format!(
                "ECS DescribeServices of {} in cluster {} failed ({}); {fix}",
                props.service,
                props.cluster,
                error_text(&e)
            )
        })?;
    let service = out.services().first().ok_or_else(|| {
        format!(
            "ECS has no service {} in cluster {}; deploy the region stack first (make deploy)",
            props.service, props.cluster
        )
    })?;
    let primary = match props.engine {
        // Under CODE_DEPLOY the primary task set is what serves.
        Engine::CodeDeploy => (service.task_sets().iter())
            .find(|set| set.status() == Some("PRIMARY"))
            .and_then(|set| set.task_definition()),
        Engine::Ecs => super::ecs_calls::primary_deployment(service),
    };
    let live = primary.or(service.task_definition()).map(str::to_owned);
    let fingerprint = match &live {
        None => None,
        Some(arn) => {
            let described = (ecs.describe_task_definition())
                .task_definition(arn)
                .include(TaskDefinitionField::Tags)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ECS DescribeTaskDefinition of the live {arn} failed ({}); retry",
                        error_text(&e)
                    )
                })?;
            (described.tags().iter())
                .find(|tag| tag.key() == Some(SPEC_TAG))
                .and_then(|tag| tag.value())
                .map(str::to_owned)
        }
    };
    Ok(Observed {
        live_task_definition: live,
        live_fingerprint: fingerprint,
        desired_count: service.desired_count(),
    })
}

/// Registers a revision of `spec`, tagged with its fingerprint; returns its ARN.
pub(super) async fn register(ecs: &aws_sdk_ecs::Client, spec: &TaskSpec, fingerprint: &str) -> Result<String, String> {
    let logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &spec.log_group)
        .options("awslogs-region", &spec.log_region)
        .options("awslogs-stream-prefix", &spec.container_name)
        .build()
        .map_err(|e| format!("the log configuration of {} is incomplete ({e})", spec.family))?;
    let mut container = ContainerDefinition::builder()
        .name(&spec.container_name)
        .image(&spec.image)
        .essential(true)
        .readonly_root_filesystem(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(i32::from(spec.container_port))
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .log_configuration(logs);
    for (name, value) in &spec.environment {
        container = container.environment(KeyValuePair::builder().name(name).value(value).build());
    }
    for (name, arn) in &spec.secrets {
        let secret = Secret::builder()
            .name(name)
            .value_from(arn)
            .build()
            .map_err(|e| format!("the secret {name} of {} is incomplete ({e})", spec.family))?;
        container = container.secrets(secret);
    }
    let out = (ecs.register_task_definition())
        .family(&spec.family)
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu(&spec.cpu)
        .memory(&spec.memory)
        .execution_role_arn(&spec.execution_role_arn)
        .task_role_arn(&spec.task_role_arn)
        .runtime_platform(
            RuntimePlatform::builder()
                .cpu_architecture(CpuArchitecture::from(spec.cpu_architecture.as_str()))
                .operating_system_family(OsFamily::Linux)
                .build(),
        )
        .container_definitions(container.build())
        .tags(Tag::builder().key(SPEC_TAG).value(fingerprint).build())
        .send()
        .await
        .map_err(|e| {
            format!(
                "ECS RegisterTaskDefinition of {} ({}) failed ({}); check the CPU/memory pair and the roles, then retry",
                spec.family,
                spec.image,
                error_text(&e)
            )
        })?;
    (out.task_definition().and_then(|td| td.task_definition_arn()))
        .map(str::to_owned)
        .ok_or_else(|| format!("ECS registered {} but returned no ARN; retry", spec.family))
}

/// Sets the service's desired task count (the first release only).
pub(super) async fn scale(ecs: &aws_sdk_ecs::Client, props: &Props, count: i32) -> Result<(), String> {
    (ecs.update_service())
        .cluster(&props.cluster)
        .service(&props.service)
        .desired_count(count)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "ECS UpdateService could not scale {} to {count} tasks for its first release ({}); retry",
                props.service,
                error_text(&e)
            )
        })
}

/// Starts a deployment of `appspec`, moving traffic as `shift` says;
/// returns its id.
pub(super) async fn create_deployment(
    codedeploy: &aws_sdk_codedeploy::Client,
    props: &Props,
    appspec: &str,
    description: &str,
    shift: TrafficShift,
) -> Result<String, String> {
    let revision = RevisionLocation::builder()
        .revision_type(RevisionLocationType::AppSpecContent)
        .app_spec_content(
            AppSpecContent::builder()
                .content(appspec)
                .sha256(super::spec::sha256_hex(appspec))
                .build(),
        )
        .build();
    let out = (codedeploy.create_deployment())
        .application_name(&props.application_name)
        .deployment_group_name(&props.deployment_group_name)
        .revision(revision)
        .description(description)
        .set_deployment_config_name(shift.deployment_config_name().map(str::to_owned))
        .send()
        .await
        .map_err(|e| {
            let fix = match error_code(&e) {
                Some("DeploymentLimitExceededException") => {
                    "another deployment of this group is in progress: wait for it, or stop it, then release again"
                }
                _ => "check that the application and deployment group exist in this region, then release again",
            };
            format!(
                "CodeDeploy CreateDeployment in {}/{} was refused ({}); {fix}",
                props.application_name,
                props.deployment_group_name,
                error_text(&e)
            )
        })?;
    (out.deployment_id())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            "CodeDeploy started a deployment but returned no id; check the deployment group's history".into()
        })
}

/// One look at deployment `id`; on failure, with its target's hooks.
pub(super) async fn look(codedeploy: &aws_sdk_codedeploy::Client, id: &str) -> Result<DeploymentView, String> {
    let failed = |call: &str, why: String| format!("CodeDeploy {call} of deployment {id} failed ({why}); retry");
    let out = (codedeploy.get_deployment())
        .deployment_id(id)
        .send()
        .await
        .map_err(|e| failed("GetDeployment", error_text(&e)))?;
    let info = out.deployment_info();
    let status = Status::parse(info.and_then(|i| i.status()).map_or("", |s| s.as_str()));
    let error = info.and_then(|i| i.error_information()).map(|e| {
        (
            e.code().map_or("UNKNOWN", |c| c.as_str()).to_owned(),
            e.message().unwrap_or_default().to_owned(),
        )
    });
    let mut hooks = Vec::new();
    if matches!(status, Status::Failed | Status::Stopped) {
        let targets = (codedeploy.list_deployment_targets())
            .deployment_id(id)
            .send()
            .await
            .map_err(|e| failed("ListDeploymentTargets", error_text(&e)))?;
        if !targets.target_ids().is_empty() {
            let details = (codedeploy.batch_get_deployment_targets())
                .deployment_id(id)
                .set_target_ids(Some(targets.target_ids().to_vec()))
                .send()
                .await
                .map_err(|e| failed("BatchGetDeploymentTargets", error_text(&e)))?;
            for target in details.deployment_targets() {
                for event in target.ecs_target().map(|t| t.lifecycle_events()).unwrap_or_default() {
                    hooks.push((
                        event.lifecycle_event_name().unwrap_or_default().to_owned(),
                        event.status().map_or("", |s| s.as_str()).to_owned(),
                        event
                            .diagnostics()
                            .and_then(|d| d.message())
                            .unwrap_or_default()
                            .to_owned(),
                    ));
                }
            }
        }
    }
    Ok(DeploymentView { status, error, hooks })
}

/// Stops deployment `id`, rolling traffic back; one that already ended counts as stopped.
pub(super) async fn stop(codedeploy: &aws_sdk_codedeploy::Client, id: &str) -> Result<(), String> {
    match (codedeploy.stop_deployment())
        .deployment_id(id)
        .auto_rollback_enabled(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("DeploymentAlreadyCompletedException") => Ok(()),
        Err(e) => Err(format!(
            "CodeDeploy StopDeployment of {id} failed ({}); stop it in the console or with `aws deploy stop-deployment`, then retry",
            error_text(&e)
        )),
    }
}
