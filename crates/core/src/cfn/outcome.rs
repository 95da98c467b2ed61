//! The final result of a request, and the physical-id rules.
//!
//! - A Create that fails answers with the id of what it made so far, or else
//!   with a recognisable placeholder, so that CloudFormation's clean-up Delete
//!   either removes the half-made resource or is a no-op.
//! - An Update or Delete always answers FAILED with the id it was given:
//!   CloudFormation refuses a FAILED answer that changes the id.
//! - An Update that answers SUCCESS with a new id is a replacement.
//! - A Delete always answers with the id it was given.

use super::request::{Request, RequestType};
use super::response::MAX_PHYSICAL_ID_BYTES;
use serde_json::{Map, Value};
use std::any::Any;

/// The prefix of the placeholder id of a Create that failed before anything existed.
pub const FAILED_CREATE_PREFIX: &str = "tandem-create-failed-";

/// How a request ended, as far as this invocation is concerned.
#[derive(Debug, PartialEq)]
pub(crate) enum Final {
    /// The handler finished: answer SUCCESS.
    Done {
        /// The id the handler returned.
        physical_id: String,
        /// Values for `Fn::GetAtt`.
        data: Map<String, Value>,
        /// Hide `data`.
        no_echo: bool,
    },
    /// The operation failed: answer FAILED.
    Failed {
        /// What CloudFormation shows.
        reason: String,
        /// What exists so far, if anything.
        partial_id: Option<String>,
    },
    /// A further invocation took over; nothing is answered now.
    HandedOff {
        /// Its hop number.
        hops: u32,
    },
}

impl Final {
    pub(crate) fn failed(reason: String) -> Self {
        Self::Failed {
            reason,
            partial_id: None,
        }
    }
}

/// Whether `id` is the placeholder of a Create that failed.
pub fn is_failed_create_id(id: &str) -> bool {
    id.starts_with(FAILED_CREATE_PREFIX)
}

fn placeholder(request: &Request) -> String {
    format!("{FAILED_CREATE_PREFIX}{}", request.request_id)
}

fn check(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("the handler returned an empty physical id".into());
    }
    if id.len() > MAX_PHYSICAL_ID_BYTES {
        return Err(format!(
            "the handler returned a physical id of {} bytes; CloudFormation allows {MAX_PHYSICAL_ID_BYTES}",
            id.len()
        ));
    }
    Ok(())
}

/// The id for a SUCCESS answer, or why the returned id cannot be used.
pub(crate) fn success_id(request: &Request, returned: String) -> Result<String, String> {
    match (request.request_type, &request.physical_resource_id) {
        (RequestType::Delete, Some(given)) if !given.trim().is_empty() => Ok(given.clone()),
        // A Delete with no id removed nothing; CloudFormation still needs one.
        (RequestType::Delete, _) => Ok(placeholder(request)),
        _ => check(&returned).map(|()| returned),
    }
}

/// The id for a FAILED answer.
pub(crate) fn failure_id(request: &Request, partial: Option<String>) -> String {
    match (request.request_type, &request.physical_resource_id) {
        (RequestType::Create, _) => partial
            .filter(|id| check(id).is_ok())
            .unwrap_or_else(|| placeholder(request)),
        (_, Some(given)) => given.clone(),
        (_, None) => placeholder(request),
    }
}

/// The text of an error and its sources, each once, joined by `: `.
pub(crate) fn reason_from_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut reason = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = inner.source();
    }
    reason
}

/// The FAILED reason for a handler that panicked.
pub(crate) fn reason_from_panic(panic: Box<dyn Any + Send>) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    format!("internal error: the handler panicked ({message}); this is a bug in tandem, please report it")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: RequestType, id: Option<&str>) -> Request {
        serde_json::from_value(serde_json::json!({
            "RequestType": kind, "ResponseURL": "u", "StackId": "s", "RequestId": "req-9",
            "ResourceType": "Custom::X", "LogicalResourceId": "L", "PhysicalResourceId": id,
        }))
        .unwrap()
    }

    #[test]
    fn a_failed_create_without_progress_gets_a_recognisable_placeholder() {
        let id = failure_id(&request(RequestType::Create, None), None);
        assert_eq!(id, "tandem-create-failed-req-9");
        assert!(is_failed_create_id(&id));
        assert!(!is_failed_create_id("pcx-123"));
    }

    #[test]
    fn a_failed_create_keeps_the_id_of_what_it_made_so_far() {
        assert_eq!(
            failure_id(&request(RequestType::Create, None), Some("pcx-1".into())),
            "pcx-1"
        );
        assert!(is_failed_create_id(&failure_id(
            &request(RequestType::Create, None),
            Some(String::new())
        )));
    }

    #[test]
    fn failed_updates_and_deletes_keep_the_given_id() {
        assert_eq!(
            failure_id(&request(RequestType::Update, Some("old")), Some("new".into())),
            "old"
        );
        assert_eq!(failure_id(&request(RequestType::Delete, Some("old")), None), "old");
    }

    #[test]
    fn a_delete_answers_with_the_given_id_whatever_the_handler_returns() {
        assert_eq!(
            success_id(&request(RequestType::Delete, Some("old")), "other".into()).unwrap(),
            "old"
        );
        for blank in [None, Some(""), Some("  ")] {
            assert_eq!(
                success_id(&request(RequestType::Delete, blank), String::new()).unwrap(),
                "tandem-create-failed-req-9",
                "{blank:?}"
            );
        }
    }

    #[test]
    fn an_update_may_return_a_new_id() {
        assert_eq!(
            success_id(&request(RequestType::Update, Some("old")), "new".into()).unwrap(),
            "new"
        );
    }

    #[test]
    fn empty_or_oversized_ids_are_refused_with_the_reason() {
        let create = request(RequestType::Create, None);
        assert!(success_id(&create, " ".into()).unwrap_err().contains("empty"));
        assert!(
            success_id(&create, "x".repeat(1025))
                .unwrap_err()
                .contains("1025 bytes")
        );
        assert!(success_id(&create, "x".repeat(1024)).is_ok());
    }

    #[test]
    fn error_reasons_include_each_source_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer failed")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("disk full"));
        assert_eq!(reason_from_error(&e), "outer failed: disk full");
        #[derive(Debug, thiserror::Error)]
        #[error("outer failed: {0}")]
        struct Repeats(#[source] std::io::Error);
        assert_eq!(
            reason_from_error(&Repeats(std::io::Error::other("x"))),
            "outer failed: x"
        );
    }

    #[test]
    fn panic_reasons_carry_the_message() {
        assert!(reason_from_panic(Box::new("boom")).contains("(boom)"));
        assert!(reason_from_panic(Box::new(String::from("bang"))).contains("(bang)"));
        assert!(reason_from_panic(Box::new(7)).contains("no message"));
    }
}
