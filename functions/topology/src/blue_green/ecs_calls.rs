//! The ECS engine's calls: a release is one `UpdateService` of the service
//! (under the `ECS` deployment controller), followed as the service
//! deployment it starts. Each returns one readable sentence on failure,
//! naming the call, what it was about and the fix.
//!
//! The local AWS (ministack) accepts `UpdateService` but reports no service
//! deployment (no `currentServiceDeployment`, empty lists) and refuses
//! `StopServiceDeployment` (`InvalidAction`): those answers end in a
//! sentence that says so, never in a panic.

use super::engine::{NotStarted, Started};
use super::plan::ecs::{DeploymentView, Hook, Look, Status};
use super::props::Props;
use aws_sdk_ecs::types::{Service, ServiceDeploymentStatus, StopServiceDeploymentStopType};
use tandem_core::aws::{Described, describe_service_deployment, error_code, error_text};

/// What the local AWS answers an ECS action it does not implement.
const NOT_IMPLEMENTED: &str = "InvalidAction";

/// The task definition the service serves: its `PRIMARY` deployment's
/// (there are no task sets under the `ECS` controller).
pub(super) fn primary_deployment(service: &Service) -> Option<&str> {
    (service.deployments().iter())
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.task_definition())
}

/// Points the service at `task_definition` (and, on a first release, sets
/// its desired count to `scale_to`); returns the service deployment this
/// started.
pub(super) async fn start(
    ecs: &aws_sdk_ecs::Client,
    props: &Props,
    task_definition: &str,
    scale_to: Option<i32>,
) -> Result<Started, NotStarted> {
    let out = (ecs.update_service())
        .cluster(&props.cluster)
        .service(&props.service)
        .task_definition(task_definition)
        .set_desired_count(scale_to)
        .send()
        .await
        .map_err(|e| NotStarted {
            why: format!(
                "ECS UpdateService of {} in cluster {} to {task_definition} was refused ({}); check that the \
                 service is under the ECS deployment controller and that no deployment of it is in progress, \
                 then release again",
                props.service,
                props.cluster,
                error_text(&e)
            ),
            scaled_up: false,
        })?;
    let current = (out.service())
        .and_then(Service::current_service_deployment)
        .filter(|arn| !arn.is_empty());
    if let Some(arn) = current {
        return Ok(Started {
            id: arn.to_owned(),
            calls: "ECS UpdateService".into(),
        });
    }
    let scaled_up = scale_to.is_some();
    match newest_in_flight(ecs, props).await {
        Ok(Some(arn)) => Ok(Started {
            id: arn,
            calls: "ECS UpdateService, ListServiceDeployments".into(),
        }),
        Ok(None) => Err(NotStarted {
            why: format!(
                "ECS accepted the UpdateService of {} to {task_definition} but reports no service deployment \
                 to follow (no currentServiceDeployment, and ListServiceDeployments lists none in progress or \
                 pending); the local AWS (ministack) answers so because it does not implement service \
                 deployments. On AWS, check that the service is under the ECS deployment controller, then \
                 release again",
                props.service
            ),
            scaled_up,
        }),
        Err(why) => Err(NotStarted { why, scaled_up }),
    }
}

/// The newest in-progress or pending service deployment of the service.
async fn newest_in_flight(ecs: &aws_sdk_ecs::Client, props: &Props) -> Result<Option<String>, String> {
    let out = (ecs.list_service_deployments())
        .cluster(&props.cluster)
        .service(&props.service)
        .status(ServiceDeploymentStatus::InProgress)
        .status(ServiceDeploymentStatus::Pending)
        .send()
        .await
        .map_err(|e| {
            format!(
                "ECS accepted the UpdateService of {} but its ListServiceDeployments failed ({}), so the release \
                 has no deployment to follow; check the service's deployments in the ECS console, then release \
                 again",
                props.service,
                error_text(&e)
            )
        })?;
    let newest = (out.service_deployments().iter())
        .filter(|d| d.service_deployment_arn().is_some_and(|arn| !arn.is_empty()))
        .max_by_key(|d| d.created_at().or(d.started_at()).map(|t| (t.secs(), t.subsec_nanos())));
    Ok(newest.and_then(|d| d.service_deployment_arn()).map(str::to_owned))
}

/// One look at service deployment `arn`.
pub(super) async fn look(ecs: &aws_sdk_ecs::Client, arn: &str) -> Result<Look, String> {
    let described = describe_service_deployment(ecs, arn).await.map_err(|e| {
        format!(
            "ECS DescribeServiceDeployments of {arn} failed ({}); retry",
            error_text(&e)
        )
    })?;
    let deployment = match described {
        Described::Found(deployment) => deployment,
        Described::Missing(failure) => {
            let failure = failure.map(|f| {
                let reason = f.reason().unwrap_or("no reason");
                match f.detail().filter(|d| !d.is_empty()) {
                    Some(detail) => format!("ECS says {reason}: {detail}"),
                    None => format!("ECS says {reason}"),
                }
            });
            return Ok(Look::Unknown { failure });
        }
    };
    let hooks = (deployment.lifecycle_hook_details().iter())
        .map(|h| Hook {
            id: h.hook_id().unwrap_or("(no id)").to_owned(),
            target: (h.target_arn().map(str::to_owned))
                .or_else(|| h.target_type().map(|t| t.as_str().to_owned()))
                .unwrap_or_else(|| "no target".into()),
            status: h.status().map_or("", |s| s.as_str()).to_owned(),
        })
        .collect();
    Ok(Look::Found(DeploymentView {
        status: Status::parse(deployment.status().map_or("", |s| s.as_str())),
        status_reason: deployment.status_reason().map(str::to_owned),
        rollback_reason: deployment.rollback().and_then(|r| r.reason()).map(str::to_owned),
        triggered_alarms: (deployment.alarms())
            .map(|a| a.triggered_alarm_names().to_vec())
            .unwrap_or_default(),
        hooks,
    }))
}

/// Stops service deployment `arn`, rolling it back. One that has already
/// ended counts as stopped: ECS refuses it with `ConflictException` (it
/// stops only a `PENDING`, `IN_PROGRESS`, `STOP_REQUESTED`,
/// `ROLLBACK_REQUESTED` or `ROLLBACK_IN_PROGRESS` deployment).
pub(super) async fn stop(ecs: &aws_sdk_ecs::Client, arn: &str) -> Result<(), String> {
    match (ecs.stop_service_deployment())
        .service_deployment_arn(arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("ConflictException") => Ok(()),
        Err(e) => {
            let local = if error_code(&e) == Some(NOT_IMPLEMENTED) {
                " (the local AWS, ministack, does not implement service deployments)"
            } else {
                ""
            };
            Err(format!(
                "ECS StopServiceDeployment of {arn} was refused ({}){local}; stop it in the ECS console or with \
                 `aws ecs stop-service-deployment --service-deployment-arn {arn} --stop-type ROLLBACK`, then retry",
                error_text(&e)
            ))
        }
    }
}
