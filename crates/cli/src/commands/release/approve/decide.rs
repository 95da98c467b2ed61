//! The decisions of `tandem release --approve | --reject`, as pure
//! functions: which arguments make sense, what each region's last release
//! shows, which paused hook to answer and with what, what to audit, and
//! the sentences that refuse. The shell is `commands::release::approve`;
//! `tandem status` reads a waiting release through [`paused_hook`] too.

use crate::config::ReleaseEngine;
use serde::Serialize;
use tandem_core::state::{AuditEntry, AuditKind, ReleaseRecord, ReleaseState};

/// What a person answers a release paused before production traffic moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Let it go on (`ContinueServiceDeployment` with `CONTINUE`).
    Approve,
    /// Roll it back (`ContinueServiceDeployment` with `ROLLBACK`).
    Reject,
}

impl Answer {
    /// The `action` of `ContinueServiceDeployment`.
    pub(crate) fn action(self) -> &'static str {
        match self {
            Self::Approve => "CONTINUE",
            Self::Reject => "ROLLBACK",
        }
    }

    /// The audit entry's decision, and the word for a person.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Reject => "rejected",
        }
    }

    /// The flag that asks for it.
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Self::Approve => "--approve",
            Self::Reject => "--reject",
        }
    }
}

/// The reason `--approve` records when `--reason` is not given.
pub(crate) const DEFAULT_APPROVE_REASON: &str = "the new tasks were checked on the test listener and look right";

/// What `tandem release` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Release this image tag.
    Release(String),
    /// Answer the release waiting for approval, with why.
    Answer(Answer, String),
}

/// The mode of `tandem release` from its flags: an image to release, or an
/// answer (`--approve`, or `--reject` with a `--reason`). Err: one sentence
/// that says what to pass instead.
pub(crate) fn mode(image: Option<&str>, approve: bool, reject: bool, reason: Option<&str>) -> Result<Mode, String> {
    let reason = reason.map(str::trim);
    match (image, approve, reject) {
        (_, true, true) => Err("give --approve or --reject, not both".into()),
        (Some(_), true, _) | (Some(_), _, true) => Err(
            "--image starts a release and --approve or --reject answers one that waits for approval: give one of them"
                .into(),
        ),
        (None, false, false) => Err(
            "give --image <tag> to release, or --approve or --reject to answer a release waiting for approval".into(),
        ),
        (Some(_), false, false) if reason.is_some() => {
            Err("--reason goes with --approve or --reject, not with --image".into())
        }
        (Some(tag), false, false) => Ok(Mode::Release(tag.to_owned())),
        (None, true, false) => Ok(Mode::Answer(
            Answer::Approve,
            reason
                .filter(|r| !r.is_empty())
                .unwrap_or(DEFAULT_APPROVE_REASON)
                .to_owned(),
        )),
        (None, false, true) => match reason.filter(|r| !r.is_empty()) {
            Some(why) => Ok(Mode::Answer(Answer::Reject, why.to_owned())),
            None => {
                Err("--reject needs --reason <text>: why the release is rolled back goes to the audit trail".into())
            }
        },
    }
}

/// Whether `deployment` is an ECS service deployment's ARN (what the ECS
/// engine records as a release's deployment), not a CodeDeploy id.
pub(crate) fn is_service_deployment(deployment: &str) -> bool {
    deployment.starts_with("arn:") && deployment.contains(":service-deployment/")
}

/// The service deployment to read for a paused hook: the one `record`
/// names while it is in progress under ECS.
pub(crate) fn deployment_to_read(record: Option<&ReleaseRecord>) -> Option<&str> {
    let record = record.filter(|r| r.state == ReleaseState::InProgress)?;
    record.deployment_id.as_deref().filter(|d| is_service_deployment(d))
}

