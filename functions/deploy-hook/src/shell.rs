//! The shell: observes the green side, probes it, answers, and audits.
//! Every choice is [`decide`](crate::decide)'s.

use crate::decide::{
    Forward, Look, Next, Probe, Readiness, Target, Verdict, at_rollback_stage, next, probes_pass, readiness, rule_green,
};
use crate::event::{EventError, HookEvent, TAKES, codedeploy_ids, parse};
use crate::settings::Settings;
use aws_sdk_codedeploy::types::LifecycleEventStatus;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tandem_core::aws::{error_code, error_text};
use tandem_core::clock::unix_now;
use tandem_core::event_fn::{BadEvent, Call, EventFunction, FunctionError, SdkConfig};
use tandem_core::payload::{Payload, PayloadError};
use tandem_core::probe::{HttpProber, Prober};
use tandem_core::settings::SettingError;
use tandem_core::state::{AuditEntry, AuditKind, StateTable};
use tandem_core::text::shorten_values;
use tokio::time::Instant;

/// Why the hook could not answer (the invocation then fails, and Lambda's
/// retries and dead-letter queue take the event).
#[derive(thiserror::Error)]
pub enum HookError {
    /// The event has no ids to answer with.
    #[error(transparent)]
    Event(#[from] EventError),
    /// CodeDeploy did not take the answer.
    #[error(
        "CodeDeploy refused PutLifecycleEventHookExecutionStatus ({status} for hook {execution_id} of deployment \
         {deployment_id}): {reason}; the invocation fails so that Lambda retries it, and CodeDeploy fails the \
         deployment if no answer comes within its hour"
    )]
    Report {
        /// The deployment.
        deployment_id: String,
        /// The hook execution.
        execution_id: String,
        /// What was being reported.
        status: &'static str,
        /// The SDK's readable reason.
        reason: String,
    },
}

// The runtime logs a handler's error with `{:?}`: the sentence, not the value.
tandem_core::debug_as_display!(HookError);

impl FunctionError for HookError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => BadEvent::KIND,
            Self::Report { .. } => "HookNotReported",
        }
    }
}

impl From<BadEvent> for HookError {
    fn from(bad: BadEvent) -> Self {
        Self::Event(EventError::from(bad))
    }
}

/// The hook and the clients it works through, built once in `main`.
pub struct Hook {
    /// Reads the test listener (or its rule) and the green target health.
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// Takes CodeDeploy hooks' answers.
    pub codedeploy: aws_sdk_codedeploy::Client,
    /// The audit trail, when configured.
    pub state: Option<StateTable>,
    /// Probes the green targets.
    pub prober: Arc<dyn Prober>,
    /// What to check, and how long it may take.
    pub settings: Settings,
    /// This region, for the audit trail.
    pub region: String,
}

/// The `deploy-hook` Lambda on the event functions' seam: `main` serves it.
impl EventFunction for Hook {
    type Settings = Settings;
    type Output = Value;
    type Error = HookError;
    const TAKES: &'static str = TAKES;

    /// A bad setting stops the function at start, naming it: every hook then
    /// fails fast instead of each one waiting out CodeDeploy's hour.
    fn settings() -> Result<Settings, SettingError> {
        tandem_core::settings::from_env(Settings::from_lookup)
    }

    fn build(config: &SdkConfig, settings: Settings) -> Self {
        Self {
            elb: aws_sdk_elasticloadbalancingv2::Client::new(config),
            codedeploy: aws_sdk_codedeploy::Client::new(config),
            state: (settings.state_table.clone())
                .map(|name| StateTable::new(aws_sdk_dynamodb::Client::new(config), name)),
            prober: Arc::new(HttpProber::for_tasks(settings.probe_timeout)),
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            settings,
        }
    }

    async fn handle(&self, event: Value, call: &Call) -> Result<Value, HookError> {
        // The inherent `handle`, which the shell's tests call too.
        Hook::handle(self, event, call.remaining).await
    }

    /// A payload that is no whole JSON value is still reported `Failed` to
    /// CodeDeploy, naming what is broken, when its top-level hook ids can be read.
    async fn unreadable(&self, payload: &Payload, broken: PayloadError, _: &Call) -> Result<Value, HookError> {
        let ids = codedeploy_ids(
            payload.text("DeploymentId"),
            payload.text("LifecycleEventHookExecutionId"),
        );
        let Ok(event) = ids else {
            return Err(BadEvent::unreadable(&broken, TAKES).into());
        };
        let reason = format!("the hook event could not be read: {broken}");
        self.answer(&event, Verdict::Failed(reason)).await
    }
}

