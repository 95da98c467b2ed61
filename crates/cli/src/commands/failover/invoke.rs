//! Talking to the failover function: the manual event, one invocation, and
//! its answer read back for a person.

use aws_sdk_lambda::primitives::Blob;
use serde_json::{Value, json};
use tandem_core::aws::error_text;

/// The failover function's name in environment `env`.
pub(crate) fn function_name(env: &str) -> String {
    format!("tandem-{env}-failover")
}

/// A manual event: `action` is `failover` or `status`.
pub(crate) fn manual_event(action: &str, reason: &str, force: bool, dry_run: bool) -> Value {
    json!({"action": action, "reason": reason, "force": force, "dry_run": dry_run})
}

/// The event EventBridge's schedule sends.
pub(crate) fn schedule_event(region: &str) -> Value {
    json!({"version": "0", "id": "tandem-cli", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "000000000000", "time": "1970-01-01T00:00:00Z", "region": region, "resources": [], "detail": {}})
}

/// What the function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Such as `Promote`, `Refuse`, `Busy`, `Watch`, `Report`.
    pub(crate) decision: String,
    /// Why.
    pub(crate) reason: String,
    /// What was done.
    pub(crate) outcome: String,
}

/// Reads the function's answer: `Err` with its error message when the
/// function failed (`function_error` is Lambda's `FunctionError`).
pub(crate) fn read_answer(payload: &[u8], function_error: Option<&str>) -> Result<Answer, String> {
    let value: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    if function_error.is_some() {
        return Err(value["errorMessage"]
            .as_str()
            .map_or_else(|| String::from_utf8_lossy(payload).into_owned(), str::to_owned));
    }
    let text = |key: &str| value[key].as_str().map(str::to_owned);
    match (text("decision"), text("reason"), text("outcome")) {
        (Some(decision), Some(reason), Some(outcome)) => Ok(Answer {
            decision,
            reason,
            outcome,
        }),
        _ => Err(format!(
            "the function answered {}, not a decision",
            tandem_core::text::quote(&String::from_utf8_lossy(payload))
        )),
    }
}

/// Invokes `function` with `event` and waits for its answer. The outer
/// error is the call itself failing; the inner one is the function's.
pub(crate) async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    region: &str,
    event: &Value,
) -> anyhow::Result<Result<Answer, String>> {
    let out = (lambda.invoke())
        .function_name(function)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "could not invoke {function} in {region} ({}): deploy it first (make deploy), then retry",
                error_text(&e)
            )
        })?;
    let payload = out.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default();
    Ok(read_answer(&payload, out.function_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_or_its_error_is_passed_on() {
        let ok = br#"{"decision":"Refuse","reason":"lag","outcome":"no promotion"}"#;
        assert_eq!(read_answer(ok, None).unwrap().decision, "Refuse");
        let failed = br#"{"errorType":"FailoverError","errorMessage":"the failover to us-east-2 stopped: x"}"#;
        assert_eq!(
            read_answer(failed, Some("Unhandled")).unwrap_err(),
            "the failover to us-east-2 stopped: x"
        );
        assert!(read_answer(b"[]", None).unwrap_err().contains("not a decision"));
    }

    #[test]
    fn the_manual_event_is_what_the_function_parses() {
        let event = manual_event("failover", "down", true, false);
        assert_eq!(
            event,
            json!({"action": "failover", "reason": "down", "force": true, "dry_run": false})
        );
        assert_eq!(schedule_event("us-east-2")["detail-type"], "Scheduled Event");
    }
}
