//! Where an ECS service deployment stands, from one look at it
//! (`DescribeServiceDeployments`): the ECS engine's counterpart of
//! [`progress`](super::progress).

use super::{FIX, Progress, TRAFFIC_BACK};
use std::time::Duration;

/// How long after a release started a service deployment that ECS does not
/// know yet is taken for eventual consistency (wait), not for an error.
pub const GRACE: Duration = Duration::from_secs(60);

/// A service deployment's status, as `DescribeServiceDeployments` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `PENDING`, `IN_PROGRESS`, `STOP_REQUESTED`, `ROLLBACK_REQUESTED`,
    /// `ROLLBACK_IN_PROGRESS`, or a status this code does not know: not finished.
    Running,
    /// `SUCCESSFUL`: all traffic is on the new revision.
    Successful,
    /// `STOPPED` (by a person, or a Delete).
    Stopped,
    /// `ROLLBACK_SUCCESSFUL` (an alarm, a failed hook, or a stop with rollback).
    RolledBack,
    /// `ROLLBACK_FAILED`.
    RollbackFailed,
}

impl Status {
    /// The status named `text` (ECS's spelling); an unknown one is treated
    /// as still running, so that a new status never ends a release early.
    pub fn parse(text: &str) -> Self {
        match text {
            "SUCCESSFUL" => Self::Successful,
            "STOPPED" => Self::Stopped,
            "ROLLBACK_SUCCESSFUL" => Self::RolledBack,
            "ROLLBACK_FAILED" => Self::RollbackFailed,
            _ => Self::Running,
        }
    }
}

/// One lifecycle hook of a deployment (`lifecycleHookDetails[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// Its id.
    pub id: String,
    /// What it runs: the Lambda's ARN, else its target type (`PAUSE`).
    pub target: String,
    /// `IN_PROGRESS`, `AWAITING_ACTION`, `SUCCEEDED`, `FAILED` or `TIMED_OUT`.
    pub status: String,
}

/// A look at a service deployment that ECS knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentView {
    /// Its status.
    pub status: Status,
    /// `statusReason`, when there is one.
    pub status_reason: Option<String>,
    /// `rollback.reason`, when it was rolled back.
    pub rollback_reason: Option<String>,
    /// `alarms.triggeredAlarmNames`.
    pub triggered_alarms: Vec<String>,
    /// `lifecycleHookDetails`.
    pub hooks: Vec<Hook>,
}

/// What `DescribeServiceDeployments` answered about one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// ECS knows it.
    Found(DeploymentView),
    /// ECS does not know it: listed under `failures` (with ECS's reason and
    /// detail), or not answered at all (`None`, what the local AWS does).
    Unknown {
        /// The `failures[]` entry's reason and detail, if there was one.
        failure: Option<String>,
    },
}

/// The first hook that failed or timed out, as a phrase.
pub fn failed_hook(hooks: &[Hook]) -> Option<String> {
    hooks.iter().find_map(|hook| {
        let what = match hook.status.as_str() {
            "FAILED" => "failed",
            "TIMED_OUT" => "timed out",
            _ => return None,
        };
        Some(format!("the lifecycle hook {} ({}) {what}", hook.id, hook.target))
    })
}

/// Decides where service deployment `arn` stands from one look at it, the
/// release having started `age` ago.
pub fn progress(arn: &str, look: &Look, age: Duration) -> Progress {
    let view = match look {
        Look::Found(view) => view,
        Look::Unknown { .. } if age < GRACE => return Progress::Wait,
        Look::Unknown { failure } => return Progress::Failed(unknown(arn, failure.as_deref(), age)),
    };
    let ended = match view.status {
        Status::Running => return Progress::Wait,
        Status::Successful => return Progress::Succeeded,
        Status::Stopped => "was stopped",
        Status::RolledBack => "was rolled back",
        Status::RollbackFailed => "failed, and so did its rollback",
    };
    let mut details = Vec::new();
    match view.triggered_alarms.as_slice() {
        [] => {}
        [one] => details.push(format!("the alarm {one} went off")),
        many => details.push(format!("the alarms {} went off", many.join(", "))),
    }
    if let Some(hook) = failed_hook(&view.hooks) {
        details.push(hook);
    }
    let status_reason = view.status_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if let Some(text) = status_reason {
        details.push(format!("ECS says: {text}"));
    }
    let rollback_reason = view.rollback_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if let Some(text) = rollback_reason.filter(|r| Some(*r) != status_reason) {
        details.push(format!("rollback: {text}"));
    }
    let mut reason = format!("ECS service deployment {arn} {ended}");
    if !details.is_empty() {
        reason.push_str(&format!(": {}", details.join("; ")));
    }
    if view.status == Status::RollbackFailed {
        reason.push_str("; ECS could not roll back, so check which revision serves in the ECS console");
    } else {
        reason.push_str(TRAFFIC_BACK);
    }
    reason.push_str(FIX);
    Progress::Failed(reason)
}

/// The sentence for a service deployment that ECS still does not know after
/// the [`GRACE`] period.
fn unknown(arn: &str, failure: Option<&str>, age: Duration) -> String {
    let after = age.as_secs();
    match failure {
        Some(failure) => format!(
            "ECS does not know service deployment {arn} {after}s after the release started ({failure}); \
             check the service's deployments in the ECS console, then release again"
        ),
        None => format!(
            "ECS does not know service deployment {arn} {after}s after the release started: \
             DescribeServiceDeployments answered neither the deployment nor a failure. \
             The local AWS (ministack) answers so because it does not implement service deployments, \
             so an ECS release cannot be followed there; on AWS, check the service's deployments in the \
             ECS console, then release again"
        ),
    }
}

#[cfg(test)]
mod tests;
