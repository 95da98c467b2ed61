//! `Custom::BlueGreenDeployment`: releases an image to the ECS service
//! through a CodeDeploy blue/green deployment, as part of a stack update.
//!
//! CloudFormation cannot change the task definition of a service under the
//! `CODE_DEPLOY` controller, so the service's own `TaskDefinition` never
//! changes after create; this resource owns the task definitions instead.
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
//! | `ApplicationName`, `DeploymentGroupName` | string | the CodeDeploy group of the service |
//! | `HookFunction` | string | the lifecycle-hook validator the AppSpec names |
//! | `StateTable` | string | where the release is recorded |
//!
//! - **Create / Update** with an image: if the same settings are live (the
//!   live task definition carries their fingerprint, as after a stack
//!   rollback), success with no action. Otherwise it claims the request (a
//!   conditional write: a second delivery of the same request follows the
//!   first one's release instead, `duplicate.rs`), records the release as
//!   in progress, registers a
//!   revision, scales a zero-task service up (the first release only),
//!   starts a deployment with an AppSpec naming the hook for
//!   `AfterAllowTestTraffic`, `BeforeAllowTraffic` and `AfterAllowTraffic`,
//!   and follows it across invocations until it ends. SUCCESS, or FAILED
//!   with CodeDeploy's error and the failing hook. The release record and
//!   the audit trail get the outcome.
//! - **Create / Update** with an empty `ImageTag`: no release, success.
//! - **Delete** stops the region's release in flight, if any (CodeDeploy
//!   rolls traffic back), and otherwise does nothing.
//!
//! The physical id is `<cluster>/<service>`: it never changes, so an Update
//! is never a replacement. `!GetAtt X.TaskDefinitionArn` and `X.DeploymentId`
//! give what the last step deployed.
//!
//! Decisions are pure functions in [`plan`]; [`spec`] derives the task
//! definition and the AppSpec; `calls.rs` makes the ECS and CodeDeploy calls.

mod calls;
mod duplicate;
pub mod plan;
pub mod props;
pub mod spec;

