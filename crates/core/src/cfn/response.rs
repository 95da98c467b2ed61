//! The answer to CloudFormation, kept within its size limits.

use serde::Serialize;
use serde_json::{Map, Value};

/// CloudFormation rejects a response body over this many bytes.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// CloudFormation rejects a physical id longer than this.
pub const MAX_PHYSICAL_ID_BYTES: usize = 1024;
const TRUNCATION_MARK: &str = " [truncated]";

/// SUCCESS or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// The operation finished.
    Success,
    /// The operation failed; `Reason` says why.
    Failed,
}

/// The response body, as CloudFormation reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// SUCCESS or FAILED.
    pub status: Status,
    /// Why it failed (CloudFormation shows it in the stack events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The resource's id; a new id on Update means replacement.
    pub physical_resource_id: String,
    /// Echoed from the request.
    pub stack_id: String,
    /// Echoed from the request.
    pub request_id: String,
    /// Echoed from the request.
    pub logical_resource_id: String,
    /// Hide `Data` from `Fn::GetAtt` output in the console and API.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_echo: bool,
    /// Values for `Fn::GetAtt`.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}

impl Response {
    /// The body to PUT, never over [`MAX_RESPONSE_BYTES`].
    ///
    /// A SUCCESS whose `Data` does not fit becomes FAILED with a reason that
    /// gives the size and the fix; a reason that does not fit is cut short.
    /// Returns the body and the response actually sent.
    pub fn encode_bounded(mut self) -> (Vec<u8>, Response) {
        let body = self.to_bytes();
        if body.len() <= MAX_RESPONSE_BYTES {
            return (body, self);
        }
        if !self.data.is_empty() {
            let data_bytes = serde_json::to_vec(&self.data).map_or(0, |d| d.len());
            let keys: Vec<&String> = self.data.keys().collect();
            let why = format!(
                "the response is {} bytes, over CloudFormation's limit of {MAX_RESPONSE_BYTES}; \
                 its Data ({data_bytes} bytes, keys {keys:?}) must shrink: return fewer or shorter attributes",
                body.len()
            );
            let reason = match (self.status, self.reason.take()) {
                (Status::Failed, Some(earlier)) => format!("{earlier}; and {why}"),
                _ => why,
            };
            self.status = Status::Failed;
            self.reason = Some(reason);
            self.data.clear();
            self.no_echo = false;
        }
        let body = self.to_bytes();
        if body.len() <= MAX_RESPONSE_BYTES {
            return (body, self);
        }
        // Everything but the reason is bounded (ids are checked elsewhere), so
        // cutting the reason is enough. JSON escaping makes the cost of a
        // character vary, so search for the longest prefix that fits.
        let reason = self.reason.take().unwrap_or_default();
        let (mut fits, mut too_long) = (0, reason.len());
        while fits < too_long {
            let mid = floor_char_boundary(&reason, fits + (too_long - fits).div_ceil(2));
            if mid <= fits {
                break;
            }
            self.reason = Some(format!("{}{TRUNCATION_MARK}", &reason[..mid]));
            if self.to_bytes().len() <= MAX_RESPONSE_BYTES {
                fits = mid;
            } else {
                too_long = mid - 1;
            }
        }
        self.reason = Some(format!("{}{TRUNCATION_MARK}", &reason[..fits]));
        (self.to_bytes(), self)
    }

    fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a Response always serializes")
    }
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut i = index.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(status: Status, reason: Option<String>, data: Map<String, Value>) -> Response {
        Response {
            status,
            reason,
            physical_resource_id: "pid".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:1:stack/s/1".into(),
            request_id: "rid".into(),
            logical_resource_id: "Res".into(),
            no_echo: false,
            data,
        }
    }

    #[test]
    fn a_small_response_is_sent_as_is_in_cloudformation_field_names() {
        let data = json!({"Key": "Value"}).as_object().unwrap().clone();
        let (body, sent) = response(Status::Success, None, data).encode_bounded();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["Status"], "SUCCESS");
        assert_eq!(v["PhysicalResourceId"], "pid");
        assert_eq!(v["Data"]["Key"], "Value");
        assert!(v.get("Reason").is_none() && v.get("NoEcho").is_none());
        assert_eq!(sent.status, Status::Success);
    }

    #[test]
    fn oversized_data_turns_into_failed_with_the_size_and_the_fix() {
        let mut data = Map::new();
        for i in 0..100 {
            data.insert(format!("Output{i}"), Value::String("x".repeat(60)));
        }
        let (body, sent) = response(Status::Success, None, data).encode_bounded();
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        assert_eq!(sent.status, Status::Failed);
        assert!(sent.data.is_empty());
        let reason = sent.reason.unwrap();
        assert!(
            reason.contains("4096") && reason.contains("fewer or shorter"),
            "{reason}"
        );
    }

    #[test]
    fn a_long_reason_is_truncated_to_fit_and_marked() {
        let (body, sent) = response(Status::Failed, Some("é\"".repeat(5000)), Map::new()).encode_bounded();
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        assert!(
            body.len() > MAX_RESPONSE_BYTES - 64,
            "cut far more than needed: {}",
            body.len()
        );
        assert!(sent.reason.unwrap().ends_with(TRUNCATION_MARK));
        serde_json::from_slice::<Value>(&body).expect("still valid JSON");
    }

    #[test]
    fn a_response_exactly_at_the_limit_is_untouched() {
        let base = response(Status::Failed, Some(String::new()), Map::new())
            .to_bytes()
            .len();
        let reason = "r".repeat(MAX_RESPONSE_BYTES - base);
        let (body, sent) = response(Status::Failed, Some(reason.clone()), Map::new()).encode_bounded();
        assert_eq!(body.len(), MAX_RESPONSE_BYTES);
        assert_eq!(sent.reason.unwrap(), reason);
    }

    #[test]
    fn no_echo_is_sent_only_when_set() {
        let mut r = response(Status::Success, None, Map::new());
        r.no_echo = true;
        let v: Value = serde_json::from_slice(&r.encode_bounded().0).unwrap();
        assert_eq!(v["NoEcho"], true);
    }
}
