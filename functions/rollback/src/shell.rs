//! The shell: observes the release, decides, writes the decision once per
//! event, claims the action once per incident, acts, and notifies.
//!
//! Both writes are conditional, never a read first: a repeated delivery of
//! the same event finds its decision written and does nothing more; a second
//! event about the same incident (another alarm, the forwarded failure)
//! finds the action claimed and only records that.
//!
//! The plan's [`Engine`] picks the calls: CodeDeploy's here, ECS's in
//! `shell/ecs.rs`.

use crate::decide::{Engine, Observed, Plan, Scope, decide};
use crate::event::{ACCEPTED, EventError, Incoming, OWN_NOTIFICATION_ATTRIBUTE, parse_in};
use serde_json::{Value, json};
use tandem_core::appspec::{appspec, sha256_hex};
use tandem_core::aws::{error_code, error_text};
use tandem_core::clock::unix_now;
use tandem_core::event_fn::{BadEvent, Call, EventFunction, FunctionError, SdkConfig};
use tandem_core::settings::SettingError;
use tandem_core::state::{AuditEntry, AuditKind, FAILED_OUTCOME, ReleaseState, StateTable, Written};

/// What the shell needs besides the decision's [`Scope`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What the decision is scoped to.
    pub scope: Scope,
    /// The ops topic every decision is published to.
    pub topic_arn: String,
    /// Decide and audit, but act on nothing.
    pub dry_run: bool,
    /// The lifecycle-hook validator a CodeDeploy redeploy's AppSpec names.
    pub hook_function: String,
    /// The container the load balancer targets.
    pub container_name: String,
    /// Its port.
    pub container_port: u16,
    /// This region's state table.
    pub state_table: String,
}

/// The function's clients and settings, built once.
pub struct Rollback {
    /// CodeDeploy, in this region.
    pub codedeploy: aws_sdk_codedeploy::Client,
    /// ECS, in this region.
    pub ecs: aws_sdk_ecs::Client,
    /// SNS, in this region.
    pub sns: aws_sdk_sns::Client,
    /// This region's state table.
    pub table: StateTable,
    /// The settings.
    pub settings: Settings,
}

/// What went wrong; the text is one sentence for the logs and the DLQ.
#[derive(thiserror::Error)]
pub enum RollbackError {
    /// The event is not one this function takes.
    #[error(transparent)]
    Event(#[from] crate::event::EventError),
    /// The state table could not be read or written.
    #[error(transparent)]
    State(#[from] tandem_core::state::StateError),
    /// The action failed (after the SDK's bounded retries); audited.
    #[error("{0}")]
    Action(String),
}

// The runtime logs a handler's error with `{:?}`: the sentence, not the value.
tandem_core::debug_as_display!(RollbackError);

impl FunctionError for RollbackError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => BadEvent::KIND,
            Self::State(_) => "StateTable",
            Self::Action(_) => "RollbackAction",
        }
    }
}

impl From<BadEvent> for RollbackError {
    fn from(bad: BadEvent) -> Self {
        Self::Event(EventError::from(bad))
    }
}

/// The `rollback` Lambda on the event functions' seam: `main` serves it.
impl EventFunction for Rollback {
    type Settings = Settings;
    type Output = Value;
    type Error = RollbackError;
    const TAKES: &'static str = ACCEPTED;

    fn settings() -> Result<Settings, SettingError> {
        tandem_core::settings::from_env(crate::settings::from_lookup)
    }

    fn build(config: &SdkConfig, settings: Settings) -> Self {
        Self {
            codedeploy: aws_sdk_codedeploy::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            table: StateTable::new(aws_sdk_dynamodb::Client::new(config), &settings.state_table),
            settings,
        }
    }

    async fn handle(&self, event: Value, _: &Call) -> Result<Value, RollbackError> {
        // The inherent `handle`, which the shell's tests call too.
        Rollback::handle(self, &event).await
    }
}

