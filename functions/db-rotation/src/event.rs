//! The invocation Secrets Manager sends: `{"SecretId", "ClientRequestToken",
//! "Step"}`, read into an [`RotationEvent`] or refused in one sentence that
//! names the field (with the shared checks of [`tandem_core::event_fn`]).

use serde::Deserialize;
use serde_json::Value;
use tandem_core::event_fn::BadEvent;
use tandem_core::text::quote;

/// One of Secrets Manager's four rotation steps, in the order it runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Make the new version (AWSPENDING) with a new password.
    CreateSecret,
    /// Give the database user the new password.
    SetSecret,
    /// Log in with the new password.
    TestSecret,
    /// Make the new version AWSCURRENT.
    FinishSecret,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 4] = [
        Self::CreateSecret,
        Self::SetSecret,
        Self::TestSecret,
        Self::FinishSecret,
    ];

    /// The name Secrets Manager sends.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateSecret => "createSecret",
            Self::SetSecret => "setSecret",
            Self::TestSecret => "testSecret",
            Self::FinishSecret => "finishSecret",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One rotation step to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationEvent {
    /// The secret's ARN (or name).
    pub secret_id: String,
    /// The version the rotation makes (Secrets Manager's `ClientRequestToken`).
    pub token: String,
    /// Which step.
    pub step: Step,
}

/// An event this function cannot read, in one sentence naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(String);

/// What this function takes, for the sentences that refuse an event.
pub const TAKES: &str = "Secrets Manager's rotation events ({\"SecretId\", \"ClientRequestToken\", \"Step\"}); \
                         start a rotation with `aws secretsmanager rotate-secret` instead of invoking it";

impl From<BadEvent> for EventError {
    fn from(bad: BadEvent) -> Self {
        Self(bad.to_string())
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "SecretId")]
    secret_id: String,
    #[serde(rename = "ClientRequestToken")]
    token: String,
    #[serde(rename = "Step")]
    step: String,
}

/// The step `event` asks for.
pub fn parse(event: &Value) -> Result<RotationEvent, EventError> {
    tandem_core::event_fn::object(event, TAKES)?;
    let raw: Raw = tandem_core::event_fn::read(event, "rotation event", TAKES)?;
    for (field, value) in [("SecretId", &raw.secret_id), ("ClientRequestToken", &raw.token)] {
        if value.trim().is_empty() {
            return Err(EventError(format!(
                "the rotation event's field `{field}` is empty; this function takes {TAKES}"
            )));
        }
    }
    let step = Step::ALL.into_iter().find(|s| s.name() == raw.step).ok_or_else(|| {
        EventError(format!(
            "the rotation event's field `Step` is {}, not createSecret, setSecret, testSecret or finishSecret; \
             this function takes {TAKES}",
            quote(&raw.step)
        ))
    })?;
    Ok(RotationEvent {
        secret_id: raw.secret_id,
        token: raw.token,
        step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_step_is_read() {
        for step in Step::ALL {
            let e = parse(&json!({"SecretId": "arn:s", "ClientRequestToken": "t-1", "Step": step.name()})).unwrap();
            assert_eq!((e.secret_id.as_str(), e.token.as_str(), e.step), ("arn:s", "t-1", step));
        }
    }

    #[test]
    fn a_bad_field_is_named() {
        let cases = [
            (json!({"ClientRequestToken": "t", "Step": "setSecret"}), "SecretId"),
            (
                json!({"SecretId": "s", "ClientRequestToken": 7, "Step": "setSecret"}),
                "ClientRequestToken",
            ),
            (
                json!({"SecretId": "s", "ClientRequestToken": " ", "Step": "setSecret"}),
                "`ClientRequestToken` is empty",
            ),
            (
                json!({"SecretId": "s", "ClientRequestToken": "t", "Step": "SetSecret"}),
                "`Step` is \"SetSecret\"",
            ),
            (json!(["SecretId"]), "the event is an array, not a JSON object"),
        ];
        for (event, want) in cases {
            let e = parse(&event).unwrap_err().to_string();
            assert!(e.contains(want), "{event}: {e}");
            assert!(e.contains("rotate-secret"), "the fix: {e}");
        }
    }
}
