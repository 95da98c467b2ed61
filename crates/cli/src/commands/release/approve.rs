//! `tandem release --approve | --reject`: answers the release that an ECS
//! pause hook holds before production traffic moves. Reads each region's
//! last release (the primary first) and, for an ECS release in progress,
//! its service deployment's hooks; [`decide`] picks the first region with a
//! `PAUSE` hook `AWAITING_ACTION`; the answer is claimed in that region's
//! audit trail (who and why), then sent with `ContinueServiceDeployment`,
//! and its outcome recorded.

/// The pure part: what to do and what to say, with no AWS call.
pub(crate) mod decide;

use crate::config::ReleaseEngine;
use crate::context::Context;
use aws_sdk_ecs::types::DeploymentLifecycleHookAction;
use decide::{Answer, ApprovalError, HookDetail, RegionSeen, Seen, Send, deployment_to_read, enabled, plan, refused};
use tandem_core::aws::{Described, describe_service_deployment, error_code, error_text};
use tandem_core::clock::unix_now;
use tandem_core::state::{AuditKind, FAILED_OUTCOME, StateTable, Written};

/// One region, in release order, and how to reach it.
pub(crate) struct Side<'a> {
    /// The region.
    pub(crate) region: &'a str,
    /// `primary` or `standby`.
    pub(crate) role: &'static str,
    /// Its state table and ECS; Err: why the region is not reachable.
    pub(crate) clients: Result<(StateTable, &'a aws_sdk_ecs::Client), String>,
}

/// What is asked, and by whom.
pub(crate) struct Ask<'a> {
    /// The environment.
    pub(crate) env: &'a str,
    /// Its release engine.
    pub(crate) engine: ReleaseEngine,
    /// Whether its releases pause for a person (`[ecs_release] approval`).
    pub(crate) approval: bool,
    /// Approve or reject.
    pub(crate) answer: Answer,
    /// Why (`--reason`, or the default sentence of `--approve`).
    pub(crate) reason: &'a str,
    /// Who answers: the caller's identity.
    pub(crate) who: &'a str,
}

/// The schema name of [`ApprovalReport`].
pub(crate) const APPROVAL_SCHEMA: &str = "tandem.approval/1";

/// `tandem release --approve | --reject --output json`: what was answered.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ApprovalReport {
    /// [`APPROVAL_SCHEMA`].
    pub(crate) schema: &'static str,
    /// The environment.
    pub(crate) env: String,
    /// `CONTINUE` or `ROLLBACK`.
    pub(crate) action: &'static str,
    /// Whether ECS took the answer.
    pub(crate) answered: bool,
    /// Where it was sent, when it was.
    pub(crate) region: Option<String>,
    /// The service deployment answered.
    pub(crate) service_deployment_arn: Option<String>,
    /// The paused hook answered.
    pub(crate) hook_id: Option<String>,
    /// Who answered.
    pub(crate) by: String,
    /// Why.
    pub(crate) reason: String,
    /// Why nothing was sent, or why ECS refused.
    pub(crate) error: Option<String>,
}

/// Answers the environment's waiting release with `answer` for `reason`,
/// as the caller the context resolved; prints the outcome (and, with
/// `--output json`, an [`ApprovalReport`]).
pub(crate) async fn run(ctx: &Context, answer: Answer, reason: &str) -> Result<(), ApprovalError> {
    let who = crate::identity::caller().unwrap_or_else(|| "an unknown caller".to_owned());
    let ask = Ask {
        env: &ctx.config.env,
        engine: ctx.config.release_engine,
        approval: ctx.config.ecs_release.approval,
        answer,
        reason,
        who: &who,
    };
    let sides: Vec<Side<'_>> = super::decide::release_order(&ctx.roles)
        .into_iter()
        .map(|(region, role)| Side {
            region,
            role,
            clients: match ctx.unreachable.get(region) {
                Some(why) => Err(why.clone()),
                None => Ok((ctx.state(region), &ctx.aws.region(region).ecs)),
            },
        })
        .collect();
    let result = answer_waiting(&ask, &sides).await;
    if crate::ui::json() {
        let sent = result.as_ref().ok();
        let report = ApprovalReport {
            schema: APPROVAL_SCHEMA,
            env: ask.env.to_owned(),
            action: answer.action(),
            answered: sent.is_some(),
            region: sent.map(|s| s.region.clone()),
            service_deployment_arn: sent.map(|s| s.arn.clone()),
            hook_id: sent.map(|s| s.hook_id.clone()),
            by: who.clone(),
            reason: reason.to_owned(),
            error: result.as_ref().err().map(ToString::to_string),
        };
        // A report that cannot be printed still leaves the answer's own result.
        crate::ui::emit_json(&report).ok();
    }
    let send = result?;
    crate::say!(
        "{} ({}): {} release {} of {}: ECS {}; the release's own run (make release) and tandem status --env {} show how it ends",
        send.region,
        send.role,
        answer.verb(),
        send.release_id,
        send.image,
        match answer {
            Answer::Approve => "moves production traffic on",
            Answer::Reject => "rolls it back",
        },
        ask.env
    );
    Ok(())
}

