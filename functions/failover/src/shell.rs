//! The shell: probes, observes, decides, and acts on the plan.
//!
//! A scheduled invocation probes the primary every interval until its round
//! ends, counting each probe in the state table (so the streak survives
//! across invocations, and two invocations probing at once count once). A
//! promotion runs under the failover lock, one recorded step at a time, so
//! a crash mid-way is carried on by the next invocation from the step it
//! reached, and the roles are written only after the secret names the new
//! writer.

use crate::decide::{Plan, decide};
use crate::event::{EventError, TAKES, Trigger, parse};
use crate::settings::Settings;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tandem_core::clock::unix_now;
use tandem_core::event_fn::{BadEvent, Call, EventFunction, FunctionError, SdkConfig};
use tandem_core::probe::{HttpProber, Prober};
use tandem_core::settings::SettingError;
use tandem_core::state::{AuditEntry, AuditKind, FailoverLock, FailoverStep, StateTable, Written};
use tokio::time::Instant;

mod look;

/// The function's clients and settings, built once.
pub struct Failover {
    /// RDS, in this region.
    pub rds: aws_sdk_rds::Client,
    /// Secrets Manager, in this region.
    pub secrets: aws_sdk_secretsmanager::Client,
    /// CloudWatch, in this region.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// SNS, in this region.
    pub sns: aws_sdk_sns::Client,
    /// This region's state table.
    pub table: StateTable,
    /// The peer region's state table, read for a later epoch (a region that
    /// comes back must find that it was demoted). Unreachable during the
    /// peer's outage, which the shell allows for. `None` only in tests that
    /// are not about it.
    pub peer_table: Option<StateTable>,
    /// Sends the `/health` probes.
    pub prober: Arc<dyn Prober>,
    /// The settings.
    pub settings: Settings,
}

/// What went wrong; the text is one sentence for the logs and the DLQ.
#[derive(thiserror::Error)]
pub enum FailoverError {
    /// The event is not one this function takes.
    #[error(transparent)]
    Event(#[from] crate::event::EventError),
    /// The state table could not be read or written.
    #[error(transparent)]
    State(#[from] tandem_core::state::StateError),
    /// A promotion step failed; audited and notified.
    #[error("{0}")]
    Step(String),
}

// The runtime logs a handler's error with `{:?}`: the sentence, not the value.
tandem_core::debug_as_display!(FailoverError);

impl FunctionError for FailoverError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => BadEvent::KIND,
            Self::State(_) => "StateTable",
            Self::Step(_) => "FailoverStep",
        }
    }
}

impl From<BadEvent> for FailoverError {
    fn from(bad: BadEvent) -> Self {
        Self::Event(EventError::from(bad))
    }
}

/// Time kept back from the Lambda deadline to record where a promotion got.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(20);

/// The `failover` Lambda on the event functions' seam: `main` serves it.
impl EventFunction for Failover {
    type Settings = Settings;
    type Output = Value;
    type Error = FailoverError;
    const TAKES: &'static str = TAKES;

    fn settings() -> Result<Settings, SettingError> {
        tandem_core::settings::from_env(crate::settings::from_lookup)
    }

    fn build(config: &SdkConfig, settings: Settings) -> Self {
        // The peer's table, for a later epoch: one attempt (the peer may be
        // the region that is down; the next round reads it again), within
        // the shell's own limit.
        let peer_config = tandem_core::aws::config_for_region(config, &settings.peer_region);
        let retry = aws_sdk_dynamodb::config::retry::RetryConfig::disabled();
        let peer_dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&peer_config)
                .retry_config(retry)
                .build(),
        );
        Self {
            rds: aws_sdk_rds::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            table: StateTable::new(aws_sdk_dynamodb::Client::new(config), &settings.state_table),
            peer_table: Some(StateTable::new(peer_dynamodb, &settings.state_table)),
            prober: Arc::new(HttpProber::new(Duration::from_secs(settings.probe_timeout_secs))),
            settings,
        }
    }

    async fn handle(&self, event: Value, call: &Call) -> Result<Value, FailoverError> {
        let invocation = Invocation {
            request_id: call.request_id.clone(),
            until: Instant::now() + call.remaining.saturating_sub(DEADLINE_MARGIN),
        };
        // The inherent `handle`, which the shell's tests call too.
        Failover::handle(self, &event, &invocation).await
    }
}

