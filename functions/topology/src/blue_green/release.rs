//! A release once it is decided, the same flow for both engines: claim the
//! request, register the revision, record the release, start it through the
//! engine ([`Driver`](super::engine::Driver)), audit, and hand the
//! deployment to the polls; or scale back, record and audit the failure.

use super::engine::{NotStarted, Started};
use super::plan::{POLL_INTERVAL, ReleasePlan};
use super::spec::TaskSpec;
use super::{BlueGreenDeployment, Deploying, Props, calls, duplicate, physical_id};
use tandem_core::cfn::{HandlerError, Outcome, Request};
use tandem_core::clock::unix_now;
use tandem_core::state::{ReleaseRecord, ReleaseState, StateTable};

impl BlueGreenDeployment {
    /// Releases `spec` (fingerprint `fingerprint`) as `plan` says.
    pub(super) async fn release(
        &self,
        request: &Request,
        props: &Props,
        spec: &TaskSpec,
        fingerprint: &str,
        plan: ReleasePlan,
    ) -> Result<Outcome, HandlerError> {
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
            previous_task_definition: plan.previous.clone(),
            deployment_id: None,
            state: ReleaseState::InProgress,
            started_at: unix_now(),
            finished_at: None,
            reason: None,
        };
        // Recorded before anything serves: a crash from here on leaves a trace.
        table.start_release(&record).await?;
        let driver = self.driver(props.engine);
        let Started {
            id: deployment_id,
            calls,
        } = match driver.start(props, &task_definition, &request.request_id, &plan).await {
            Ok(started) => started,
            Err(NotStarted { why, scaled_up }) => {
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
        let action = format!("registered {task_definition}; {calls}");
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
            scaled_up: plan.scale_to.is_some(),
            engine: props.engine,
        };
        Ok(Outcome::in_progress(serde_json::to_value(state)?, POLL_INTERVAL).with_physical_id(physical_id(props)))
    }

    /// After a failed first release, returns the service to zero tasks (its
    /// placeholder has no image to run); `why` gains what became of that.
    pub(super) async fn scale_back(&self, props: &Props, scaled_up: bool, why: String) -> String {
        if !scaled_up {
            return why;
        }
        match calls::scale(&self.ecs, props, 0).await {
            Ok(()) => format!("{why}. The service was scaled back to zero tasks, as before this first release"),
            Err(e) => format!("{why}. Scaling the service back to zero tasks failed too: {e}"),
        }
    }

    /// Ends the release as failed with `why`, audits it, and returns the error to answer.
    pub(super) async fn fail(&self, table: &StateTable, record: &ReleaseRecord, why: String) -> HandlerError {
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
}
