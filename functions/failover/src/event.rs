//! The events the function takes: its schedule, alarm state changes
//! forwarded from the primary, and manual events from `tandem failover`.

use serde_json::Value;
use tandem_core::text::{quote, shorten_values};

/// The most of a manual reason that is kept (the audit trail holds a sentence, not a file).
pub const MAX_REASON_CHARS: usize = 500;

/// What a person asks for in a manual event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Fail over to this region now (the person's judgement stands in for
    /// the failed probes; this region's health and the lag still count).
    Failover,
    /// Report what the function sees and would do; act on nothing.
    Status,
}

/// A manual event: `{"action": "failover"|"status", "reason": "...", "force": bool, "dry_run": bool}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    /// What to do.
    pub action: Action,
    /// Why, for the audit trail.
    pub reason: String,
    /// Skip the replica-lag check (and only that).
    pub force: bool,
    /// Decide and audit, act on nothing.
    pub dry_run: bool,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The every-minute schedule: probe the primary until the next tick.
    Schedule,
    /// A tandem alarm changed state in the other region: probe now.
    Alarm {
        /// The alarm.
        name: String,
        /// Its new state, such as `ALARM`.
        state: String,
        /// The region it fired in.
        region: String,
    },
    /// A person's request.
    Manual(Manual),
}

/// What the function takes, for errors that name it.
pub const TAKES: &str =
    "its schedule, forwarded alarm state changes and manual events ({\"action\": \"failover\"|\"status\"})";

/// An event the function does not take; the text names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

impl From<tandem_core::event_fn::BadEvent> for EventError {
    fn from(bad: tandem_core::event_fn::BadEvent) -> Self {
        Self(bad.to_string())
    }
}

/// An alarm's states, as CloudWatch spells them.
pub const ALARM_STATES: [&str; 3] = ["ALARM", "OK", "INSUFFICIENT_DATA"];

/// Reads `event`.
pub fn parse(event: &Value) -> Result<Trigger, EventError> {
    let object = tandem_core::event_fn::object(event, TAKES)?;
    if let Some(action) = object.get("action") {
        return manual(event, action).map(Trigger::Manual);
    }
    match object.get("detail-type").and_then(Value::as_str) {
        Some("Scheduled Event") => Ok(Trigger::Schedule),
        Some("CloudWatch Alarm State Change") => {
            let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
            let name = text("/detail/alarmName").ok_or_else(|| {
                EventError("the alarm event has no detail.alarmName: forward the EventBridge event unchanged".into())
            })?;
            let state = text("/detail/state/value").ok_or_else(|| {
                EventError(format!(
                    "the alarm event for {} has no detail.state.value: forward the EventBridge event unchanged",
                    quote(&name)
                ))
            })?;
            if !ALARM_STATES.contains(&state.as_str()) {
                return Err(EventError(format!(
                    "the alarm event for {} has state {}; a CloudWatch alarm's state is ALARM, OK or \
                     INSUFFICIENT_DATA: forward the EventBridge event unchanged",
                    quote(&name),
                    quote(&state)
                )));
            }
            Ok(Trigger::Alarm {
                name,
                state,
                region: text("/region").unwrap_or_default(),
            })
        }
        Some(other) => Err(EventError(format!(
            "events of detail-type {} are not for this function: it takes its schedule, forwarded alarm state changes and manual events",
            quote(other)
        ))),
        None if object.contains_key("detail-type") => Err(EventError(format!(
            "field `detail-type` is {}: forward the EventBridge event unchanged",
            shown(&object["detail-type"])
        ))),
        None => Err(EventError(
            "the event has neither `action` nor `detail-type`: send {\"action\": \"failover\"|\"status\", \"reason\": \"...\"}, or route a schedule or alarm rule here".into(),
        )),
    }
}