impl Hook {
    /// Handles one invocation with `remaining` time before the Lambda deadline.
    pub async fn handle(&self, event: Value, remaining: Duration) -> Result<Value, HookError> {
        let started = Instant::now();
        // Keep time to report and audit before Lambda stops the invocation.
        let budget = self
            .settings
            .budget
            .min(remaining.saturating_sub(Duration::from_secs(15)));
        let event = parse(&event).inspect_err(|unreadable| {
            tracing::error!(error = %unreadable, "not a hook event; nothing to answer");
        })?;
        let can_wait_outside = matches!(event, HookEvent::Ecs(_));
        // ECS runs these stages again while it rolls back, and its event
        // does not say when: there the hook neither fails nor waits.
        let rollback_stage = match &event {
            HookEvent::Ecs(ecs) if ecs.may_be_rollback() => Some(ecs.lifecycle_stage.clone()),
            _ => None,
        };
        loop {
            let look = self.look().await;
            tracing::info!(?look, "looked at the green side");
            let decided = next(
                look,
                started.elapsed(),
                budget,
                self.settings.interval,
                can_wait_outside,
            );
            let decided = match &rollback_stage {
                Some(stage) => at_rollback_stage(stage, decided),
                None => decided,
            };
            match decided {
                Next::Answer(verdict) => return self.answer(&event, verdict).await,
                Next::LookAgain(after) => tokio::time::sleep(after).await,
                Next::Pending(why) => {
                    tracing::info!(why, "not ready yet; ECS will call again");
                    return Ok(json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 30}));
                }
            }
        }
    }

    /// One look: the green target group, its health, and the probes.
    async fn look(&self) -> Look {
        let group = match self.green_target_group().await {
            Ok(group) => group,
            Err(look) => return look,
        };
        let targets = match self.targets(&group).await {
            Ok(targets) => targets,
            Err(why) => return Look::NoGreen(why),
        };
        let endpoints = match readiness(&group, &targets) {
            Readiness::Ready(endpoints) => endpoints,
            Readiness::NotYet(why) => return Look::NotReady(why),
        };
        let mut probes = Vec::new();
        for endpoint in &endpoints {
            for expected in &self.settings.smoke_paths {
                let url = format!("{}://{endpoint}{}", self.settings.probe_scheme, expected.path);
                let answer = self.prober.get(&url).await;
                probes.push(Probe {
                    endpoint: endpoint.clone(),
                    expected: expected.clone(),
                    answer,
                });
            }
        }
        Look::Probed(probes_pass(&probes))
    }

    /// The green target group: the one the test listener rule forwards to
    /// most (ECS-native), or the one the test listener's default action
    /// forwards to (CodeDeploy).
    async fn green_target_group(&self) -> Result<String, Look> {
        if let Some(rule) = &self.settings.test_listener_rule_arn {
            return self.green_of_rule(rule).await;
        }
        let listener = &self.settings.test_listener_arn;
        let out = (self.elb.describe_listeners())
            .listener_arns(listener)
            .send()
            .await
            .map_err(|e| {
                Look::NoGreen(format!(
                    "could not read the test listener {listener}: {}",
                    error_text(&e)
                ))
            })?;
        let actions = out.listeners().first().map(|l| l.default_actions()).unwrap_or_default();
        forward_target(actions)
            .ok_or_else(|| Look::NoGreen(format!("the test listener {listener} forwards to no target group")))
    }

    /// The green target group of the test listener rule `rule`, which ECS moves.
    async fn green_of_rule(&self, rule: &str) -> Result<String, Look> {
        let not_found = || {
            Look::Misconfigured(format!(
                "the test listener rule {rule} was not found: TANDEM_TEST_LISTENER_RULE_ARN must name the ECS \
                 service's TestListenerRule"
            ))
        };
        let out = (self.elb.describe_rules())
            .rule_arns(rule)
            .send()
            .await
            .map_err(|e| match error_code(&e) {
                Some("RuleNotFound") => not_found(),
                _ => Look::NoGreen(format!(
                    "could not read the test listener rule {rule}: {}",
                    error_text(&e)
                )),
            })?;
        let Some(found) = out.rules().first() else {
            return Err(not_found());
        };
        let forward = (found.actions().iter())
            .find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
            .map(forward_of);
        rule_green(rule, forward.as_ref())
    }

    async fn targets(&self, group: &str) -> Result<Vec<Target>, String> {
        let out = (self.elb.describe_target_health())
            .target_group_arn(group)
            .send()
            .await
            .map_err(|e| format!("could not read the health of target group {group}: {}", error_text(&e)))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .filter_map(|d| {
                let target = d.target()?;
                let health = d.target_health();
                Some(Target {
                    ip: target.id()?.to_owned(),
                    port: target.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(80),
                    state: health
                        .and_then(|h| h.state())
                        .map_or("unknown", |s| s.as_str())
                        .to_owned(),
                    reason: health.and_then(|h| h.reason()).map(|r| r.as_str().to_owned()),
                })
            })
            .collect())
    }

    /// Answers `event` with `verdict` (CodeDeploy: exactly one report) and audits it.
    async fn answer(&self, event: &HookEvent, verdict: Verdict) -> Result<Value, HookError> {
        let (status, reason) = match &verdict {
            Verdict::Succeeded(why) => ("Succeeded", why.clone()),
            Verdict::Failed(why) => ("Failed", why.clone()),
        };
        tracing::info!(status, reason, "hook verdict");
        let (action, outcome, result) = match event {
            HookEvent::CodeDeploy {
                deployment_id,
                execution_id,
            } => {
                let reported = self.report(deployment_id, execution_id, status).await;
                let outcome = match &reported {
                    Ok(already) if *already => "CodeDeploy had this hook's status already".to_owned(),
                    Ok(_) => "reported".to_owned(),
                    Err(e) => e.to_string(),
                };
                let result = reported.map(|_| json!({"status": status, "reason": reason}));
                (
                    format!("PutLifecycleEventHookExecutionStatus {status}"),
                    outcome,
                    result,
                )
            }
            HookEvent::Ecs(_) => {
                let hook_status = status.to_ascii_uppercase();
                let answer = json!({"hookStatus": hook_status});
                (format!("answered ECS {hook_status}"), "returned".to_owned(), Ok(answer))
            }
        };
        self.audit(event, status, &reason, action, outcome).await;
        result
    }

    /// Reports to CodeDeploy; `Ok(true)` when CodeDeploy had the status
    /// already (a repeated delivery of this hook).
    async fn report(&self, deployment_id: &str, execution_id: &str, status: &'static str) -> Result<bool, HookError> {
        let sent = (self.codedeploy.put_lifecycle_event_hook_execution_status())
            .deployment_id(deployment_id)
            .lifecycle_event_hook_execution_id(execution_id)
            .status(LifecycleEventStatus::from(status))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(false),
            Err(e) if error_code(&e) == Some("LifecycleEventAlreadyCompletedException") => Ok(true),
            // Ids from a broken event can be huge: the sentence quotes them short.
            Err(e) => Err(HookError::Report {
                deployment_id: shorten_values(deployment_id),
                execution_id: shorten_values(execution_id),
                status,
                reason: error_text(&e),
            }),
        }
    }

    /// Writes the decision once per hook execution; a failure to audit is
    /// logged, never allowed to stop the answer.
    async fn audit(&self, event: &HookEvent, decision: &str, reason: &str, action: String, outcome: String) {
        let Some(state) = &self.state else {
            tracing::warn!("no state table configured (TANDEM_STATE_TABLE): the decision is only in this log");
            return;
        };
        let entry = AuditEntry {
            kind: AuditKind::Hook,
            key: event.audit_key(),
            at: unix_now(),
            decision: decision.to_owned(),
            reason: reason.to_owned(),
            action,
            outcome,
            region: self.region.clone(),
        };
        if let Err(e) = state.audit(&entry).await {
            tracing::error!(error = %e, "could not audit the hook's decision");
        }
    }
}

/// A forward action in the decision's terms.
fn forward_of(action: &Action) -> Forward {
    Forward {
        target_group_arn: action.target_group_arn().map(str::to_owned),
        weighted: (action.forward_config())
            .map(|config| {
                (config.target_groups().iter())
                    .filter_map(|t| Some((t.target_group_arn()?.to_owned(), t.weight())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The target group a listener's actions forward to.
fn forward_target(actions: &[Action]) -> Option<String> {
    actions.iter().find_map(|a| {
        a.target_group_arn().map(str::to_owned).or_else(|| {
            a.forward_config()?
                .target_groups()
                .iter()
                .filter(|t| t.weight().unwrap_or(1) > 0)
                .find_map(|t| t.target_group_arn().map(str::to_owned))
        })
    })
}

#[cfg(test)]
mod tests;
