//! The resource's decisions, as pure functions of the properties and what
//! was observed: whether to release, and where a deployment stands (a
//! CodeDeploy deployment here, an ECS service deployment in [`ecs`]). Both
//! engines share [`start`], [`StartPlan`] and [`ReleasePlan`].

pub mod ecs;

use std::time::Duration;

/// How long to wait between two looks at a deployment.
pub const POLL_INTERVAL: Duration = Duration::from_secs(15);

/// The service as observed before a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The task definition that serves now (the primary task set's under
    /// CodeDeploy, the primary deployment's under ECS), if any.
    pub live_task_definition: Option<String>,
    /// The [`SPEC_TAG`](super::spec::SPEC_TAG) of that task definition, if it has one.
    pub live_fingerprint: Option<String>,
    /// The service's desired task count.
    pub desired_count: i32,
}

/// What a Create or an Update does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartPlan {
    /// `ImageTag` is empty: no release yet, nothing to deploy.
    NothingToRelease,
    /// The same settings are live already (what a stack rollback sends after
    /// CodeDeploy rolled traffic back, or a repeated request): success, no action.
    AlreadyLive {
        /// The live task definition.
        task_definition: String,
    },
    /// Register a revision and deploy it.
    Release(ReleasePlan),
}

/// How to release: what [`StartPlan::Release`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePlan {
    /// The task definition it replaces, if any.
    pub previous: Option<String>,
    /// Scale the service to this count first: the first release of a
    /// service created with zero tasks.
    pub scale_to: Option<i32>,
    /// How the deployment moves traffic (CodeDeploy's; under ECS the
    /// service's deployment configuration decides).
    pub shift: TrafficShift,
}

/// How a deployment moves traffic from the serving tasks to the new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficShift {
    /// The deployment group's own configuration (a canary).
    GroupDefault,
    /// All at once: nothing serves yet (a service with zero tasks), so a
    /// canary would send most requests to tasks that do not exist.
    AllAtOnce,
}

impl TrafficShift {
    /// The deployment configuration to name in `CreateDeployment`, if it
    /// overrides the group's.
    pub fn deployment_config_name(self) -> Option<&'static str> {
        match self {
            Self::GroupDefault => None,
            Self::AllAtOnce => Some(ALL_AT_ONCE),
        }
    }
}

/// CodeDeploy's predefined all-at-once configuration for ECS.
pub const ALL_AT_ONCE: &str = "CodeDeployDefault.ECSAllAtOnce";

/// Decides what to do for a request whose task settings have fingerprint
/// `wanted`, given what is live.
pub fn start(image_tag: &str, desired_count: i32, wanted: &str, observed: &Observed) -> StartPlan {
    if image_tag.is_empty() {
        return StartPlan::NothingToRelease;
    }
    if let (Some(live), Some(fingerprint)) = (&observed.live_task_definition, &observed.live_fingerprint)
        && fingerprint == wanted
    {
        return StartPlan::AlreadyLive {
            task_definition: live.clone(),
        };
    }
    let empty = observed.desired_count == 0;
    let scale_to = (empty && desired_count > 0).then_some(desired_count);
    let shift = if empty {
        TrafficShift::AllAtOnce
    } else {
        TrafficShift::GroupDefault
    };
    StartPlan::Release(ReleasePlan {
        previous: observed.live_task_definition.clone(),
        scale_to,
        shift,
    })
}

/// A CodeDeploy deployment's status, as `GetDeployment` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, Queued, Ready, InProgress or Baking: not finished.
    Running,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
    /// Stopped (by a person, an alarm, or a Delete).
    Stopped,
}

impl Status {
    /// The status named `text` (CodeDeploy's spelling); an unknown one is
    /// treated as still running, so that a new status never ends a release early.
    pub fn parse(text: &str) -> Self {
        match text {
            "Succeeded" => Self::Succeeded,
            "Failed" => Self::Failed,
            "Stopped" => Self::Stopped,
            _ => Self::Running,
        }
    }
}

/// A look at a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentView {
    /// Its status.
    pub status: Status,
    /// CodeDeploy's error code and message, when it has one.
    pub error: Option<(String, String)>,
    /// The lifecycle events of its target: (hook name, status, diagnostic message).
    pub hooks: Vec<(String, String, String)>,
}

/// Where a release stands after a look at its deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Not finished: look again after [`POLL_INTERVAL`].
    Wait,
    /// All traffic is on the new task definition.
    Succeeded,
    /// It failed or was stopped; the reason is one sentence for CloudFormation.
    Failed(String),
}

/// The first hook that failed, with its diagnostic message if any.
pub fn failed_hook(hooks: &[(String, String, String)]) -> Option<String> {
    hooks
        .iter()
        .find(|(_, status, _)| status == "Failed")
        .map(|(name, _, message)| {
            if message.trim().is_empty() {
                format!("the {name} hook failed")
            } else {
                format!("the {name} hook failed ({})", message.trim())
            }
        })
}

/// Decides where deployment `id` stands from one look at it.
pub fn progress(id: &str, view: &DeploymentView) -> Progress {
    let ended = match view.status {
        Status::Running => return Progress::Wait,
        Status::Succeeded => return Progress::Succeeded,
        Status::Failed => "failed",
        Status::Stopped => "was stopped",
    };
    let mut reason = format!("CodeDeploy deployment {id} {ended}");
    if let Some(hook) = failed_hook(&view.hooks) {
        reason.push_str(&format!(": {hook}"));
    }
    if let Some((code, message)) = &view.error {
        reason.push_str(&format!("; CodeDeploy says {code}: {}", message.trim()));
    }
    reason.push_str(TRAFFIC_BACK);
    reason.push_str(FIX);
    Progress::Failed(reason)
}

/// What a failed release leaves serving (the tail of its sentence).
pub const TRAFFIC_BACK: &str = "; traffic stays on (or went back to) the previous task definition";

/// What to do after a failed release (the end of its sentence).
pub const FIX: &str = ". See the hook decisions with `tandem status` and the deploy-hook's logs, \
                       fix the image, then release again";

#[cfg(test)]
mod tests;
