//! The request CloudFormation sends to a custom resource.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// What CloudFormation asks the resource to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestType {
    /// A new resource.
    Create,
    /// Changed properties of an existing resource.
    Update,
    /// Removal, including the clean-up after a failed Create or a replacement.
    Delete,
}

impl RequestType {
    /// `Create`, `Update` or `Delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Delete => "Delete",
        }
    }
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The presigned URL that the response goes to.
///
/// It is a credential: anyone holding it can answer for the resource. Its
/// `Debug` prints a placeholder, and it has no `Display`, so it never reaches
/// a log line by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResponseUrl(String);

impl ResponseUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL itself, for the HTTP client only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ResponseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseUrl(<redacted>)")
    }
}

/// One custom-resource request, as CloudFormation sends it.
///
/// tandem has its own type rather than `aws_lambda_events`'
/// `CloudFormationCustomResourceRequest` because that one derives `Debug`,
/// which prints the presigned ResponseURL (a credential) and every property
/// into any log line that formats the request; this one prints neither.
///
/// Properties stay raw JSON here: the runner parses them into the resource's
/// typed properties, so that a bad value becomes a FAILED answer naming the
/// field, not a parse error before anyone can answer.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// Create, Update or Delete.
    pub request_type: RequestType,
    /// Where the answer goes (never logged).
    #[serde(rename = "ResponseURL")]
    pub response_url: ResponseUrl,
    /// The stack's ARN.
    pub stack_id: String,
    /// Unique per request; repeated when the same request is delivered twice.
    pub request_id: String,
    /// The template's type, such as `Custom::CrossRegionOutputs`.
    pub resource_type: String,
    /// The resource's name in the template.
    pub logical_resource_id: String,
    /// Absent on Create; the id the resource answered with otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_resource_id: Option<String>,
    /// The Lambda's ARN, as the template gave it.
    #[serde(default)]
    pub service_token: Option<String>,
    /// The properties from the template (every scalar arrives as a string).
    #[serde(default)]
    pub resource_properties: Map<String, Value>,
    /// On Update, the properties before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_resource_properties: Option<Map<String, Value>>,
}

impl Request {
    /// The stack's name, taken from its ARN (the ARN itself when it is not one).
    pub fn stack_name(&self) -> &str {
        self.stack_id
            .split(':')
            .nth(5)
            .and_then(|resource| resource.split('/').nth(1))
            .unwrap_or(&self.stack_id)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Properties are left out: they may hold secrets. Log them through
        // `props::redacted` with the resource's list of secret names.
        f.debug_struct("Request")
            .field("request_type", &self.request_type)
            .field("stack_id", &self.stack_id)
            .field("request_id", &self.request_id)
            .field("resource_type", &self.resource_type)
            .field("logical_resource_id", &self.logical_resource_id)
            .field("physical_resource_id", &self.physical_resource_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        serde_json::json!({
            "RequestType": "Update",
            "ResponseURL": "https://bucket.example/presigned?X-Amz-Signature=secret",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/tandem-dev/1f2e",
            "RequestId": "r-1",
            "ResourceType": "Custom::CrossRegionOutputs",
            "LogicalResourceId": "PrimaryOutputs",
            "PhysicalResourceId": "p-1",
            "ResourceProperties": {"ServiceToken": "arn:x", "Password": "hunter2"},
            "OldResourceProperties": {"ServiceToken": "arn:x"}
        })
    }

    #[test]
    fn parses_every_field_cloudformation_sends() {
        let request: Request = serde_json::from_value(sample()).unwrap();
        assert_eq!(request.request_type, RequestType::Update);
        assert_eq!(request.physical_resource_id.as_deref(), Some("p-1"));
        assert_eq!(request.stack_name(), "tandem-dev");
        assert!(request.old_resource_properties.is_some());
        assert!(request.response_url.expose().starts_with("https://bucket.example/"));
    }

    #[test]
    fn debug_output_hides_the_response_url_and_the_properties() {
        let request: Request = serde_json::from_value(sample()).unwrap();
        let printed = format!("{request:?} {:?}", request.response_url);
        assert!(!printed.contains("presigned"), "{printed}");
        assert!(!printed.contains("X-Amz-Signature"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("PrimaryOutputs"));
    }

    #[test]
    fn stack_name_falls_back_to_the_id_when_it_is_not_an_arn() {
        let mut value = sample();
        value["StackId"] = "plain-name".into();
        let request: Request = serde_json::from_value(value).unwrap();
        assert_eq!(request.stack_name(), "plain-name");
    }
}
