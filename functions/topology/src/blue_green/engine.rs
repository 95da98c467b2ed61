//! The engine-specific steps of a release, routed by [`Engine`]: how it
//! starts, how it is looked at, how it is stopped, and what the audit says.
//! Everything else (the claim, the record, the audit, scaling back) is the
//! same flow for both, in `release.rs` and `follow.rs`.

use super::plan::{self, Progress, ReleasePlan};
use super::props::{Engine, Props};
use super::{calls, ecs_calls, spec};
use std::time::Duration;

/// One engine, with the clients its calls use.
pub(super) enum Driver<'a> {
    /// CodeDeploy moves traffic (`calls.rs`); ECS only scales the service.
    CodeDeploy {
        /// Scales a zero-task service up on its first release.
        ecs: &'a aws_sdk_ecs::Client,
        /// Deploys, looks and stops.
        codedeploy: &'a aws_sdk_codedeploy::Client,
    },
    /// ECS moves traffic itself (`ecs_calls.rs`).
    Ecs(&'a aws_sdk_ecs::Client),
}

/// A started release: the deployment to follow (CodeDeploy's id, or the ECS
/// service deployment's ARN), and the calls that started it (for the audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Started {
    /// The deployment id or ARN.
    pub id: String,
    /// The calls, as the audit's action names them.
    pub calls: String,
}

/// Why a release could not start, and whether the service had been scaled
/// up from zero tasks by then (so that the failure scales it back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NotStarted {
    /// The sentence for CloudFormation.
    pub why: String,
    /// The service's desired count was raised from zero before it failed.
    pub scaled_up: bool,
}

impl Driver<'_> {
    /// The engine this drives.
    fn engine(&self) -> Engine {
        match self {
            Self::CodeDeploy { .. } => Engine::CodeDeploy,
            Self::Ecs(_) => Engine::Ecs,
        }
    }

    /// Moves the service to `task_definition` as `plan` says (scaling a
    /// zero-task service up first, on a first release).
    pub(super) async fn start(
        &self,
        props: &Props,
        task_definition: &str,
        request_id: &str,
        plan: &ReleasePlan,
    ) -> Result<Started, NotStarted> {
        match self {
            Self::CodeDeploy { ecs, codedeploy } => {
                if let Some(count) = plan.scale_to {
                    tracing::info!(count, "first release: scaling the service up from zero tasks");
                    if let Err(why) = calls::scale(ecs, props, count).await {
                        return Err(NotStarted { why, scaled_up: false });
                    }
                }
                let appspec = spec::appspec(
                    task_definition,
                    &props.container_name,
                    props.container_port,
                    &props.hook_function,
                );
                let description = format!(
                    "tandem release {} of {} (request {request_id})",
                    props.image_tag, props.family
                );
                match calls::create_deployment(codedeploy, props, &appspec, &description, plan.shift).await {
                    Ok(id) => Ok(Started {
                        id,
                        calls: "CodeDeploy CreateDeployment".into(),
                    }),
                    Err(why) => Err(NotStarted {
                        why,
                        scaled_up: plan.scale_to.is_some(),
                    }),
                }
            }
            Self::Ecs(ecs) => {
                if let Some(count) = plan.scale_to {
                    tracing::info!(
                        count,
                        "first release: scaling the service up from zero tasks with its update"
                    );
                }
                ecs_calls::start(ecs, props, task_definition, plan.scale_to).await
            }
        }
    }

    /// One look at deployment `id`, of a release started `age` ago.
    pub(super) async fn progress(&self, id: &str, age: Duration) -> Result<Progress, String> {
        match self {
            Self::CodeDeploy { codedeploy, .. } => {
                let view = calls::look(codedeploy, id).await?;
                Ok(plan::progress(id, &view))
            }
            Self::Ecs(ecs) => {
                let look = ecs_calls::look(ecs, id).await?;
                Ok(plan::ecs::progress(id, &look, age))
            }
        }
    }

    /// Stops deployment `id`, rolling traffic back; one that has ended counts as stopped.
    pub(super) async fn stop(&self, id: &str) -> Result<(), String> {
        match self {
            Self::CodeDeploy { codedeploy, .. } => calls::stop(codedeploy, id).await,
            Self::Ecs(ecs) => ecs_calls::stop(ecs, id).await,
        }
    }

    /// The stop call, as the audit's action names it.
    pub(super) fn stop_call(&self, id: &str) -> String {
        match self.engine() {
            Engine::CodeDeploy => format!("CodeDeploy StopDeployment of {id} (with rollback)"),
            Engine::Ecs => format!("ECS StopServiceDeployment of {id} (ROLLBACK)"),
        }
    }

    /// The reason recorded when deployment `id` of `task_definition` succeeded.
    pub(super) fn succeeded(&self, id: &str, task_definition: &str) -> String {
        let deployment = match self.engine() {
            Engine::CodeDeploy => "CodeDeploy deployment",
            Engine::Ecs => "ECS service deployment",
        };
        format!("{deployment} {id} succeeded: all traffic is on {task_definition}")
    }
}
