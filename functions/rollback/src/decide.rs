//! The rollback decision: a pure function of the event, this function's
//! settings and the observed release, to one plan.
//!
//! | situation | plan |
//! | --- | --- |
//! | an alarm that is not this service's (by name prefix) | [`Plan::Ignore`] |
//! | the traffic fence's alarm (`tandem-<env>-peer-fenced`): a failover's, not a release's | [`Plan::Ignore`] |
//! | OK or INSUFFICIENT_DATA | [`Plan::Ignore`] |
//! | ALARM, a release in progress here | [`Plan::Stop`] its deployment, with auto-rollback |
//! | ALARM, the last release succeeded within the bake window | [`Plan::Redeploy`] the previous task definition |
//! | ALARM, the last release already rolled back | [`Plan::Ignore`]: one action per incident |
//! | ALARM otherwise | [`Plan::Notify`] |
//! | a deployment of another service, or of this one in the other engine | [`Plan::Ignore`] |
//! | a deployment of this service failed or stopped here | [`Plan::MarkFailed`] its release, if still in progress |
//! | a deployment of this service failed or stopped in the other region | [`Plan::Stop`] the release in progress here |
//! | any other deployment change | [`Plan::Ignore`] |
//!
//! The [`Engine`] in the [`Scope`] says which call each action is:
//!
//! | plan | `codedeploy` | `ecs` |
//! | --- | --- | --- |
//! | [`Plan::Stop`] | `StopDeployment` of the release's deployment id, with auto-rollback | `StopServiceDeployment` of the release's service deployment ARN, `stopType` `ROLLBACK` |
//! | [`Plan::Redeploy`] | `CreateDeployment` in the deployment group, an AppSpec naming the previous task definition | `UpdateService` of the cluster's service to the previous task definition (ECS deploys it blue/green) |
//!
//! Which failure here is the release's: CodeDeploy's event names the
//! deployment id the release records. ECS's names its `ecs-svc/...` id,
//! not the service deployment ARN the release records, so any failure of
//! this service here counts, unless the event is older than the release.
//!
//! A repeated event is caught by the shell, which claims each action with a
//! conditional write on [`Plan::incident`] before acting.

pub use crate::engine::Engine;
use crate::event::{AlarmChange, AlarmState, DeploymentChange, DeploymentState, Incoming};
use tandem_core::state::{ReleaseRecord, ReleaseState};

/// What the function is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// This function's region.
    pub region: String,
    /// The name prefix of this service's alarms (`tandem-<env>-`).
    pub alarm_prefix: String,
    /// The release engine, and the service's names there.
    pub engine: Engine,
    /// How long after a release succeeded an alarm still rolls it back (seconds).
    pub bake_window_secs: u64,
}

/// What the shell observed before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// This region's newest release, if any.
    pub release: Option<ReleaseRecord>,
    /// Now (Unix seconds).
    pub now: u64,
}

/// What to do about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing: the event is not this service's, or not a problem.
    Ignore {
        /// Why, as one sentence.
        reason: String,
    },
    /// Tell the operators; nothing to roll back.
    Notify {
        /// Why, as one sentence.
        reason: String,
    },
    /// Stop the deployment of the release in progress (the engine rolls traffic back).
    Stop {
        /// The engine that runs it: which call stops it.
        engine: Engine,
        /// The deployment: CodeDeploy's id, or ECS's service deployment ARN.
        deployment_id: String,
        /// Its release, to mark failed.
        release: ReleaseRecord,
        /// Why, as one sentence.
        reason: String,
    },
    /// Deploy the previous task definition again (the release baked badly).
    Redeploy {
        /// The engine that deploys it, and where: which call redeploys.
        engine: Engine,
        /// The task definition to return to.
        task_definition: String,
        /// The release being rolled back, to mark so.
        release: ReleaseRecord,
        /// Why, as one sentence.
        reason: String,
    },
    /// Record that this region's release failed.
    MarkFailed {
        /// The release.
        release: ReleaseRecord,
        /// Why, as one sentence.
        reason: String,
    },
}