/// One invocation: who it is and how long it may run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The Lambda request id: the lock's holder.
    pub request_id: String,
    /// When the invocation must be done by (a margin before the Lambda deadline).
    pub until: Instant,
}

impl Failover {
    /// Handles one event; returns what was decided and done.
    pub async fn handle(&self, raw: &Value, call: &Invocation) -> Result<Value, FailoverError> {
        let trigger = parse(raw)?;
        let dry_run = self.settings.dry_run || matches!(&trigger, Trigger::Manual(m) if m.dry_run);
        let probing = matches!(trigger, Trigger::Schedule | Trigger::Alarm { .. });
        let round_ends = Instant::now() + Duration::from_secs(self.settings.round_secs);
        let interval = Duration::from_secs(self.settings.probe_interval_secs);
        let mut fence_published = false;
        loop {
            let round_started = Instant::now();
            let (observed, version, holds_peer) = self.observe(probing).await?;
            if holds_peer && !fence_published {
                // Once an invocation, while this region fences its peer: the
                // alarm keeps its state through silence, this keeps it fed.
                fence_published = true;
                self.publish_fence(true).await.unwrap_or_else(|why| {
                    tracing::warn!(%why, "the traffic fence was not republished");
                });
            }
            let plan = decide(&trigger, &observed, self.settings.limits);
            tracing::info!(plan = ?plan_name(&plan), "decided");
            // A promotion (or its resumption) makes this region primary at the next epoch.
            let term = Term {
                version,
                epoch: observed.epoch + 1,
            };
            match plan {
                Plan::Watch(why) => {
                    let next = round_started + interval;
                    if probing && next < round_ends.min(call.until) {
                        tokio::time::sleep_until(next).await;
                        continue;
                    }
                    return Ok(answer("Watch", &why, "nothing to do"));
                }
                Plan::NotStandby(why) => return Ok(answer("NotStandby", &why, "nothing to do")),
                Plan::Busy(why) => return Ok(answer("Busy", &why, "left to the lock's holder")),
                Plan::Report(what) => return Ok(answer("Report", &what, "nothing done")),
                Plan::Fenced(why) => return Ok(answer("Fenced", &why, "nothing to do")),
                Plan::Demote(demotion) => {
                    if dry_run {
                        return Ok(answer("Demote", &demotion.reason, "none (dry run)"));
                    }
                    return self.demote(&demotion, version).await;
                }
                Plan::Refuse(why) => {
                    let key = format!("refused#{version}#{}", refusal_class(&why));
                    self.record("Refuse", &key, &why, "no promotion", "refused").await?;
                    return Ok(answer("Refuse", &why, "no promotion"));
                }
                Plan::Promote { reason, forced } => {
                    if dry_run {
                        let key = format!("dry-run#{version}#{}", observed.now);
                        self.record("Promote", &key, &reason, "none (dry run)", "dry run")
                            .await?;
                        return Ok(answer("Promote", &reason, "none (dry run)"));
                    }
                    let retry = observed.lock.as_ref().is_some_and(|l| l.step == FailoverStep::Failed);
                    return self.claim_and_run(term, &reason, forced, retry, call).await;
                }
                Plan::Resume(why) => {
                    if dry_run {
                        return Ok(answer("Resume", &why, "none (dry run)"));
                    }
                    return self.claim_and_run(term, &why, false, false, call).await;
                }
            }
        }
    }

