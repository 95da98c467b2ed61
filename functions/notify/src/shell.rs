//! The shell: claims each message once in the audit trail, reads the
//! webhook's URL, posts, and records the outcome.
//!
//! The claim is a conditional write ([`StateTable::audit_decision`]): a
//! redelivery of a message that was posted finds it and posts nothing; one
//! whose post failed (`failed:`) is claimed and posted again. A failed post
//! fails the invocation, so Lambda retries it (twice, for SNS's asynchronous
//! invocation) and then sends the event to the dead-letter queue.
//!
//! The URL is a credential: it is read from Secrets Manager once per cold
//! start, read again after a failed post (it may have been replaced), and
//! never logged, audited or put in an error.

use crate::decide::{ChatMessage, EventError, TAKES, messages};
use crate::settings::Settings;
use serde_json::{Value, json};
use std::time::Duration;
use tandem_core::aws::error_text;
use tandem_core::clock::unix_now;
use tandem_core::event_fn::{BadEvent, Call, EventFunction, FunctionError, SdkConfig};
use tandem_core::settings::SettingError;
use tandem_core::state::{AuditEntry, AuditKind, FAILED_OUTCOME, StateTable, Written};
use tandem_core::webhook::{HttpsPoster, Poster, host_of};
use tokio::sync::Mutex;

/// How a delivered message's audit outcome starts.
pub const DELIVERED_OUTCOME: &str = "delivered:";

/// The function's clients and settings, built once.
pub struct Notify {
    secrets: aws_sdk_secretsmanager::Client,
    table: StateTable,
    poster: Box<dyn Poster>,
    settings: Settings,
    /// The webhook's URL once read; `None` after a failed post.
    url: Mutex<Option<WebhookUrl>>,
}

/// The webhook's URL; its `Debug` does not show it.
struct WebhookUrl(String);

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl(hidden)")
    }
}

/// What went wrong; the text is one sentence for the logs and the DLQ.
#[derive(thiserror::Error)]
pub enum NotifyError {
    /// The event is not an SNS notification this function reads.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The state table could not be read or written.
    #[error(transparent)]
    State(#[from] tandem_core::state::StateError),
    /// The message was not delivered (audited with the reason).
    #[error("{0}")]
    Delivery(String),
}

tandem_core::debug_as_display!(NotifyError);

impl FunctionError for NotifyError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => BadEvent::KIND,
            Self::State(_) => "StateTable",
            Self::Delivery(_) => "NotDelivered",
        }
    }
}

impl From<BadEvent> for NotifyError {
    fn from(bad: BadEvent) -> Self {
        Self::Event(EventError::from(bad))
    }
}

/// The `notify` Lambda on the event functions' seam: `main` serves it.
impl EventFunction for Notify {
    type Settings = Settings;
    type Output = Value;
    type Error = NotifyError;
    const TAKES: &'static str = TAKES;

    fn settings() -> Result<Settings, SettingError> {
        tandem_core::settings::from_env(crate::settings::from_lookup)
    }

    fn build(config: &SdkConfig, settings: Settings) -> Self {
        Self::new(
            aws_sdk_secretsmanager::Client::new(config),
            StateTable::new(aws_sdk_dynamodb::Client::new(config), &settings.state_table),
            Box::new(HttpsPoster::new(Duration::from_secs(settings.timeout_secs))),
            settings,
        )
    }

    async fn handle(&self, event: Value, _: &Call) -> Result<Value, NotifyError> {
        // The inherent `handle`, which the shell's tests call too.
        Notify::handle(self, &event).await
    }
}

impl Notify {
    /// The function `main` runs: its clients, the poster, and the settings.
    pub fn new(
        secrets: aws_sdk_secretsmanager::Client,
        table: StateTable,
        poster: Box<dyn Poster>,
        settings: Settings,
    ) -> Self {
        Self {
            secrets,
            table,
            poster,
            settings,
            url: Mutex::new(None),
        }
    }

    /// Posts every message of the event, in order; the first failure stops
    /// and fails the invocation (a redelivery skips those delivered).
    pub async fn handle(&self, event: &Value) -> Result<Value, NotifyError> {
        let mut outcomes = Vec::new();
        for message in messages(event)? {
            let outcome = self.deliver(&message).await?;
            outcomes.push(json!({"message": message.key, "outcome": outcome}));
        }
        Ok(json!({ "delivered": outcomes }))
    }

