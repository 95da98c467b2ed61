//! Amazon ECS's "ECS Deployment State Change" events, as EventBridge
//! delivers them in the service's region and forwards them to the other:
//!
//! ```json
//! {"detail-type": "ECS Deployment State Change", "source": "aws.ecs",
//!  "time": "2026-11-27T19:03:00Z", "region": "us-east-2",
//!  "resources": ["arn:aws:ecs:us-east-2:111122223333:service/tandem-dev/tandem-dev-app"],
//!  "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED",
//!             "deploymentId": "ecs-svc/123", "updatedAt": "...", "reason": "..."}}
//! ```
//!
//! (ECS developer guide, "Amazon ECS service deployment state change
//! events".) The event names the service only by its ARN in `resources`,
//! and the deployment by its `ecs-svc/...` id, not by the service
//! deployment's ARN that the release records.
//!
//! | `detail.eventName` | [`DeploymentState`] |
//! | --- | --- |
//! | `SERVICE_DEPLOYMENT_FAILED`: an alarm or the circuit breaker failed it (ECS rolls it back when the service says so) | [`DeploymentState::Failure`] |
//! | `SERVICE_DEPLOYMENT_COMPLETED` | [`DeploymentState::Success`] |
//! | `SERVICE_DEPLOYMENT_IN_PROGRESS` (a deployment or a rollback starting), any other | [`DeploymentState::Other`]: nothing to act on |

use super::{DeploymentChange, DeploymentState, EventError, broken, read, unix_seconds};
use crate::engine::Engine;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;
use tandem_core::text::quote;

/// The event's `detail-type`.
pub const DETAIL_TYPE: &str = "ECS Deployment State Change";

/// What the sentences call the event.
const WHAT: &str = "ECS deployment state change";

/// The ECS deployment state-change detail (the fields the decision reads).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_name: String,
    deployment_id: String,
}

/// The state `event_name` reports.
pub fn state(event_name: &str) -> DeploymentState {
    match event_name {
        "SERVICE_DEPLOYMENT_FAILED" => DeploymentState::Failure,
        "SERVICE_DEPLOYMENT_COMPLETED" => DeploymentState::Success,
        other => DeploymentState::Other(other.to_owned()),
    }
}

/// The cluster and service a service ARN names
/// (`arn:<partition>:ecs:<region>:<account>:service/<cluster>/<service>`),
/// with its region; `None` for anything else, the old format without a
/// cluster included.
pub fn service_arn(arn: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, _partition, "ecs", region, _account, resource] = parts.as_slice() else {
        return None;
    };
    let mut names = resource.strip_prefix("service/")?.split('/');
    let (cluster, service) = (names.next()?, names.next()?);
    let whole = *arn_word == "arn" && names.next().is_none() && !cluster.is_empty() && !service.is_empty();
    whole.then(|| (cluster.to_owned(), service.to_owned(), (*region).to_owned()))
}

/// Reads an "ECS Deployment State Change" event.
pub fn deployment_change(bridged: &EventBridgeEvent<Value>) -> Result<DeploymentChange, EventError> {
    let detail: Detail = read(WHAT, &bridged.detail)?;
    let resource = (bridged.resources.as_deref().unwrap_or_default().first())
        .ok_or_else(|| broken(WHAT, "its resources name no service"))?;
    let (cluster, service, arn_region) = service_arn(resource).ok_or_else(|| {
        EventError(format!(
            "the {WHAT} names {} in resources[0], which is not a service ARN \
             (arn:aws:ecs:<region>:<account>:service/<cluster>/<service>); this function takes {}",
            quote(resource),
            super::ACCEPTED
        ))
    })?;
    let region = (bridged.region.clone())
        .or((!arn_region.is_empty()).then_some(arn_region))
        .ok_or_else(|| broken(WHAT, "it names no region"))?;
    Ok(DeploymentChange {
        deployment_id: detail.deployment_id,
        state: state(&detail.event_name),
        region,
        engine: Engine::Ecs { cluster, service },
        at: unix_seconds(bridged),
    })
}

#[cfg(test)]
mod tests;
