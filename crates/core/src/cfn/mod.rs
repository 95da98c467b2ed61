//! The CloudFormation custom-resource framework.
//!
//! A resource type implements [`CustomResource`] (create, update, delete and
//! an optional poll, with typed properties). The [`Runner`] owns the
//! protocol, and guarantees, whatever the handler does:
//!
//! - an answer before the Lambda deadline (FAILED when time runs out, after a
//!   panic, or for an event or property it cannot parse);
//! - delivery with bounded retries and backoff, never past the deadline;
//! - a response within CloudFormation's 4096-byte limit;
//! - the physical-id rules (see [`outcome`]);
//! - no ResponseURL and no secret property in any log line;
//! - long operations carried across invocations (see [`continuation`]).

pub mod continuation;
mod event;
mod invocation;
pub mod outcome;
pub mod props;
pub mod request;
pub mod resource;
pub mod response;
mod runner;
pub mod sender;

pub use continuation::{Continuer, SelfInvoke};
pub use event::MAX_SERVICE_TIMEOUT;
pub use invocation::{Invocation, Settings};
pub use request::{Request, RequestType};
pub use resource::{CustomResource, HandlerError, Outcome};
pub use response::Status;
pub use runner::{Runner, RunnerError};

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

/// Runs `runner` as the Lambda function's handler until the runtime stops.
pub async fn serve(runner: Runner) -> Result<(), lambda_runtime::Error> {
    let runner = &runner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation::from_context(&event.context);
        runner.handle(event.payload, invocation).await
    }))
    .await
}
