//! Between the wire and the runner: reading a Lambda event into a request
//! (or a continuation), and turning a final result into the answer.

use super::continuation::{CONTINUATION_KEY, Continuation};
use super::outcome::{Final, failure_id, success_id};
use super::request::{Request, RequestType, ResponseUrl};
use super::response::{Response, Status};
use super::runner::RunnerError;
use crate::payload::Payload;
use serde_json::Value;
use std::time::Duration;

/// The most a ServiceTimeout may be (and the default when none is set).
pub const MAX_SERVICE_TIMEOUT: Duration = Duration::from_secs(3600);

/// What a Lambda event turned out to be.
pub(crate) enum Parsed {
    Request(Request),
    Continuation(Continuation),
    /// Enough to answer, but not a valid request: answer FAILED with the reason.
    Unreadable(Request, String),
}

/// Reads a payload: whole, as [`parse_event`] does; broken (cut short, or
/// nested too deep for a `Value`), as much of it as answering FAILED needs.
pub(crate) fn parse_payload(payload: &Payload) -> Result<Parsed, RunnerError> {
    match payload.to_value() {
        Ok(event) => parse_event(event),
        Err(error) => unreadable(|name| payload.text(name), error.to_string()),
    }
}

pub(crate) fn parse_event(event: Value) -> Result<Parsed, RunnerError> {
    if let Some(inner) = event.get(CONTINUATION_KEY) {
        return match serde_json::from_value(inner.clone()) {
            Ok(continuation) => Ok(Parsed::Continuation(continuation)),
            // The request inside still says where the answer goes.
            Err(e) => unreadable(
                |name| text_field(&inner["Request"], name),
                format!("could not read the continuation: {e}; it is the function's own, so report this"),
            ),
        };
    }
    if !event.is_object() {
        // serde would try to read an array as the fields in order, and say so confusingly.
        return Err(RunnerError::NotARequest(format!(
            "could not read the request: the event is {}, not a JSON object; {NOT_CLOUDFORMATION}",
            crate::text::json_kind(&event)
        )));
    }
    let error = match serde_path_to_error::deserialize::<_, Request>(&event) {
        Ok(request) => return Ok(Parsed::Request(request)),
        Err(error) => match error.path().to_string().as_str() {
            "." => format!("could not read the request: {}; {NOT_CLOUDFORMATION}", error.inner()),
            path => format!(
                "could not read the request: field `{path}`: {}; {NOT_CLOUDFORMATION}",
                error.inner()
            ),
        },
    };
    unreadable(|name| text_field(&event, name), error)
}

/// The fix for an event that is not CloudFormation's custom-resource request.
const NOT_CLOUDFORMATION: &str =
    "CloudFormation always sends it whole, with string ids, so check what invoked the function";

fn text_field(event: &Value, name: &str) -> Option<String> {
    event.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A request to answer FAILED with `error` when `field` (the event's
/// top-level string fields) says where the answer goes and which request it
/// answers; whatever else is missing is left empty (and named in the
/// reason), which still ends the stack's wait. Otherwise an error: nothing
/// waits on the event.
fn unreadable(field: impl Fn(&str) -> Option<String>, error: String) -> Result<Parsed, RunnerError> {
    // A huge value quoted by serde would bury the cause and the fix.
    let error = crate::text::shorten_values(&error);
    let (Some(url), Some(request_id)) = (field("ResponseURL"), field("RequestId")) else {
        return Err(RunnerError::NotARequest(error));
    };
    let request = Request {
        request_type: (field("RequestType").and_then(|t| serde_json::from_value(Value::String(t)).ok()))
            .unwrap_or(RequestType::Create),
        response_url: ResponseUrl::new(url),
        stack_id: field("StackId").unwrap_or_default(),
        request_id,
        resource_type: field("ResourceType").unwrap_or_default(),
        logical_resource_id: field("LogicalResourceId").unwrap_or_default(),
        physical_resource_id: field("PhysicalResourceId"),
        service_token: None,
        resource_properties: Default::default(),
        old_resource_properties: None,
    };
    Ok(Parsed::Unreadable(request, error))
}

/// The most characters of each id an answer echoes: CloudFormation's own
/// limits (a RequestId is a UUID, a logical id at most 255, a physical id at
/// most 1 KB), which together leave room for a reason within the 4096 bytes
/// of a response.
const ECHOED_ID_LIMITS: [(&str, usize); 4] = [
    ("StackId", 1024),
    ("RequestId", 255),
    ("LogicalResourceId", 255),
    ("PhysicalResourceId", 1024),
];

/// Refuses a request whose echoed ids CloudFormation could not have sent:
/// an answer must repeat them verbatim, so it could not fit in a response
/// and no stack waits on it.
pub(crate) fn check_echoed_ids(request: &Request) -> Result<(), RunnerError> {
    let ids = [
        request.stack_id.as_str(),
        request.request_id.as_str(),
        request.logical_resource_id.as_str(),
        request.physical_resource_id.as_deref().unwrap_or_default(),
    ];
    for ((field, limit), id) in ECHOED_ID_LIMITS.into_iter().zip(ids) {
        let count = id.chars().count();
        if count > limit {
            return Err(RunnerError::NotARequest(format!(
                "field `{field}` is {count} characters, over CloudFormation's {limit}, so no answer could repeat it; \
                 {NOT_CLOUDFORMATION}"
            )));
        }
    }
    Ok(())
}

/// The answer for a final result; `None` when another invocation took over.
pub(crate) fn build_response(request: &Request, result: Final) -> Option<Response> {
    let (status, reason, physical_id, data, no_echo) = match result {
        Final::Done {
            physical_id,
            data,
            no_echo,
        } => match success_id(request, physical_id) {
            Ok(id) => (Status::Success, None, id, data, no_echo),
            Err(why) => (
                Status::Failed,
                Some(why),
                failure_id(request, None),
                Default::default(),
                false,
            ),
        },
        Final::Failed { reason, partial_id } => (
            Status::Failed,
            Some(reason),
            failure_id(request, partial_id),
            Default::default(),
            false,
        ),
        Final::HandedOff { .. } => return None,
    };
    if request.request_type == RequestType::Update
        && status == Status::Success
        && request.physical_resource_id.as_deref() != Some(physical_id.as_str())
    {
        tracing::info!(old = ?request.physical_resource_id, new = %physical_id, "replacement: CloudFormation will delete the old resource");
    }
    Some(Response {
        status,
        // A huge value quoted in a reason would push out its cause and fix.
        reason: reason.map(|r| crate::text::shorten_values(&r)),
        physical_resource_id: physical_id,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        no_echo,
        data,
    })
}

pub(crate) fn service_timeout(request: &Request) -> Duration {
    request
        .resource_properties
        .get("ServiceTimeout")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .map_or(MAX_SERVICE_TIMEOUT, |d| d.min(MAX_SERVICE_TIMEOUT))
}
