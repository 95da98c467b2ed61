//! `Custom::BlueGreenDeployment`: releases an image to the ECS service as
//! part of a stack update, through one of two engines (`Engine`): a
//! CodeDeploy blue/green deployment (`codedeploy`, the default), or an ECS
//! service deployment (`ecs`: the service's own blue/green, linear or canary
//! strategy, its alarms and lifecycle hooks).
//!
//! CloudFormation cannot change the task definition of a service under the
//! `CODE_DEPLOY` controller, so the service's own `TaskDefinition` never
//! changes after create; this resource owns the task definitions instead,
//! under either engine.
//!
//! | property | type | meaning |
//! | --- | --- | --- |
//! | `Cluster`, `Service` | string | the ECS service |
//! | `DesiredCount` | number | the count the first release scales a zero-task service to (`0`: never) |
//! | `Family` | string | the task-definition family |
//! | `RepositoryUri`, `ImageTag` | string | the image; an empty tag means "no release yet" |
//! | `ContainerName`, `ContainerPort` | string, number | the container the load balancer targets |
//! | `Cpu`, `Memory`, `CpuArchitecture` | string | Fargate size and platform (`ARM64` by default) |
//! | `ExecutionRoleArn`, `TaskRoleArn` | string | the task's roles |
//! | `LogGroup` | string | the container's log group |
//! | `Environment` | map, optional | the container's variables (`TANDEM_IMAGE_TAG` is added) |
//! | `ExtraEnvironment` | list, optional | more variables, `NAME=value` each (empty entries ignored) |
//! | `Secrets` | list, optional | `NAME=<Secrets Manager secret ARN>` each: the container's `secrets` |
//! | `Engine` | string, optional | `codedeploy` (the default) or `ecs` |
//! | `ApplicationName`, `DeploymentGroupName` | string | the CodeDeploy group of the service (`codedeploy` only) |
//! | `HookFunction` | string | the lifecycle-hook validator the AppSpec names (`codedeploy`) |
//! | `StateTable` | string | where the release is recorded |
//!
//! - **Create / Update** with an image: if the same settings are live (the
//!   live task definition carries their fingerprint, as after a stack
//!   rollback), success with no action. Otherwise it claims the request (a
//!   conditional write: a second delivery of the same request follows the
//!   first one's release instead, `duplicate.rs`), records the release as
//!   in progress, registers a revision, and starts it:
//!   - `codedeploy`: scales a zero-task service up (the first release
//!     only), then starts a deployment with an AppSpec naming the hook for
//!     `AfterAllowTestTraffic`, `BeforeAllowTraffic` and `AfterAllowTraffic`;
//!   - `ecs`: one `UpdateService` to the revision (with the desired count on
//!     a first release), and follows the service deployment it names
//!     (`currentServiceDeployment`, else the newest in progress or pending).
//!
//!   Then it follows the deployment across invocations until it ends.
//!   SUCCESS, or FAILED with the engine's error, the failing hook (and,
//!   under `ecs`, the alarms that went off). The release record (its
//!   `deployment_id`: CodeDeploy's id, or the service deployment's ARN) and
//!   the audit trail get the outcome.
//! - **Create / Update** with an empty `ImageTag`: no release, success.
//! - **Delete** stops the region's release in flight, if any (the engine
//!   rolls traffic back), and otherwise does nothing. A refused stop is
//!   audited and answered FAILED.
//!
//! The physical id is `<cluster>/<service>`: it never changes, so an Update
//! is never a replacement. `!GetAtt X.TaskDefinitionArn` and `X.DeploymentId`
//! give what the last step deployed.
//!
//! | file | part |
//! | --- | --- |
//! | [`plan`], [`plan::ecs`] | the pure decisions: whether to release, where a deployment of either engine stands |
//! | [`props`], [`contract`] | the properties and their checks (`ExtraEnvironment`, `Secrets`) |
//! | [`spec`] | the task definition and its fingerprint, the AppSpec |
//! | `release.rs`, `follow.rs` | the shell's flow, the same for both engines |
//! | `engine.rs` | the engine-specific steps, routed by `Engine` |
//! | `calls.rs` | the ECS calls of both engines (observe, register, scale) and CodeDeploy's |
//! | `ecs_calls.rs` | the ECS engine's: `UpdateService`, `ListServiceDeployments`, `DescribeServiceDeployments`, `StopServiceDeployment` |
//! | `duplicate.rs` | a second delivery of one request |

mod calls;
pub mod contract;
mod duplicate;
mod ecs_calls;
mod engine;
mod follow;
pub mod plan;
pub mod props;
mod release;
pub mod spec;