/// Reads every side, decides, then claims, sends and records the answer.
/// Ok: what was sent, and ECS took.
pub(crate) async fn answer_waiting(ask: &Ask<'_>, sides: &[Side<'_>]) -> Result<Send, ApprovalError> {
    enabled(ask.env, ask.engine, ask.approval)?;
    let mut seen = Vec::new();
    for side in sides {
        seen.push(observe(side).await);
    }
    let send = plan(ask.env, ask.engine, ask.approval, ask.answer, &seen)?;
    let Some((state, ecs)) = (sides.iter())
        .find(|s| s.region == send.region)
        .and_then(|s| s.clients.as_ref().ok())
    else {
        // `plan` only picks a region it could read.
        return Err(ApprovalError::Unrecorded {
            region: send.region.clone(),
            why: "the region is not reachable".to_owned(),
        });
    };
    let claim = send.audit_entry(ask.who, ask.reason, unix_now(), "sending");
    match state.audit_decision(&claim).await {
        Ok(Written::Done) => {}
        Ok(Written::AlreadyDone) => {
            return Err(ApprovalError::AlreadyAnswered {
                env: ask.env.to_owned(),
                region: send.region.clone(),
                arn: send.arn.clone(),
                hook_id: send.hook_id.clone(),
            });
        }
        Err(e) => {
            return Err(ApprovalError::Unrecorded {
                region: send.region.clone(),
                why: e.to_string(),
            });
        }
    }
    crate::say!(
        "  {:<10} {} hook {} of {}: ContinueServiceDeployment {}",
        send.region,
        ask.answer.flag(),
        send.hook_id,
        send.arn,
        ask.answer.action()
    );
    let sent = (ecs.continue_service_deployment())
        .service_deployment_arn(&send.arn)
        .hook_id(&send.hook_id)
        .action(DeploymentLifecycleHookAction::from(ask.answer.action()))
        .send()
        .await;
    let (outcome, result) = match sent {
        Ok(_) => ("sent".to_owned(), Ok(())),
        Err(e) => {
            let sentence = refused(ask.env, &send, error_code(&e), &error_text(&e));
            (
                format!("{FAILED_OUTCOME} {sentence}"),
                Err(ApprovalError::Refused(sentence)),
            )
        }
    };
    if let Err(e) = state
        .set_audit_outcome(AuditKind::Release, &send.audit_key(), &outcome)
        .await
    {
        crate::say!(
            "  {:<10} could not record the outcome ({outcome}) in the audit trail: {e}",
            send.region
        );
    }
    result.map(|()| send)
}

/// What `side` shows: its last release and, for an ECS release in
/// progress, its service deployment's hooks.
async fn observe(side: &Side<'_>) -> RegionSeen {
    let seen = match &side.clients {
        Err(why) => Seen::Unreadable(why.clone()),
        Ok((state, ecs)) => match state.last_release(side.region).await {
            Err(e) => Seen::Unreadable(e.to_string()),
            Ok(None) => Seen::Settled(None),
            Ok(Some(record)) => match deployment_to_read(Some(&record)).map(str::to_owned) {
                Some(arn) => Seen::Deploying {
                    hooks: hooks_of(ecs, &arn).await,
                    record,
                },
                None => Seen::Settled(Some(record)),
            },
        },
    };
    RegionSeen {
        region: side.region.to_owned(),
        role: side.role,
        seen,
    }
}

/// The lifecycle hooks of service deployment `arn`, as ECS describes them;
/// Err: why they could not be read, one phrase.
pub(crate) async fn hooks_of(ecs: &aws_sdk_ecs::Client, arn: &str) -> Result<Vec<HookDetail>, String> {
    let described = describe_service_deployment(ecs, arn)
        .await
        .map_err(|e| format!("DescribeServiceDeployments: {}", error_text(&e)))?;
    let deployment = match described {
        Described::Found(deployment) => deployment,
        Described::Missing(failure) => {
            let why = (failure.as_ref().and_then(|f| f.reason()))
                .map_or_else(|| "it answered none".to_owned(), |r| format!("it answered {r}"));
            return Err(format!("ECS does not describe service deployment {arn}: {why}"));
        }
    };
    Ok(deployment
        .lifecycle_hook_details()
        .iter()
        .map(|h| HookDetail {
            hook_id: h.hook_id().unwrap_or_default().to_owned(),
            target_type: h.target_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
            status: h.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            expires_at: h.expires_at().and_then(|t| u64::try_from(t.secs()).ok()),
            timeout_action: h.timeout_action().map(|a| a.as_str().to_owned()),
        })
        .collect())
}

#[cfg(test)]
mod tests;