    /// Takes the lock (fresh, a failed one for a person's retry, or one whose
    /// holder is gone) and runs the promotion from the step it records.
    async fn claim_and_run(
        &self,
        term: Term,
        reason: &str,
        forced: bool,
        retry: bool,
        call: &Invocation,
    ) -> Result<Value, FailoverError> {
        let Term { version, epoch } = term;
        let now = unix_now();
        let lease_until = now + self.settings.lease_secs;
        let claimed = if retry {
            self.table
                .retry_failover(version, &call.request_id, lease_until, now)
                .await?
        } else {
            let lock = FailoverLock {
                version,
                region: self.settings.region.clone(),
                holder: call.request_id.clone(),
                lease_until,
                step: FailoverStep::Claimed,
                reason: reason.to_owned(),
                forced,
                started_at: now,
                updated_at: now,
                error: None,
            };
            self.table.claim_failover(&lock, now).await?
        };
        if claimed == Written::AlreadyDone {
            return Ok(answer(
                "Busy",
                "another invocation took the failover lock first",
                "left to it",
            ));
        }
        let key = format!("promotion#{version}");
        let s = &self.settings;
        let action = format!(
            "fence {} (traffic and writes, epoch {epoch}), promote {} in {}, point {} at it, record {} as the primary",
            s.peer_region, s.db_instance, s.region, s.db_endpoint_secret, s.region
        );
        // The audit and the step to start from (a taken-over lock keeps its
        // holder's step), together.
        let (recorded, lock) = tokio::join!(
            self.record("Promote", &key, reason, &action, "in progress"),
            self.table.failover_lock(version)
        );
        recorded?;
        let step = lock?.map_or(FailoverStep::Claimed, |l| l.step);
        crate::steps::Steps {
            failover: self,
            version,
            epoch,
            holder: &call.request_id,
            until: call.until,
            audit_key: &key,
        }
        .run(step, reason)
        .await
    }

    /// Audits a decision once per `key`, and publishes it when it is new.
    pub(crate) async fn record(
        &self,
        decision: &str,
        key: &str,
        reason: &str,
        action: &str,
        outcome: &str,
    ) -> Result<Written, FailoverError> {
        let entry = AuditEntry {
            kind: AuditKind::Failover,
            key: key.to_owned(),
            at: unix_now(),
            decision: decision.to_owned(),
            reason: reason.to_owned(),
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            region: self.settings.region.clone(),
        };
        let written = self.table.audit(&entry).await?;
        if written == Written::Done {
            self.notify(decision, reason, outcome).await;
        }
        Ok(written)
    }

    /// Publishes to the ops topic; a failure is logged, never fatal (the
    /// audit trail has the decision).
    pub(crate) async fn notify(&self, decision: &str, reason: &str, outcome: &str) {
        let s = &self.settings;
        let message = json!({"source": "tandem-failover", "region": s.region, "decision": decision,
                             "reason": reason, "outcome": outcome});
        let subject = format!("tandem failover in {}: {decision}", s.region);
        let sent = (self.sns.publish())
            .topic_arn(&s.topic_arn)
            .subject(subject.chars().take(100).collect::<String>())
            .message(message.to_string())
            .send()
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %tandem_core::aws::error_text(&e), "the notification was not published");
        }
    }
}

/// The plan's name, for the logs.
fn plan_name(plan: &Plan) -> &'static str {
    match plan {
        Plan::NotStandby(_) => "NotStandby",
        Plan::Watch(_) => "Watch",
        Plan::Refuse(_) => "Refuse",
        Plan::Promote { .. } => "Promote",
        Plan::Resume(_) => "Resume",
        Plan::Busy(_) => "Busy",
        Plan::Report(_) => "Report",
        Plan::Demote(_) => "Demote",
        Plan::Fenced(_) => "Fenced",
    }
}

/// The term a promotion starts: the roles version it starts from (its
/// lock's key) and the epoch it makes this region primary at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Term {
    version: u64,
    epoch: u64,
}

/// A refusal's kind, so the same refusal is audited once per roles version.
fn refusal_class(why: &str) -> &'static str {
    [
        ("own /health fails", "own-health"),
        ("over the", "lag"),
        ("the lag is unknown", "no-lag"),
        ("not a replica", "not-a-replica"),
        ("not available", "replica-busy"),
        ("no database", "no-database"),
        ("failed earlier", "failed-earlier"),
    ]
    .into_iter()
    .find(|(text, _)| why.contains(text))
    .map_or("other", |(_, class)| class)
}

/// The function's answer.
pub(crate) fn answer(decision: &str, reason: &str, outcome: &str) -> Value {
    json!({"decision": decision, "reason": reason, "outcome": outcome})
}