impl Plan {
    /// The plan's name, as audited.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ignore { .. } => "Ignore",
            Self::Notify { .. } => "Notify",
            Self::Stop {
                engine: Engine::CodeDeploy { .. },
                ..
            } => "StopDeployment",
            Self::Stop {
                engine: Engine::Ecs { .. },
                ..
            } => "StopServiceDeployment",
            Self::Redeploy { .. } => "RedeployPrevious",
            Self::MarkFailed { .. } => "MarkFailed",
        }
    }

    /// Why, as one sentence.
    pub fn reason(&self) -> &str {
        match self {
            Self::Ignore { reason }
            | Self::Notify { reason }
            | Self::Stop { reason, .. }
            | Self::Redeploy { reason, .. }
            | Self::MarkFailed { reason, .. } => reason,
        }
    }

    /// The incident an action belongs to: every event about it (two alarms,
    /// a repeated delivery, the forwarded failure) claims the same key, so
    /// the action happens once. `None` for plans that change nothing.
    pub fn incident(&self) -> Option<String> {
        match self {
            Self::Stop { deployment_id, .. } => Some(format!("stop#{deployment_id}")),
            Self::Redeploy { release, .. } => Some(format!("redeploy#{}", release.release_id)),
            Self::MarkFailed { release, .. } => Some(format!("mark-failed#{}", release.release_id)),
            Self::Ignore { .. } | Self::Notify { .. } => None,
        }
    }
}

/// Decides what to do about `event`.
pub fn decide(event: &Incoming, scope: &Scope, observed: &Observed) -> Plan {
    match event {
        Incoming::Alarm(alarm) => on_alarm(alarm, scope, observed),
        Incoming::Deployment(change) => on_deployment(change, scope, observed),
        Incoming::OwnNotification => ignore("a notification tandem published itself: nothing to do".into()),
    }
}

fn ignore(reason: String) -> Plan {
    Plan::Ignore { reason }
}

fn on_alarm(alarm: &AlarmChange, scope: &Scope, observed: &Observed) -> Plan {
    let name = &alarm.name;
    if !name.starts_with(&scope.alarm_prefix) {
        return ignore(format!(
            "alarm {name} is not one of this service's (they start with {}); ignored",
            scope.alarm_prefix
        ));
    }
    if name.strip_prefix(&scope.alarm_prefix) == Some(tandem_core::fence::ALARM_SUFFIX) {
        return ignore(format!(
            "alarm {name} is the traffic fence a failover raises on the other region, not a sign of a bad release; ignored"
        ));
    }
    match alarm.state {
        AlarmState::Ok => return ignore(format!("alarm {name} is OK again: nothing to do")),
        AlarmState::InsufficientData => {
            return ignore(format!("alarm {name} has insufficient data: nothing to do"));
        }
        AlarmState::Alarm => {}
    }
    let region = &scope.region;
    let Some(release) = &observed.release else {
        return Plan::Notify {
            reason: format!("alarm {name} fired in {region}, which has no release to roll back"),
        };
    };
    let image = &release.image;
    let engine = &scope.engine;
    match release.state {
        ReleaseState::InProgress => match &release.deployment_id {
            Some(deployment_id) => Plan::Stop {
                engine: engine.clone(),
                deployment_id: deployment_id.clone(),
                release: release.clone(),
                reason: format!(
                    "alarm {name} fired while {image} was being released in {region}: {}, and {}",
                    stop_words(engine, deployment_id),
                    returns_traffic(engine)
                ),
            },
            None => Plan::Notify {
                reason: match engine {
                    Engine::CodeDeploy { .. } => format!(
                        "alarm {name} fired while {image} was starting to release in {region}, before its \
                         deployment existed: nothing to stop yet; CodeDeploy's own alarm check covers the deployment"
                    ),
                    Engine::Ecs { .. } => format!(
                        "alarm {name} fired while {image} was starting to release in {region}, before its \
                         service deployment existed: nothing to stop yet; the service's own deployment alarms \
                         cover the deployment"
                    ),
                },
            },
        },
        ReleaseState::Succeeded => {
            let finished = release.finished_at.unwrap_or(release.started_at);
            let age = observed.now.saturating_sub(finished);
            if age > scope.bake_window_secs {
                return Plan::Notify {
                    reason: format!(
                        "alarm {name} fired in {region} {age} s after {image} was released, past the {} s bake \
                         window: not a release problem to roll back; a person should look",
                        scope.bake_window_secs
                    ),
                };
            }
            match &release.previous_task_definition {
                Some(previous) => Plan::Redeploy {
                    engine: engine.clone(),
                    task_definition: previous.clone(),
                    release: release.clone(),
                    reason: format!(
                        "alarm {name} fired in {region} {age} s after {image} was released, within the {} s \
                         bake window: {}",
                        scope.bake_window_secs,
                        redeploy_words(engine, previous)
                    ),
                },
                None => Plan::Notify {
                    reason: format!(
                        "alarm {name} fired in {region} {age} s after {image}, the first release, with no \
                         previous task definition to return to; a person should look"
                    ),
                },
            }
        }
        ReleaseState::RolledBack => ignore(format!(
            "alarm {name} fired in {region}, but the release of {image} is already rolled back: one action per incident"
        )),
        ReleaseState::Failed => Plan::Notify {
            reason: format!(
                "alarm {name} fired in {region}, where the last release ({image}) failed and traffic stayed on \
                 the previous task definition: not a release to roll back; a person should look"
            ),
        },
    }
}