use engine::Driver;
use plan::StartPlan;
pub use props::{Engine, Props, validate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spec::TaskSpec;
use tandem_core::cfn::{CustomResource, HandlerError, Outcome, Request};
use tandem_core::clock::unix_now;
use tandem_core::state::{AuditEntry, AuditKind, StateTable};

/// Serves `Custom::BlueGreenDeployment` in one region.
pub struct BlueGreenDeployment {
    ecs: aws_sdk_ecs::Client,
    codedeploy: aws_sdk_codedeploy::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    region: String,
}

/// What a release carries from one poll to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Deploying {
    deployment_id: String,
    release_id: String,
    started_at: u64,
    image: String,
    task_definition: String,
    /// This release scaled a zero-task service up, so a failure scales it back.
    #[serde(default)]
    scaled_up: bool,
    /// The engine that follows it (a state written before there were two is CodeDeploy's).
    #[serde(default)]
    engine: Engine,
}

/// Success: the stable id, and what the last step deployed.
fn done(props: &Props, task_definition: &str, deployment_id: &str) -> Outcome {
    let mut data = Map::new();
    data.insert("TaskDefinitionArn".into(), Value::String(task_definition.into()));
    data.insert("DeploymentId".into(), Value::String(deployment_id.into()));
    Outcome::done_with(physical_id(props), data)
}

fn physical_id(props: &Props) -> String {
    format!("{}/{}", props.cluster, props.service)
}

impl BlueGreenDeployment {
    /// Serves the resource with clients of the function's own region.
    pub fn new(
        ecs: aws_sdk_ecs::Client,
        codedeploy: aws_sdk_codedeploy::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        region: impl Into<String>,
    ) -> Self {
        Self {
            ecs,
            codedeploy,
            dynamodb,
            region: region.into(),
        }
    }

    fn table(&self, props: &Props) -> StateTable {
        StateTable::new(self.dynamodb.clone(), &props.state_table)
    }

    /// The engine-specific steps of `engine`.
    fn driver(&self, engine: Engine) -> Driver<'_> {
        match engine {
            Engine::CodeDeploy => Driver::CodeDeploy {
                ecs: &self.ecs,
                codedeploy: &self.codedeploy,
            },
            Engine::Ecs => Driver::Ecs(&self.ecs),
        }
    }

    /// Writes an audit entry of this release; a failure to write is logged,
    /// not fatal, since the action it records has already happened.
    async fn audit(&self, table: &StateTable, key: String, decision: &str, reason: &str, action: &str, outcome: &str) {
        let entry = AuditEntry {
            kind: AuditKind::Release,
            key,
            at: unix_now(),
            decision: decision.into(),
            reason: reason.into(),
            action: action.into(),
            outcome: outcome.into(),
            region: self.region.clone(),
        };
        if let Err(e) = table.audit(&entry).await {
            tracing::error!(error = %e, key = %entry.key, "could not audit the release");
        }
    }

    /// Create and Update: release the image unless it is live already.
    async fn start(&self, request: &Request, props: Props) -> Result<Outcome, HandlerError> {
        if props.image_tag.is_empty() {
            tracing::info!("no image tag yet: nothing to release");
            return Ok(done(&props, "", ""));
        }
        let spec = TaskSpec::new(&props, &self.region);
        let wanted = spec.fingerprint();
        let observed = calls::observe(&self.ecs, &props).await?;
        match plan::start(&props.image_tag, props.desired_count, &wanted, &observed) {
            StartPlan::NothingToRelease => Ok(done(&props, "", "")),
            StartPlan::AlreadyLive { task_definition } => {
                tracing::info!(%task_definition, image = %props.image_tag, "these settings are live already: no release");
                Ok(done(&props, &task_definition, ""))
            }
            StartPlan::Release(plan) => self.release(request, &props, &spec, &wanted, plan).await,
        }
    }
}

impl CustomResource for BlueGreenDeployment {
    type Properties = Props;
    const RESOURCE_TYPE: &'static str = "Custom::BlueGreenDeployment";

    fn validate(props: &Props) -> Result<(), String> {
        validate(props)
    }

    async fn create(&self, request: &Request, props: Props) -> Result<Outcome, HandlerError> {
        self.start(request, props).await
    }

    async fn update(
        &self,
        request: &Request,
        _physical_id: &str,
        props: Props,
        _old: Option<Props>,
    ) -> Result<Outcome, HandlerError> {
        self.start(request, props).await
    }

    async fn delete(&self, request: &Request, _physical_id: &str, props: Props) -> Result<Outcome, HandlerError> {
        self.stop_in_flight(request, &props).await
    }

    async fn poll(&self, _request: &Request, props: Props, state: Value) -> Result<Outcome, HandlerError> {
        self.follow(&props, state).await
    }
}

#[cfg(test)]
mod duplicate_tests;
#[cfg(test)]
mod mocked;
#[cfg(test)]
mod mocked_ecs;