/// A lifecycle hook of a service deployment, as `DescribeServiceDeployments`
/// shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HookDetail {
    /// Its id, which `ContinueServiceDeployment` takes.
    pub(crate) hook_id: String,
    /// `PAUSE` or `AWS_LAMBDA`.
    pub(crate) target_type: String,
    /// `AWAITING_ACTION`, `IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`.
    pub(crate) status: String,
    /// When ECS stops waiting and takes the hook's timeout action (Unix seconds).
    pub(crate) expires_at: Option<u64>,
    /// That action: `ROLLBACK` or `CONTINUE`.
    pub(crate) timeout_action: Option<String>,
}

/// A release paused for a person (`tandem status --output json`'s
/// `waiting_for_approval`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PausedHook {
    /// The region.
    pub(crate) region: String,
    /// The paused hook.
    pub(crate) hook_id: String,
    /// When ECS stops waiting (Unix seconds), if it says.
    pub(crate) expires_at: Option<u64>,
    /// What ECS does then: `ROLLBACK` or `CONTINUE`, if it says.
    pub(crate) timeout_action: Option<String>,
    /// The service deployment it holds.
    pub(crate) service_deployment_arn: String,
}

/// The hook of service deployment `arn` in `region` that waits for a
/// person: a `PAUSE` hook `AWAITING_ACTION`.
pub(crate) fn paused_hook(region: &str, arn: &str, hooks: &[HookDetail]) -> Option<PausedHook> {
    let hook = hooks
        .iter()
        .find(|h| h.target_type == "PAUSE" && h.status == "AWAITING_ACTION")?;
    Some(PausedHook {
        region: region.to_owned(),
        hook_id: hook.hook_id.clone(),
        expires_at: hook.expires_at,
        timeout_action: hook.timeout_action.clone(),
        service_deployment_arn: arn.to_owned(),
    })
}

impl PausedHook {
    /// `" until <time> (then ECS rolls it back)"`: how long it waits and
    /// what happens then, as far as ECS says.
    pub(crate) fn until(&self) -> String {
        let Some(at) = self.expires_at else {
            return String::new();
        };
        let then = match self.timeout_action.as_deref() {
            Some("ROLLBACK") => " (then ECS rolls it back)",
            Some("CONTINUE") => " (then ECS moves production traffic on by itself)",
            _ => "",
        };
        format!(" until {}{then}", crate::when::format_utc(at))
    }
}

/// What one region shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Its state table could not be read (or the region did not answer): why.
    Unreadable(String),
    /// Its last release (`None`: never released), with no service deployment to read.
    Settled(Option<ReleaseRecord>),
    /// An ECS release in progress, and its service deployment's hooks (Err:
    /// why they could not be read).
    Deploying {
        /// The release.
        record: ReleaseRecord,
        /// Its service deployment's hooks.
        hooks: Result<Vec<HookDetail>, String>,
    },
}

/// One region, as observed, in release order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegionSeen {
    /// The region.
    pub(crate) region: String,
    /// `primary` or `standby`.
    pub(crate) role: &'static str,
    /// What it shows.
    pub(crate) seen: Seen,
}

impl RegionSeen {
    /// The hook waiting for a person here, if one is.
    pub(crate) fn paused(&self) -> Option<PausedHook> {
        match &self.seen {
            Seen::Deploying {
                record,
                hooks: Ok(hooks),
            } => paused_hook(&self.region, record.deployment_id.as_deref().unwrap_or_default(), hooks),
            _ => None,
        }
    }

