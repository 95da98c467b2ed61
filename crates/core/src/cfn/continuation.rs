//! Carrying a long operation past one Lambda invocation.
//!
//! The choice: the function invokes itself asynchronously (`InvocationType:
//! Event`) with the original request and the handler's state. Nothing else
//! has to exist (no Step Functions state machine, no queue, no table), the
//! state is small JSON, and the ResponseURL stays valid for the whole
//! ServiceTimeout. The runner first polls inside the current invocation for
//! as long as its time allows, so a one-hour operation on a 15-minute
//! function takes about four hops: far below the 16 nested invocations at
//! which Lambda's recursive-loop detection stops a chain. The function needs
//! `lambda:InvokeFunction` on its own ARN, and nothing more.

use super::request::Request;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key that marks an event as a continuation rather than a request.
pub const CONTINUATION_KEY: &str = "TandemContinuation";

/// What one invocation hands to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Continuation {
    /// The original CloudFormation request.
    pub request: Request,
    /// The handler's state from its last [`InProgress`](super::Outcome::InProgress).
    pub state: Value,
    /// The id of what exists so far, for a FAILED answer's clean-up.
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// When the operation started (Unix seconds), for the ServiceTimeout.
    pub started_at: u64,
    /// How many invocations have handed on so far.
    pub hops: u32,
}

impl Continuation {
    /// The event payload that carries this continuation.
    pub fn to_event(&self) -> Value {
        serde_json::json!({ CONTINUATION_KEY: self })
    }
}

/// Starts the next invocation of this function with a continuation.
pub trait Continuer: Send + Sync {
    /// Hands `payload` to a fresh, asynchronous invocation of `function_arn`.
    fn hand_off<'a>(&'a self, function_arn: &'a str, payload: Value) -> BoxFuture<'a, Result<(), String>>;
}

/// The real [`Continuer`]: an asynchronous Lambda `Invoke` of itself.
#[derive(Debug, Clone)]
pub struct SelfInvoke {
    client: aws_sdk_lambda::Client,
}

impl SelfInvoke {
    /// Uses `client`, built once in `main`.
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        Self { client }
    }

    /// Builds the Lambda client from the shared configuration.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_lambda::Client::new(config))
    }
}

impl Continuer for SelfInvoke {
    fn hand_off<'a>(&'a self, function_arn: &'a str, payload: Value) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let bytes = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
            self.client
                .invoke()
                .function_name(function_arn)
                .invocation_type(InvocationType::Event)
                .payload(Blob::new(bytes))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| crate::aws::error_text(&e))
        })
    }
}
