//! A second delivery of one Create or Update request. AWS delivers at least
//! once; without a guard, each delivery would start its own deployment (a
//! CodeDeploy one, refused while the first runs with
//! `DeploymentLimitExceededException`; or a second ECS `UpdateService`),
//! answering FAILED to CloudFormation for a release that is going well.
//!
//! So the first delivery claims the request (a conditional write of the
//! audit entry `<request id>#start`) before it registers anything, and a
//! later delivery follows the first one's release instead: its deployment
//! once it is recorded, or its outcome.

use super::{Deploying, done, physical_id};
use super::{Props, plan::POLL_INTERVAL};
use std::time::Duration;
use tandem_core::cfn::{HandlerError, Outcome};
use tandem_core::clock::unix_now;
use tandem_core::state::{AuditEntry, AuditKind, ReleaseRecord, ReleaseState, StateTable, Written};

/// How long a second delivery waits for the first to record its deployment.
pub(super) const WAIT_FOR_FIRST: Duration = Duration::from_secs(60);
/// How often it looks.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Claims `request_id`'s release for this delivery: `true` when no other
/// delivery of it has.
pub(super) async fn claim(
    table: &StateTable,
    request_id: &str,
    props: &Props,
    region: &str,
) -> Result<bool, HandlerError> {
    let entry = AuditEntry {
        kind: AuditKind::Release,
        key: format!("{request_id}#start"),
        at: unix_now(),
        decision: "Deploy".into(),
        reason: format!(
            "CloudFormation asked for {} of {} (request {request_id})",
            props.image_tag, props.family
        ),
        action: "claimed this request's release: one delivery releases".into(),
        outcome: "claimed".into(),
        region: region.into(),
    };
    Ok(table.audit(&entry).await? == Written::Done)
}

/// What a later delivery of `request_id` answers: the first delivery's
/// release, once it has a deployment or an outcome, looked for every 2 s
/// for up to `wait`.
pub(super) async fn follow_first(
    table: &StateTable,
    props: &Props,
    region: &str,
    request_id: &str,
    wait: Duration,
) -> Result<Outcome, HandlerError> {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let release = table.last_release(region).await?.filter(|r| r.release_id == request_id);
        if let Some(next) = release.as_ref().and_then(|r| joined(r, props)) {
            tracing::info!(request_id, "a delivery of this request released already: following it");
            return next;
        }
        if tokio::time::Instant::now() + LOOK_EVERY > until {
            return Err(format!(
                "another delivery of request {request_id} claimed this release but recorded no deployment within {}s \
                 (it may have stopped): release again",
                wait.as_secs()
            )
            .into());
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// The answer that joins the first delivery's `release`, once there is one.
fn joined(release: &ReleaseRecord, props: &Props) -> Option<Result<Outcome, HandlerError>> {
    match (release.state, &release.deployment_id) {
        (ReleaseState::Failed, _) => Some(Err(release
            .reason
            .clone()
            .unwrap_or_else(|| "the release failed (no reason was recorded)".into())
            .into())),
        (ReleaseState::Succeeded | ReleaseState::RolledBack, id) => Some(Ok(done(
            props,
            &release.task_definition,
            id.as_deref().unwrap_or_default(),
        ))),
        (ReleaseState::InProgress, Some(id)) => {
            let state = Deploying {
                deployment_id: id.clone(),
                release_id: release.release_id.clone(),
                started_at: release.started_at,
                image: release.image.clone(),
                task_definition: release.task_definition.clone(),
                // The first delivery scales back a failed first release; not this one.
                scaled_up: false,
                engine: props.engine,
            };
            Some(
                serde_json::to_value(state)
                    .map(|state| Outcome::in_progress(state, POLL_INTERVAL).with_physical_id(physical_id(props)))
                    .map_err(HandlerError::from),
            )
        }
        (ReleaseState::InProgress, None) => None,
    }
}