    /// Claims, posts and records one message. Ok: its outcome.
    async fn deliver(&self, message: &ChatMessage) -> Result<String, NotifyError> {
        let entry = AuditEntry {
            kind: AuditKind::Notify,
            key: message.key.clone(),
            at: unix_now(),
            decision: "Post".into(),
            reason: message.summary.clone(),
            action: "posted to the chat webhook".into(),
            outcome: "decided".into(),
            region: self.settings.region.clone(),
        };
        if self.table.audit_decision(&entry).await? == Written::AlreadyDone {
            return self.claimed_before(&message.key).await;
        }
        let result = self.post(message).await;
        let outcome = match &result {
            Ok(status) => format!("{DELIVERED_OUTCOME} the webhook answered HTTP {status}"),
            Err(why) => format!("{FAILED_OUTCOME} {why}"),
        };
        if let Err(e) = self
            .table
            .set_audit_outcome(AuditKind::Notify, &message.key, &outcome)
            .await
        {
            // Posted or not, the claim is there; the log has the outcome.
            tracing::error!(error = %e, key = %message.key, %outcome, "the delivery's outcome was not recorded");
        }
        match result {
            Ok(_) => {
                tracing::info!(key = %message.key, summary = %message.summary, "delivered to the chat webhook");
                Ok(outcome)
            }
            Err(why) => Err(NotifyError::Delivery(why)),
        }
    }

    /// A message whose claim was there already: delivered (nothing more to
    /// do), or claimed by a delivery that never recorded an outcome.
    async fn claimed_before(&self, key: &str) -> Result<String, NotifyError> {
        let earlier = self.table.audit_entry(AuditKind::Notify, key).await?;
        match earlier {
            Some(e) if e.outcome.starts_with(DELIVERED_OUTCOME) => {
                tracing::info!(%key, "this message was delivered already: nothing more");
                Ok("delivered already".into())
            }
            _ => Err(NotifyError::Delivery(format!(
                "message {key} was claimed by an earlier delivery that recorded no outcome (still running, or \
                 stopped by Lambda's timeout); it is retried, then kept in the dead-letter queue, and delivered \
                 again once audit entry notify#{key} is deleted"
            ))),
        }
    }

    /// Posts the message. Ok: the webhook's 2xx status.
    async fn post(&self, message: &ChatMessage) -> Result<u16, String> {
        let mut cached = self.url.lock().await;
        if cached.is_none() {
            *cached = Some(self.read_url().await?);
        }
        let url = cached.as_ref().map(|u| u.0.clone()).unwrap_or_default();
        let host = host_of(&url);
        let answer = self.poster.post_json(&url, message.body()).await;
        let why = match answer {
            Ok(status) if (200..300).contains(&status) => return Ok(status),
            Ok(status) => format!(
                "the chat webhook at {host} answered HTTP {status}: it is retried, then kept in the dead-letter \
                 queue; a revoked webhook answers 403 or 404, so check the URL in secret {}",
                self.settings.secret_id
            ),
            Err(why) => format!(
                "the post to the chat webhook at {host} failed ({why}): it is retried, then kept in the \
                 dead-letter queue; check that the webhook answers"
            ),
        };
        // Read the secret again next time: it may have been replaced.
        *cached = None;
        Err(why)
    }

    /// The webhook's URL from its secret, checked (never repeated).
    async fn read_url(&self) -> Result<WebhookUrl, String> {
        let id = &self.settings.secret_id;
        let out = (self.secrets.get_secret_value())
            .secret_id(id)
            .send()
            .await
            .map_err(|e| format!("the webhook's secret {id} could not be read ({})", error_text(&e)))?;
        let url = out.secret_string().unwrap_or_default().trim();
        let https = url.strip_prefix("https://").is_some_and(|rest| !rest.is_empty());
        if !https || url.contains(char::is_whitespace) {
            return Err(format!(
                "the webhook's secret {id} does not hold an https:// URL: set ops_webhook_url and deploy again"
            ));
        }
        Ok(WebhookUrl(url.to_owned()))
    }
}

#[cfg(test)]
mod tests;