/// The key of one event's decision: a repeated delivery has the same one.
pub fn event_key(event: &Incoming) -> String {
    match event {
        // The state is part of it: an OK and an ALARM can carry the same
        // change time (the local AWS writes whole seconds).
        Incoming::Alarm(a) => format!("alarm#{}#{:?}#{}", a.name, a.state, a.changed_at),
        Incoming::Deployment(d) => format!("deployment#{}#{}#{:?}", d.region, d.deployment_id, d.state),
        Incoming::OwnNotification => "own-notification".into(),
    }
}

impl Rollback {
    /// Handles one event; returns what was decided and done.
    pub async fn handle(&self, raw: &Value) -> Result<Value, RollbackError> {
        let event = parse_in(raw, &self.settings.scope.region)?;
        if event == Incoming::OwnNotification {
            // Its own decisions come back on the ops topic it listens to.
            tracing::info!("a notification tandem published itself: nothing to do");
            return Ok(json!({"decision": "Ignore", "reason": "a notification tandem published itself"}));
        }
        let scope = &self.settings.scope;
        let observed = Observed {
            release: self.table.last_release(&scope.region).await?,
            now: unix_now(),
        };
        let plan = decide(&event, scope, &observed);
        let key = event_key(&event);
        let acts = plan.incident().is_some();
        let action = match (&plan, self.settings.dry_run) {
            (_, true) if acts => format!("would {} (DRY_RUN)", plan.name()),
            (Plan::Notify { .. }, _) => "published to the ops topic".to_owned(),
            _ if acts => plan.name().to_owned(),
            _ => "none".to_owned(),
        };
        let entry = AuditEntry {
            kind: AuditKind::Rollback,
            key: key.clone(),
            at: observed.now,
            decision: plan.name().into(),
            reason: plan.reason().into(),
            action,
            outcome: "decided".into(),
            region: scope.region.clone(),
        };
        // A redelivery of an event whose handling failed is decided again;
        // the incident's claim in carry_out still allows one action.
        if self.table.audit_decision(&entry).await? == Written::AlreadyDone {
            tracing::info!(%key, "this event was handled already: nothing more");
            return Ok(json!({"decision": "AlreadyHandled", "event": key}));
        }
        let outcome = self.carry_out(&plan).await;
        let text = match &outcome {
            Ok(done) => done.clone(),
            Err(why) => format!("{FAILED_OUTCOME} {why}"),
        };
        self.table.set_audit_outcome(AuditKind::Rollback, &key, &text).await?;
        if !matches!(plan, Plan::Ignore { .. }) {
            self.notify(&plan, &text).await;
        }
        outcome.map_err(RollbackError::Action)?;
        Ok(json!({"decision": plan.name(), "reason": plan.reason(), "outcome": text, "event": key}))
    }

    /// Claims the plan's incident, then acts. Ok: what was done.
    async fn carry_out(&self, plan: &Plan) -> Result<String, String> {
        let Some(incident) = plan.incident() else {
            return Ok("nothing to act on".into());
        };
        if self.settings.dry_run {
            return Ok("DRY_RUN: nothing was done".into());
        }
        let claim = AuditEntry {
            kind: AuditKind::Rollback,
            key: incident.clone(),
            at: unix_now(),
            decision: plan.name().into(),
            reason: plan.reason().into(),
            action: plan.name().into(),
            outcome: "acting".into(),
            region: self.settings.scope.region.clone(),
        };
        match self.table.audit(&claim).await {
            Ok(Written::AlreadyDone) => return Ok(format!("{incident} was acted on already: one action per incident")),
            Ok(Written::Done) => {}
            Err(e) => return Err(e.to_string()),
        }
        let result = self.act(plan).await;
        let outcome = match &result {
            Ok(done) => done.clone(),
            Err(why) => format!(
                "failed: {why}; not retried automatically (one action per incident): act by hand, \
                 or delete audit entry rollback#{incident} and redrive the event from the dead-letter queue"
            ),
        };
        if let Err(e) = self
            .table
            .set_audit_outcome(AuditKind::Rollback, &incident, &outcome)
            .await
        {
            tracing::error!(error = %e, %incident, "could not record the action's outcome");
        }
        result
    }

