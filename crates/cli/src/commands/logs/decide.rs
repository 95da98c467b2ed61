//! `tandem logs`, the pure part: which log groups, one readable line per
//! log event, the merge of both regions by time, and the follow loop's
//! backoff. The AWS shell is `commands::logs`.

use crate::when::{format_log_time, parse_rfc3339_ms};
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;

/// One log event as CloudWatch Logs returns it, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RawEvent {
    /// The region of the log group.
    pub(crate) region: String,
    /// The function's short name.
    pub(crate) function: String,
    /// CloudWatch Logs' id of the event (to show each event once when following).
    pub(crate) event_id: String,
    /// CloudWatch Logs' timestamp (Unix milliseconds).
    pub(crate) timestamp: u64,
    /// The line as the function wrote it.
    pub(crate) message: String,
}

/// One log line, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogLine {
    /// When the function wrote it (its own timestamp when it has one), Unix ms.
    pub(crate) at_ms: u64,
    /// The region.
    pub(crate) region: String,
    /// The function's short name.
    pub(crate) function: String,
    /// `INFO`, `WARN`, `ERROR`…; `-` for the runtime's own lines.
    pub(crate) level: String,
    /// The message, followed by the event's other fields as `key=value`.
    pub(crate) message: String,
    /// The invocation's request id, when the line carries it.
    pub(crate) request_id: Option<String>,
}

/// Keys shown in their own columns, or not at all.
const FRAME_KEYS: &[&str] = &["timestamp", "level", "message", "span", "spans", "target", "requestId"];

/// The line for one event; `None` for the runtime's `START`/`END` markers
/// (the request id is on every line of the invocation already).
pub(crate) fn read_event(event: &RawEvent) -> Option<LogLine> {
    let text = event.message.trim_end();
    if text.starts_with("START RequestId:") || text.starts_with("END RequestId:") {
        return None;
    }
    let line = |level: &str, message: String, at_ms: u64, request_id: Option<String>| LogLine {
        at_ms,
        region: event.region.clone(),
        function: event.function.clone(),
        level: level.to_owned(),
        message,
        request_id,
    };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
        // The runtime's REPORT: its request id goes to the id column.
        if let Some((id, rest)) = text.strip_prefix("REPORT RequestId: ").and_then(|r| r.split_once('\t')) {
            let message = format!("REPORT {}", rest.replace('\t', "  "));
            return Some(line("-", message, event.timestamp, Some(id.to_owned())));
        }
        return Some(line("-", text.replace('\t', "  "), event.timestamp, None));
    };
    let at_ms = fields
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339_ms)
        .unwrap_or(event.timestamp);
    let level = fields
        .get("level")
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_ascii_uppercase();
    let request_id = (fields.get("span").and_then(|s| s.get("requestId")))
        .or_else(|| fields.get("requestId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(line(&level, message_with_fields(&fields), at_ms, request_id))
}

/// The message, then every other field as `key=value` (strings unquoted),
/// in the order the function wrote them.
fn message_with_fields(fields: &Map<String, Value>) -> String {
    let mut text = fields.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
    for (key, value) in fields.iter().filter(|(k, _)| !FRAME_KEYS.contains(&k.as_str())) {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!(" {key}={value}"));
    }
    text
}

/// Both regions' lines in time order; lines of the same millisecond keep
/// a fixed order (region, then function, then as read).
pub(crate) fn merge(mut lines: Vec<LogLine>) -> Vec<LogLine> {
    lines.sort_by(|a, b| (a.at_ms, &a.region, &a.function).cmp(&(b.at_ms, &b.region, &b.function)));
    lines
}

/// One line for a person: time (UTC), region, function, level, message and request id.
pub(crate) fn format_line(line: &LogLine) -> String {
    let request = line
        .request_id
        .as_deref()
        .map(|r| format!("  [{r}]"))
        .unwrap_or_default();
    format!(
        "{} {:<9} {:<11} {:<5} {}{request}",
        format_log_time(line.at_ms),
        line.region,
        line.function,
        line.level,
        line.message
    )
}

/// The CloudWatch Logs filter pattern that matches lines containing `text`
/// (a quoted phrase, its own quotes escaped).
pub(crate) fn filter_pattern(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The first wait of `--follow`, and the longest.
pub(crate) const FOLLOW_FIRST: Duration = Duration::from_secs(2);
/// The longest wait of `--follow` between polls that found nothing.
pub(crate) const FOLLOW_MOST: Duration = Duration::from_secs(30);
/// How far back each `--follow` poll reads again: CloudWatch Logs may
/// deliver an event after later ones, and ids already shown are skipped.
pub(crate) const FOLLOW_LOOKBACK_MS: u64 = 60_000;

/// The wait before the next `--follow` poll: back to the first after new
/// lines, otherwise doubled up to [`FOLLOW_MOST`].
pub(crate) fn next_wait(current: Duration, found_new: bool) -> Duration {
    if found_new {
        FOLLOW_FIRST
    } else {
        (current * 2).min(FOLLOW_MOST)
    }
}

#[cfg(test)]
mod tests;
