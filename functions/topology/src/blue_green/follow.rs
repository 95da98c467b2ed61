//! A release after its start, the same flow for both engines: each poll
//! looks at its deployment and ends it (recorded and audited) once it
//! succeeded or failed; a Delete stops the region's release in flight.

use super::plan::{POLL_INTERVAL, Progress};
use super::{BlueGreenDeployment, Deploying, Props, done, physical_id};
use serde_json::Value;
use std::time::Duration;
use tandem_core::cfn::{HandlerError, Outcome, Request};
use tandem_core::clock::unix_now;
use tandem_core::state::{ReleaseRecord, ReleaseState};

impl BlueGreenDeployment {
    /// One poll of the release that `state` (a [`Deploying`]) carries.
    pub(super) async fn follow(&self, props: &Props, state: Value) -> Result<Outcome, HandlerError> {
        let deploying: Deploying = serde_json::from_value(state.clone())?;
        let driver = self.driver(deploying.engine);
        let age = Duration::from_secs(unix_now().saturating_sub(deploying.started_at));
        let progress = driver.progress(&deploying.deployment_id, age).await?;
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
        match progress {
            Progress::Wait => Ok(Outcome::in_progress(state, POLL_INTERVAL).with_physical_id(physical_id(props))),
            Progress::Failed(why) => {
                let why = self.scale_back(props, deploying.scaled_up, why).await;
                Err(self.fail(&table, &record, why).await)
            }
            Progress::Succeeded => {
                let reason = driver.succeeded(&deploying.deployment_id, &deploying.task_definition);
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

    /// Stops the region's release in flight, if any. A refused stop is
    /// audited and answered FAILED: the release goes on.
    pub(super) async fn stop_in_flight(&self, request: &Request, props: &Props) -> Result<Outcome, HandlerError> {
        let table = self.table(props);
        let last = table.last_release(&self.region).await?;
        let Some(release) = last.filter(|r| r.state == ReleaseState::InProgress) else {
            return Ok(done(props, "", ""));
        };
        let why = format!(
            "the release of {} was stopped because CloudFormation deleted its resource (a stack delete, or the rollback of a failed create)",
            release.image
        );
        if let Some(id) = &release.deployment_id {
            let driver = self.driver(props.engine);
            if let Err(refused) = driver.stop(id).await {
                let key = format!("{}#stop#{}", release.release_id, request.request_id);
                let reason = format!(
                    "CloudFormation deleted the resource while the release of {} was in flight",
                    release.image
                );
                let outcome = format!("refused, answered FAILED to CloudFormation: {refused}");
                self.audit(&table, key, "Stop", &reason, &driver.stop_call(id), &outcome)
                    .await;
                return Err(refused.into());
            }
        }
        // Recorded and audited as failed; the Delete itself succeeds.
        let _recorded = self.fail(&table, &release, why).await;
        Ok(done(props, "", release.deployment_id.as_deref().unwrap_or_default()))
    }
}