fn manual(event: &Value, action: &Value) -> Result<Manual, EventError> {
    let action = match action.as_str() {
        Some("failover") => Action::Failover,
        Some("status") => Action::Status,
        _ => {
            return Err(EventError(format!(
                "field `action` is {}: use \"failover\" or \"status\"",
                shown(action)
            )));
        }
    };
    let flag = |name: &str| match event.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(EventError(format!(
            "field `{name}` is {}: use true or false",
            shown(other)
        ))),
    };
    let reason = match event.get("reason") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.trim().to_owned(),
        Some(other) => {
            return Err(EventError(format!(
                "field `reason` is {}: give one sentence of text",
                shown(other)
            )));
        }
    };
    if action == Action::Failover && reason.is_empty() {
        return Err(EventError(
            "field `reason` is missing: a manual failover needs a reason for the audit trail, such as \"us-east-1 is down (AWS health event)\"".into(),
        ));
    }
    Ok(Manual {
        action,
        reason: reason.chars().take(MAX_REASON_CHARS).collect(),
        force: flag("force")?,
        dry_run: flag("dry_run")?,
    })
}

/// A JSON value as a person reads it, shortened: a string in quotes once,
/// anything else as its JSON in backquotes (`3`, `["failover"]`).
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => quote(text),
        other => shorten_values(&format!("`{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_sample_event_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
        for (file, expected) in [
            ("failover-schedule.json", "schedule"),
            ("failover-alarm-forwarded.json", "alarm"),
            ("failover-manual.json", "failover"),
            ("failover-status.json", "status"),
        ] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let trigger = parse(&serde_json::from_str(&text).unwrap()).unwrap();
            let got = match trigger {
                Trigger::Schedule => "schedule",
                Trigger::Alarm { .. } => "alarm",
                Trigger::Manual(Manual {
                    action: Action::Failover,
                    ..
                }) => "failover",
                Trigger::Manual(Manual {
                    action: Action::Status, ..
                }) => "status",
            };
            assert_eq!(got, expected, "{file}");
        }
    }

    #[test]
    fn a_manual_failover_carries_its_reason_and_flags() {
        let t = parse(&json!({"action": "failover", "reason": " region down ", "force": true})).unwrap();
        assert_eq!(
            t,
            Trigger::Manual(Manual {
                action: Action::Failover,
                reason: "region down".into(),
                force: true,
                dry_run: false
            })
        );
        let t = parse(&json!({"action": "status"})).unwrap();
        assert!(matches!(
            t,
            Trigger::Manual(Manual {
                action: Action::Status,
                ..
            })
        ));
    }

    #[test]
    fn bad_manual_events_name_the_field_and_the_fix() {
        for (event, field) in [
            (json!({"action": "promote"}), "`action` is \"promote\": use"),
            (json!({"action": 3}), "`action` is `3`"),
            (json!({"action": "failover"}), "`reason`"),
            (json!({"action": "failover", "reason": ""}), "`reason`"),
            (json!({"action": "failover", "reason": 1}), "`reason`"),
            (json!({"action": "failover", "reason": "x", "force": "yes"}), "`force`"),
            (json!({"action": "status", "dry_run": 1}), "`dry_run`"),
        ] {
            let e = parse(&event).unwrap_err().0;
            assert!(e.contains(field), "{event}: {e}");
        }
    }

    #[test]
    fn other_events_are_refused_by_name() {
        assert!(parse(&json!([1])).unwrap_err().0.contains("not a JSON object"));
        assert!(
            parse(&json!({"hello": 1}))
                .unwrap_err()
                .0
                .contains("neither `action` nor `detail-type`")
        );
        let e = parse(&json!({"detail-type": "CodeDeploy Deployment State-change Notification"})).unwrap_err();
        assert!(e.0.contains("not for this function"), "{e}");
        let e = parse(&json!({"detail-type": "CloudWatch Alarm State Change", "detail": {}})).unwrap_err();
        assert!(e.0.contains("detail.alarmName"), "{e}");
    }

    #[test]
    fn a_forwarded_alarm_in_no_cloudwatch_state_is_refused() {
        let alarm = |state: &str| {
            json!({"detail-type": "CloudWatch Alarm State Change", "region": "us-east-1",
                   "detail": {"alarmName": "tandem-dev-unhealthy-hosts", "state": {"value": state}}})
        };
        for state in ALARM_STATES {
            assert!(parse(&alarm(state)).is_ok(), "{state}");
        }
        for state in ["ON_FIRE", "alarm", ""] {
            let e = parse(&alarm(state)).unwrap_err();
            assert!(
                e.0.contains(&format!("has state \"{state}\"; a CloudWatch alarm's state is")),
                "{e}"
            );
        }
    }
}
