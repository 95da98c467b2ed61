//! The CloudFormation custom-resource framework.
//!
//! A resource type implements [`CustomResource`] (create, update, delete and
//! an optional poll, with typed properties). The [`Runner`] owns the
//! protocol, and guarantees, whatever the handler does:
//!
//! - an answer before the earlier of the Lambda deadline and the request's
//!   `ServiceTimeout` (FAILED when time runs out, after a panic, or for an
//!   event or property it cannot parse, naming the field); a request with a
//!   readable ResponseURL and RequestId is always answered;
//! - properties parsed into the resource's types, unknown ones refused
//!   (`deny_unknown_fields`), and [`CustomResource::validate`] run before
//!   Create and Update, never before Delete;
//! - a Delete of what never existed (a failed Create's placeholder, or no
//!   physical id at all) answered SUCCESS without calling the handler;
//! - delivery with bounded retries and backoff, never past the deadline;
//! - a response within CloudFormation's 4096-byte limit, with long values
//!   quoted short so that a reason keeps its cause and fix;
//! - the physical-id rules (see [`outcome`]);
//! - no ResponseURL and no secret property in any log line, and properties
//!   logged bounded;
//! - long operations carried across invocations (see [`continuation`]).
//!
//! # Implementing a resource
//!
//! ```
//! use serde::Deserialize;
//! use std::sync::Arc;
//! use tandem_core::cfn::{CustomResource, HandlerError, Outcome, Request, Runner, Settings, props};
//! use tandem_core::cfn::sender::HttpTransport;
//!
//! /// `Custom::Greeting`: a greeting for `Name`, as `!GetAtt X.Text`.
//! struct Greeting;
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "PascalCase", deny_unknown_fields)]
//! struct GreetingProps {
//!     name: String,
//!     #[serde(default, deserialize_with = "props::bool")]
//!     shout: bool,
//! }
//!
//! impl CustomResource for Greeting {
//!     type Properties = GreetingProps;
//!     const RESOURCE_TYPE: &'static str = "Custom::Greeting";
//!
//!     fn validate(props: &GreetingProps) -> Result<(), String> {
//!         if props.name.trim().is_empty() {
//!             return Err("property `Name`: must not be empty: name someone to greet".into());
//!         }
//!         Ok(())
//!     }
//!
//!     async fn create(&self, request: &Request, props: GreetingProps) -> Result<Outcome, HandlerError> {
//!         let mut text = format!("hello, {}", props.name);
//!         if props.shout {
//!             text = text.to_uppercase();
//!         }
//!         let data = serde_json::json!({ "Text": text }).as_object().cloned().unwrap_or_default();
//!         // One id per stack and logical id: a repeated Create finds the same one.
//!         Ok(Outcome::done_with(format!("{}-greeting", request.logical_resource_id), data))
//!     }
//!
//!     async fn update(
//!         &self,
//!         request: &Request,
//!         _physical_id: &str,
//!         props: GreetingProps,
//!         _old: Option<GreetingProps>,
//!     ) -> Result<Outcome, HandlerError> {
//!         self.create(request, props).await
//!     }
//!
//!     async fn delete(&self, _: &Request, physical_id: &str, _: GreetingProps) -> Result<Outcome, HandlerError> {
//!         // Nothing to remove: a greeting is only data.
//!         Ok(Outcome::done(physical_id))
//!     }
//! }
//!
//! // In `main`, once per process:
//! let runner = Runner::new(Arc::new(HttpTransport::new()), Settings::from_env()).serve(Greeting);
//! // then `tandem_core::cfn::serve(runner).await`.
//! # let _ = runner;
//! ```

pub mod continuation;
mod event;
mod invocation;
pub mod outcome;
pub mod props;
pub mod request;
pub mod resource;
pub mod response;
mod runner;
mod schedule;
pub mod sender;

pub use continuation::{Continuer, SelfInvoke};
pub use event::MAX_SERVICE_TIMEOUT;
pub use invocation::{Invocation, Settings};
pub use request::{Request, RequestType};
pub use resource::{CustomResource, HandlerError, Outcome, check_properties};
pub use response::Status;
pub use runner::{Runner, RunnerError};

use crate::payload::Payload;
use lambda_runtime::{LambdaEvent, service_fn};

/// Runs `runner` as the Lambda function's handler until the runtime stops.
pub async fn serve(runner: Runner) -> Result<(), lambda_runtime::Error> {
    let runner = &runner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        let invocation = Invocation::from_context(&event.context);
        runner.handle_payload(&event.payload, invocation).await
    }))
    .await
}