    async fn act(&self, plan: &Plan) -> Result<String, String> {
        let now = unix_now();
        match plan {
            Plan::Stop {
                engine,
                deployment_id,
                release,
                reason,
            } => {
                let done = match engine {
                    Engine::CodeDeploy { .. } => {
                        self.stop(deployment_id).await?;
                        format!("stopped deployment {deployment_id}; CodeDeploy rolls traffic back")
                    }
                    Engine::Ecs { .. } => self.stop_service_deployment(deployment_id).await?,
                };
                self.table
                    .finish_release(release, ReleaseState::Failed, reason, now)
                    .await
                    .map_err(|e| format!("stopped {deployment_id}, but {e}"))?;
                Ok(done)
            }
            Plan::Redeploy {
                engine,
                task_definition,
                release,
                reason,
            } => {
                let (started, done) = match engine {
                    Engine::CodeDeploy { application, group } => {
                        let id = (self.redeploy(application, group, task_definition, &release.image)).await?;
                        (id.clone(), format!("started deployment {id} of {task_definition}"))
                    }
                    Engine::Ecs { cluster, service } => {
                        let done = self.update_service(cluster, service, task_definition).await?;
                        (
                            format!("the redeploy of {cluster}/{service} to {task_definition}"),
                            done,
                        )
                    }
                };
                self.table
                    .mark_rolled_back(release, reason, now)
                    .await
                    .map_err(|e| format!("started {started}, but {e}"))?;
                Ok(done)
            }
            Plan::MarkFailed { release, reason } => {
                let written = self
                    .table
                    .finish_release(release, ReleaseState::Failed, reason, now)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(match written {
                    Written::Done => format!("recorded the release of {} as failed", release.image),
                    Written::AlreadyDone => "the release was recorded as ended already".into(),
                })
            }
            Plan::Ignore { .. } | Plan::Notify { .. } => Ok("nothing to act on".into()),
        }
    }

    async fn stop(&self, deployment_id: &str) -> Result<(), String> {
        let stopped = (self.codedeploy.stop_deployment())
            .deployment_id(deployment_id)
            .auto_rollback_enabled(true)
            .send()
            .await;
        match stopped {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("DeploymentAlreadyCompletedException") => Ok(()),
            Err(e) => Err(format!(
                "CodeDeploy StopDeployment of {deployment_id} failed ({})",
                error_text(&e)
            )),
        }
    }

    async fn redeploy(
        &self,
        application: &str,
        group: &str,
        task_definition: &str,
        image: &str,
    ) -> Result<String, String> {
        use aws_sdk_codedeploy::types::{AppSpecContent, RevisionLocation, RevisionLocationType};
        let s = &self.settings;
        let content = appspec(task_definition, &s.container_name, s.container_port, &s.hook_function);
        let revision = RevisionLocation::builder()
            .revision_type(RevisionLocationType::AppSpecContent)
            .app_spec_content(
                AppSpecContent::builder()
                    .sha256(sha256_hex(&content))
                    .content(content)
                    .build(),
            )
            .build();
        let out = (self.codedeploy.create_deployment())
            .application_name(application)
            .deployment_group_name(group)
            .revision(revision)
            .description(format!("tandem rollback of {image} to {task_definition}"))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "CodeDeploy CreateDeployment of {task_definition} in {application}/{group} was refused ({})",
                    error_text(&e)
                )
            })?;
        Ok(out.deployment_id().unwrap_or("(no id)").to_owned())
    }

    /// Publishes the decision to the ops topic; a failure is logged, since
    /// the audit trail holds the decision either way.
    async fn notify(&self, plan: &Plan, outcome: &str) {
        let region = &self.settings.scope.region;
        let subject = format!("tandem rollback in {region}: {}", plan.name());
        let message = format!("{}\n\nOutcome: {outcome}", plan.reason());
        let mark = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value("rollback")
            .build();
        let published = (self.sns.publish())
            .topic_arn(&self.settings.topic_arn)
            .set_message_attributes(mark.ok().map(|m| [(OWN_NOTIFICATION_ATTRIBUTE.to_owned(), m)].into()))
            .subject(subject.chars().take(100).collect::<String>())
            .message(message)
            .send()
            .await;
        if let Err(e) = published {
            tracing::error!(error = %error_text(&e), "could not publish the decision to the ops topic");
        }
    }
}

mod ecs;

#[cfg(test)]
mod tests;