fn on_deployment(change: &DeploymentChange, scope: &Scope, observed: &Observed) -> Plan {
    let id = &change.deployment_id;
    if change.engine != scope.engine {
        return ignore(format!(
            "deployment {id} is of {}, not this service's {}; ignored",
            change.engine, scope.engine
        ));
    }
    let ended = match &change.state {
        DeploymentState::Failure => "failed",
        DeploymentState::Stop => "was stopped",
        DeploymentState::Success => return ignore(format!("deployment {id} succeeded: nothing to do")),
        DeploymentState::Other(state) => return ignore(format!("deployment {id} is {state}: nothing to do")),
    };
    let region = &scope.region;
    let in_progress = observed
        .release
        .as_ref()
        .filter(|r| r.state == ReleaseState::InProgress);
    if change.region == *region {
        return match in_progress {
            Some(release) if is_its_deployment(change, release) => Plan::MarkFailed {
                release: release.clone(),
                reason: match (&scope.engine, &release.deployment_id) {
                    (Engine::Ecs { .. }, Some(arn)) => format!(
                        "deployment {id} of {} {ended} in {region}, during the release of {} (service deployment {arn})",
                        scope.engine, release.image
                    ),
                    _ => format!("deployment {id} of {} {ended} in {region}", release.image),
                },
            },
            Some(release) if is_older(change, release) => ignore(format!(
                "deployment {id} {ended} in {region} before the release of {} started: not its deployment; ignored",
                release.image
            )),
            Some(release) if matches!(scope.engine, Engine::Ecs { .. }) && release.deployment_id.is_none() => {
                ignore(format!(
                    "deployment {id} {ended} in {region} before the release of {} recorded its service deployment: \
                     the release records its own end; ignored",
                    release.image
                ))
            }
            _ => ignore(format!(
                "deployment {id} {ended} in {region}, and its release is not in progress any more: already recorded"
            )),
        };
    }
    match in_progress.and_then(|r| r.deployment_id.clone().map(|d| (r, d))) {
        Some((release, deployment_id)) => Plan::Stop {
            reason: format!(
                "deployment {id} {ended} in {}, so the release of {} stops here too: {} in {region}",
                change.region,
                release.image,
                stop_words(&scope.engine, &deployment_id),
            ),
            engine: scope.engine.clone(),
            deployment_id,
            release: release.clone(),
        },
        None => ignore(format!(
            "deployment {id} {ended} in {}; no release is in progress in {region}",
            change.region
        )),
    }
}

/// What stopping `deployment_id` is, in `engine`'s words.
fn stop_words(engine: &Engine, deployment_id: &str) -> String {
    match engine {
        Engine::CodeDeploy { .. } => format!("stop deployment {deployment_id}"),
        Engine::Ecs { .. } => format!("stop service deployment {deployment_id} with ROLLBACK"),
    }
}

/// What the engine does once its deployment is stopped.
fn returns_traffic(engine: &Engine) -> &'static str {
    match engine {
        Engine::CodeDeploy { .. } => "CodeDeploy returns traffic to the previous task definition",
        Engine::Ecs { .. } => "ECS returns traffic to the previous service revision",
    }
}

/// What redeploying `previous` is, in `engine`'s words.
fn redeploy_words(engine: &Engine, previous: &str) -> String {
    match engine {
        Engine::CodeDeploy { .. } => format!("deploy the previous task definition {previous} again"),
        Engine::Ecs { cluster, service } => format!(
            "update service {cluster}/{service} to the previous task definition {previous} again, and ECS \
             deploys it blue/green"
        ),
    }
}

/// Whether `change`, which ended here, is the deployment of `release`, in
/// progress: the id it records (CodeDeploy), or any deployment of the
/// service since the release started (ECS: its event names no ARN).
fn is_its_deployment(change: &DeploymentChange, release: &ReleaseRecord) -> bool {
    match &change.engine {
        Engine::CodeDeploy { .. } => release.deployment_id.as_deref() == Some(change.deployment_id.as_str()),
        Engine::Ecs { .. } => release.deployment_id.is_some() && !is_older(change, release),
    }
}

/// Whether `change` happened before `release` started (an ECS event only:
/// CodeDeploy's names the deployment, so its time is never needed).
fn is_older(change: &DeploymentChange, release: &ReleaseRecord) -> bool {
    matches!(change.engine, Engine::Ecs { .. }) && change.at.is_some_and(|at| at < release.started_at)
}

#[cfg(test)]
mod tests;