use plan::{POLL_INTERVAL, Progress, ReleasePlan, StartPlan};
pub use props::{Props, validate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spec::TaskSpec;
use tandem_core::cfn::{CustomResource, HandlerError, Outcome, Request};
use tandem_core::clock::unix_now;
use tandem_core::state::{AuditEntry, AuditKind, ReleaseRecord, ReleaseState, StateTable};

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

    async fn release(
        &self,
        request: &Request,
        props: &Props,
        spec: &TaskSpec,
        fingerprint: &str,
        plan: ReleasePlan,
    ) -> Result<Outcome, HandlerError> {
        let ReleasePlan {
            previous,
            scale_to,
            shift,
        } = plan;
        let table = self.table(props);
        // One delivery of a request releases; a later one follows it.
        if !duplicate::claim(&table, &request.request_id, props, &self.region).await? {
            return duplicate::follow_first(
                &table,
                props,
                &self.region,
                &request.request_id,
                duplicate::WAIT_FOR_FIRST,
            )
            .await;
        }
        let task_definition = calls::register(&self.ecs, spec, fingerprint).await?;
        let mut record = ReleaseRecord {
            release_id: request.request_id.clone(),
            region: self.region.clone(),
            image: props.image_tag.clone(),
            task_definition: task_definition.clone(),
            previous_task_definition: previous,
            deployment_id: None,
            state: ReleaseState::InProgress,
            started_at: unix_now(),
            finished_at: None,
            reason: None,
        };
        // Recorded before anything serves: a crash from here on leaves a trace.
        table.start_release(&record).await?;
        if let Some(count) = scale_to {
            tracing::info!(count, "first release: scaling the service up from zero tasks");
            if let Err(why) = calls::scale(&self.ecs, props, count).await {
                return Err(self.fail(&table, &record, why).await);
            }
        }
        let scaled_up = scale_to.is_some();
        let appspec = spec::appspec(
            &task_definition,
            &props.container_name,
            props.container_port,
            &props.hook_function,
        );
        let description = format!(
            "tandem release {} of {} (request {})",
            props.image_tag, props.family, request.request_id
        );
        let deployment_id = match calls::create_deployment(&self.codedeploy, props, &appspec, &description, shift).await
        {
            Ok(id) => id,
            Err(why) => {
                let why = self.scale_back(props, scaled_up, why).await;
                return Err(self.fail(&table, &record, why).await);
            }
        };
        if let Err(e) = table.record_deployment(&record, &deployment_id).await {
            tracing::error!(error = %e, %deployment_id, "could not record the deployment id; following it anyway");
        }
        record.deployment_id = Some(deployment_id.clone());
        let reason = format!(
            "{} is not live in {} (live: {})",
            spec.image,
            self.region,
            record.previous_task_definition.as_deref().unwrap_or("nothing")
        );
        let action = format!("registered {task_definition}; CodeDeploy CreateDeployment");
        self.audit(
            &table,
            record.release_id.clone(),
            "Deploy",
            &reason,
            &action,
            &format!("started {deployment_id}"),
        )
        .await;
        let state = Deploying {
            deployment_id: deployment_id.clone(),
            release_id: record.release_id,
            started_at: record.started_at,
            image: record.image,
            task_definition,
            scaled_up,
        };
        Ok(Outcome::in_progress(serde_json::to_value(state)?, POLL_INTERVAL).with_physical_id(physical_id(props)))
    }

    /// After a failed first release, returns the service to zero tasks (its
    /// placeholder has no image to run); `why` gains what became of that.
    async fn scale_back(&self, props: &Props, scaled_up: bool, why: String) -> String {
        if !scaled_up {
            return why;
        }
        match calls::scale(&self.ecs, props, 0).await {
            Ok(()) => format!("{why}. The service was scaled back to zero tasks, as before this first release"),
            Err(e) => format!("{why}. Scaling the service back to zero tasks failed too: {e}"),
        }
    }

    /// Ends the release as failed with `why`, audits it, and returns the error to answer.
    async fn fail(&self, table: &StateTable, record: &ReleaseRecord, why: String) -> HandlerError {
        if let Err(e) = table
            .finish_release(record, ReleaseState::Failed, &why, unix_now())
            .await
        {
            tracing::error!(error = %e, "could not record the failed release");
        }
        let key = format!("{}#outcome", record.release_id);
        self.audit(
            table,
            key,
            "Failed",
            &why,
            "answered FAILED to CloudFormation",
            "release failed",
        )
        .await;
        why.into()
    }

    async fn follow(&self, props: &Props, state: Value) -> Result<Outcome, HandlerError> {
        let deploying: Deploying = serde_json::from_value(state.clone())?;
        let view = calls::look(&self.codedeploy, &deploying.deployment_id).await?;
        let table = self.table(props);
        let record = ReleaseRecord {
            release_id: deploying.release_id.clone(),
            region: self.region.clone(),
            image: deploying.image.clone(),
            task_definition: deploying.task_definition.clone(),
            previous_task_definition: None,
            deployment_id: Some(deploying.deployment_id.clone()),
            state: ReleaseState::InProgress,
            started_at: deploying.started_at,
            finished_at: None,
            reason: None,
        };
        match plan::progress(&deploying.deployment_id, &view) {
            Progress::Wait => Ok(Outcome::in_progress(state, POLL_INTERVAL).with_physical_id(physical_id(props))),
            Progress::Failed(why) => {
                let why = self.scale_back(props, deploying.scaled_up, why).await;
                Err(self.fail(&table, &record, why).await)
            }
            Progress::Succeeded => {
                let reason = format!(
                    "CodeDeploy deployment {} succeeded: all traffic is on {}",
                    deploying.deployment_id, deploying.task_definition
                );
                if let Err(e) = table
                    .finish_release(&record, ReleaseState::Succeeded, &reason, unix_now())
                    .await
                {
                    tracing::error!(error = %e, "could not record the release's success");
                }
                let key = format!("{}#outcome", record.release_id);
                self.audit(
                    &table,
                    key,
                    "Succeeded",
                    &reason,
                    "answered SUCCESS to CloudFormation",
                    "released",
                )
                .await;
                Ok(done(props, &deploying.task_definition, &deploying.deployment_id))
            }
        }
    }

    /// Stops the region's release in flight, if any.
    async fn stop_in_flight(&self, props: &Props) -> Result<Outcome, HandlerError> {
        let table = self.table(props);
        let last = table.last_release(&self.region).await?;
        let Some(release) = last.filter(|r| r.state == ReleaseState::InProgress) else {
            return Ok(done(props, "", ""));
        };
        if let Some(id) = &release.deployment_id {
            calls::stop(&self.codedeploy, id).await?;
        }
        let why = format!(
            "the release of {} was stopped because CloudFormation deleted its resource (a stack delete, or the rollback of a failed create)",
            release.image
        );
        // Recorded and audited as failed; the Delete itself succeeds.
        let _recorded = self.fail(&table, &release, why).await;
        Ok(done(props, "", release.deployment_id.as_deref().unwrap_or_default()))
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

    async fn delete(&self, _request: &Request, _physical_id: &str, props: Props) -> Result<Outcome, HandlerError> {
        self.stop_in_flight(&props).await
    }

    async fn poll(&self, _request: &Request, props: Props, state: Value) -> Result<Outcome, HandlerError> {
        self.follow(&props, state).await
    }
}

#[cfg(test)]
mod duplicate_tests;
#[cfg(test)]
mod mocked;
