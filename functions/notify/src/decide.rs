//! The decision, pure: from the SNS event the ops topic delivers to the chat
//! messages to post, one per record.
//!
//! What the ops topic carries, and how each reads in the chat:
//!
//! | message | shape | chat text |
//! | --- | --- | --- |
//! | a CloudWatch alarm | JSON with `AlarmName`, `NewStateValue` | `[ALARM] <name> in <region>: <description>` then CloudWatch's reason |
//! | a failover decision | JSON with `"source": "tandem-failover"` | `[tandem failover] <region>: <decision>`, the reason, the outcome |
//! | a rollback decision | text, with a subject | the subject, then the text |
//! | anything else | text or JSON | the subject (when there is one), then the message as sent |
//!
//! Every text is cut to [`MAX_TEXT_CHARS`] characters, saying so.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The longest chat text posted, in characters. Slack advises at most 4,000
/// in `text` (and cuts at 40,000); Teams refuses messages over about 28 KB.
pub const MAX_TEXT_CHARS: usize = 3000;

/// The longest audit reason, in characters.
const MAX_SUMMARY_CHARS: usize = 200;

/// One message to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// The SNS message id: the audit key, the same on a redelivery.
    pub key: String,
    /// One line for the audit trail: what the message is about.
    pub summary: String,
    /// The text to post.
    pub text: String,
}

impl ChatMessage {
    /// The body to post: `{"text": "..."}`, which Slack's incoming webhooks
    /// take as it is (and Teams workflows that read `text`).
    pub fn body(&self) -> String {
        json!({ "text": self.text }).to_string()
    }
}

/// An event this function cannot read, in one sentence naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(String);

/// What the function takes, for the sentences that refuse an event.
pub const TAKES: &str = "the ops topic's SNS notifications ({\"Records\": [{\"Sns\": {\"MessageId\", \"Message\"}}]})";

impl From<tandem_core::event_fn::BadEvent> for EventError {
    fn from(bad: tandem_core::event_fn::BadEvent) -> Self {
        Self(bad.to_string())
    }
}

#[derive(Debug, Deserialize)]
struct SnsEvent {
    #[serde(rename = "Records")]
    records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
struct SnsRecord {
    #[serde(rename = "Sns")]
    sns: SnsMessage,
}

/// The fields of an SNS notification this function reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsMessage {
    message_id: String,
    #[serde(default)]
    subject: Option<String>,
    message: String,
}

/// The messages to post for `event`, one per record, in order.
pub fn messages(event: &Value) -> Result<Vec<ChatMessage>, EventError> {
    tandem_core::event_fn::object(event, TAKES)?;
    let event: SnsEvent = tandem_core::event_fn::read(event, "SNS event", TAKES)?;
    if event.records.is_empty() {
        return Err(EventError(format!(
            "the SNS event's field `Records` is empty: there is nothing to post; this function takes {TAKES}"
        )));
    }
    Ok(event.records.into_iter().map(|r| render(r.sns)).collect())
}

fn render(sns: SnsMessage) -> ChatMessage {
    let subject = sns.subject.filter(|s| !s.trim().is_empty());
    let parsed = serde_json::from_str::<Value>(&sns.message).ok();
    let (summary, text) = match parsed.as_ref().and_then(Value::as_object) {
        Some(fields) if fields.get("AlarmName").is_some_and(Value::is_string) => alarm(fields),
        Some(fields) if string(fields, "source").starts_with("tandem-") => decision(fields),
        _ => plain(subject.as_deref(), &sns.message),
    };
    ChatMessage {
        key: sns.message_id,
        summary: cut(&one_line(&summary), MAX_SUMMARY_CHARS),
        text: cut(&tidy(&text), MAX_TEXT_CHARS),
    }
}

fn string<'a>(fields: &'a Map<String, Value>, key: &str) -> &'a str {
    fields.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A CloudWatch alarm's notification.
fn alarm(fields: &Map<String, Value>) -> (String, String) {
    let name = string(fields, "AlarmName");
    let state = match string(fields, "NewStateValue") {
        "" => "UNKNOWN",
        state => state,
    };
    // The ARN names the region's code (us-east-1); `Region` its long name.
    let region = match string(fields, "AlarmArn").split(':').nth(3) {
        Some(code) if !code.is_empty() => code,
        _ => string(fields, "Region"),
    };
    let place = if region.is_empty() {
        String::new()
    } else {
        format!(" in {region}")
    };
    let head = match state {
        "OK" => format!("[OK] {name}{place} is OK again"),
        "INSUFFICIENT_DATA" => format!("[INSUFFICIENT_DATA] {name}{place} has too little data"),
        state => format!("[{state}] {name}{place}"),
    };
    let description = string(fields, "AlarmDescription");
    let head = if description.is_empty() {
        head
    } else {
        format!("{head}: {description}")
    };
    let summary = format!("alarm {name} is {state}{place}");
    (summary, format!("{head}\n{}", string(fields, "NewStateReason")))
}

/// One of tandem's own decisions, published as JSON (the failover function's).
fn decision(fields: &Map<String, Value>) -> (String, String) {
    let source = string(fields, "source").replacen('-', " ", 1);
    let region = string(fields, "region");
    let decision = string(fields, "decision");
    let head = format!("[{source}] {region}: {decision}");
    let mut text = format!("{head}\n{}", string(fields, "reason"));
    let outcome = string(fields, "outcome");
    if !outcome.is_empty() {
        text.push_str(&format!("\nOutcome: {outcome}"));
    }
    (format!("{source} decided {decision} in {region}"), text)
}

/// Any other message: its subject, then itself.
fn plain(subject: Option<&str>, message: &str) -> (String, String) {
    match subject {
        Some(subject) => (subject.to_owned(), format!("{subject}\n{message}")),
        None => (
            message
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("(an empty message)")
                .to_owned(),
            message.to_owned(),
        ),
    }
}

/// Trailing spaces and blank lines dropped: short in a chat.
fn tidy(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    lines.join("\n")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max` characters, ending with a note of how long it was.
fn cut(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let note = format!("… (cut: {count} characters in all)");
    let keep = max.saturating_sub(note.chars().count());
    let head: String = text.chars().take(keep).collect();
    format!("{}{note}", head.trim_end())
}

#[cfg(test)]
mod tests;