    /// What its last release is, for the sentence that says nothing waits.
    pub(crate) fn describe(&self) -> String {
        let what = match &self.seen {
            Seen::Unreadable(why) => format!("could not be read ({why})"),
            Seen::Settled(None) => "no release yet".to_owned(),
            Seen::Settled(Some(r)) => match (r.state, r.deployment_id.as_deref()) {
                (ReleaseState::InProgress, None) => {
                    format!("{} is in-progress, with no deployment started yet", release(r))
                }
                (ReleaseState::InProgress, Some(d)) => format!(
                    "{} is in-progress under CodeDeploy deployment {d}, which has no approval step",
                    release(r)
                ),
                (state, _) => format!("{} is {}", release(r), state.as_str()),
            },
            Seen::Deploying { record, hooks } => {
                let arn = record.deployment_id.as_deref().unwrap_or_default();
                match hooks {
                    Ok(_) => format!(
                        "{} is in-progress under service deployment {arn}, with no pause hook awaiting action",
                        release(record)
                    ),
                    Err(why) => format!(
                        "{} is in-progress under service deployment {arn}, whose hooks could not be read ({why})",
                        release(record)
                    ),
                }
            }
        };
        format!("{} ({}): {what}", self.region, self.role)
    }
}

fn release(r: &ReleaseRecord) -> String {
    format!("release {} of {}", r.release_id, r.image)
}

/// What to send: `ContinueServiceDeployment` in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Send {
    /// The region.
    pub(crate) region: String,
    /// `primary` or `standby`.
    pub(crate) role: &'static str,
    /// The release it answers for (the audit entry's key).
    pub(crate) release_id: String,
    /// Its image.
    pub(crate) image: String,
    /// The service deployment.
    pub(crate) arn: String,
    /// The paused hook.
    pub(crate) hook_id: String,
    /// The answer.
    pub(crate) answer: Answer,
}

impl Send {
    /// The audit entry's key: one answer per paused hook of a release.
    pub(crate) fn audit_key(&self) -> String {
        format!("{}#approval#{}", self.release_id, self.hook_id)
    }

    /// The audit entry written before the call: who answered, why, and
    /// what is sent, with `outcome` (`sending`, then `sent` or `failed: …`).
    pub(crate) fn audit_entry(&self, who: &str, reason: &str, at: u64, outcome: &str) -> AuditEntry {
        AuditEntry {
            kind: AuditKind::Release,
            key: self.audit_key(),
            at,
            decision: self.answer.verb().to_owned(),
            reason: format!("{} by {who}: {reason}", self.answer.verb()),
            action: format!(
                "ContinueServiceDeployment {} of hook {} of {}",
                self.answer.action(),
                self.hook_id,
                self.arn
            ),
            outcome: outcome.to_owned(),
            region: self.region.clone(),
        }
    }
}

/// Whether environment `env`'s releases can wait for a person at all: the
/// ECS engine with `[ecs_release] approval` on. Checked before any call.
pub(crate) fn enabled(env: &str, engine: ReleaseEngine, approval: bool) -> Result<(), ApprovalError> {
    if engine != ReleaseEngine::Ecs {
        return Err(ApprovalError::NotEcs { env: env.to_owned() });
    }
    if !approval {
        return Err(ApprovalError::ApprovalOff { env: env.to_owned() });
    }
    Ok(())
}

/// What to send, from the environment's engine and approval setting and
/// each region's observation `regions` (primary first): the first region
/// with a paused hook. Err: why nothing is sent.
pub(crate) fn plan(
    env: &str,
    engine: ReleaseEngine,
    approval: bool,
    answer: Answer,
    regions: &[RegionSeen],
) -> Result<Send, ApprovalError> {
    enabled(env, engine, approval)?;
    for r in regions {
        let (Some(paused), Seen::Deploying { record, .. }) = (r.paused(), &r.seen) else {
            continue;
        };
        return Ok(Send {
            region: r.region.clone(),
            role: r.role,
            release_id: record.release_id.clone(),
            image: record.image.clone(),
            arn: paused.service_deployment_arn,
            hook_id: paused.hook_id,
            answer,
        });
    }
    Err(ApprovalError::NothingWaiting {
        env: env.to_owned(),
        regions: regions.iter().map(RegionSeen::describe).collect::<Vec<_>>().join("; "),
    })
}

mod refusal;
pub(crate) use refusal::{ApprovalError, refused};

#[cfg(test)]
mod tests;
