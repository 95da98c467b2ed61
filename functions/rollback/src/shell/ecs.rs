//! The ECS engine's two calls: stop the service deployment in flight with
//! `ROLLBACK`, and update the service to the previous task definition.
//!
//! Stopping a service deployment that has already ended is refused with
//! `ConflictException` ("conflict in the current state of the resource";
//! ECS stops only `PENDING`, `IN_PROGRESS`, `STOP_REQUESTED`,
//! `ROLLBACK_REQUESTED` and `ROLLBACK_IN_PROGRESS` deployments, developer
//! guide "Stopping Amazon ECS service deployments"). The code is not
//! documented for that case, so a conflict counts as stopped only once
//! `DescribeServiceDeployments` shows the deployment ended. Any other
//! refusal (the local AWS answers `InvalidAction` "Unknown ECS action") is
//! one sentence naming the call, the ARN and how to stop it by hand.

use super::Rollback;
use aws_sdk_ecs::types::{ServiceDeploymentStatus, StopServiceDeploymentStopType};
use tandem_core::aws::{Described, describe_service_deployment, error_code, error_text};

/// The code ECS refuses a stop with when the deployment is past stopping.
pub(super) const CONFLICT: &str = "ConflictException";

/// Whether a service deployment in `status` has ended: nothing left to stop.
pub(super) fn has_ended(status: &ServiceDeploymentStatus) -> bool {
    matches!(
        status,
        ServiceDeploymentStatus::Successful
            | ServiceDeploymentStatus::Stopped
            | ServiceDeploymentStatus::RollbackSuccessful
            | ServiceDeploymentStatus::RollbackFailed
    )
}

impl Rollback {
    /// `StopServiceDeployment` of `arn` with `ROLLBACK`. Ok: what was done.
    pub(super) async fn stop_service_deployment(&self, arn: &str) -> Result<String, String> {
        let stopped = (self.ecs.stop_service_deployment())
            .service_deployment_arn(arn)
            .stop_type(StopServiceDeploymentStopType::Rollback)
            .send()
            .await;
        let refusal = match stopped {
            Ok(_) => {
                return Ok(format!(
                    "stopped service deployment {arn} with ROLLBACK; ECS returns traffic to the previous service revision"
                ));
            }
            Err(e) => e,
        };
        if error_code(&refusal) == Some(CONFLICT)
            && let Some(status) = self.ended_status(arn).await
        {
            let failed = if status == ServiceDeploymentStatus::RollbackFailed {
                "; its rollback failed, so a person should look at the service"
            } else {
                ""
            };
            return Ok(format!(
                "service deployment {arn} had already ended ({}): nothing left to stop{failed}",
                status.as_str()
            ));
        }
        Err(format!(
            "ECS StopServiceDeployment of {arn} was refused ({}); stop it by hand: in the ECS console (the \
             service's Deployments, Roll back), or with `aws ecs stop-service-deployment --service-deployment-arn \
             {arn} --stop-type ROLLBACK`",
            error_text(&refusal)
        ))
    }

    /// The status of `arn` if `DescribeServiceDeployments` shows it ended;
    /// `None` when it shows otherwise, or cannot tell.
    async fn ended_status(&self, arn: &str) -> Option<ServiceDeploymentStatus> {
        match describe_service_deployment(&self.ecs, arn).await {
            Ok(Described::Found(deployment)) => deployment.status().filter(|status| has_ended(status)).cloned(),
            Ok(Described::Missing(_)) => None,
            Err(e) => {
                tracing::warn!(error = %error_text(&e), %arn, "could not tell whether the service deployment had ended");
                None
            }
        }
    }

    /// `UpdateService` of `cluster`/`service` to `task_definition`: ECS
    /// deploys it with the service's own strategy. Ok: what was done.
    pub(super) async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<String, String> {
        let out = (self.ecs.update_service())
            .cluster(cluster)
            .service(service)
            .task_definition(task_definition)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "ECS UpdateService of {cluster}/{service} to the previous task definition {task_definition} was \
                     refused ({}); deploy it by hand with `aws ecs update-service --cluster {cluster} --service \
                     {service} --task-definition {task_definition}`",
                    error_text(&e)
                )
            })?;
        // ECS names the service deployment; a rolling service (the local
        // AWS's) only its PRIMARY deployment.
        let deployment = out.service().and_then(|s| {
            (s.current_service_deployment()
                .map(|arn| format!("service deployment {arn}")))
            .or_else(|| {
                (s.deployments().iter())
                    .find(|d| d.status() == Some("PRIMARY"))
                    .and_then(|d| d.id())
                    .map(|id| format!("deployment {id}"))
            })
        });
        let updated = format!("updated service {cluster}/{service} to the previous task definition {task_definition}");
        Ok(match deployment {
            Some(deployment) => format!("{updated}; ECS deploys it in {deployment}"),
            None => format!("{updated}; ECS named no deployment for it"),
        })
    }
}

#[cfg(test)]
mod tests;
