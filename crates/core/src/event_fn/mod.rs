//! The seam every event function stands on, as [`cfn`](crate::cfn) is for
//! custom resources: its settings, its clients built once, the handler, and
//! one rule from an error to what Lambda records.
//!
//! A function implements [`EventFunction`]; its `main` is one line,
//! [`serve`]. For each invocation the runner ([`invoke`]):
//!
//! 1. reads the payload whole, or hands what is broken to
//!    [`EventFunction::unreadable`] (by default a [`BadEvent`]);
//! 2. refuses anything but a JSON object, saying what arrived
//!    ([`object`]: "the event is a number, not a JSON object");
//! 3. calls [`EventFunction::handle`];
//! 4. turns an error into Lambda's `errorType` `tandem.<Kind>` and its
//!    one sentence ([`diagnostic`]).

mod error;
mod shape;

pub use error::{BadEvent, ERROR_TYPE_PREFIX, Failure, FunctionError, diagnostic};
pub use shape::{object, read};

use crate::payload::{Payload, PayloadError};
use crate::settings::SettingError;
pub use aws_config::SdkConfig;
#[cfg(test)]
use lambda_runtime::Diagnostic;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One invocation, as the handler sees it: who it is and how long it may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The Lambda request id.
    pub request_id: String,
    /// Time left before Lambda stops the invocation.
    pub remaining: Duration,
}

impl Call {
    /// From the Lambda context (a local emulator's odd deadlines read as in
    /// [`cfn::Invocation`](crate::cfn::Invocation)).
    pub fn from_context(ctx: &lambda_runtime::Context) -> Self {
        Self {
            request_id: ctx.request_id.clone(),
            remaining: crate::cfn::Invocation::from_context(ctx).remaining,
        }
    }
}

/// A Lambda function that takes events (not custom-resource requests).
pub trait EventFunction: Sized + Sync {
    /// What it reads from its environment at start.
    type Settings;
    /// Its answer to an event.
    type Output: Serialize;
    /// Why it could not handle an event.
    type Error: FunctionError + From<BadEvent>;

    /// What it takes, for the sentences that refuse an event, such as
    /// "the ops topic's SNS notifications".
    const TAKES: &'static str;

    /// Reads its settings: a bad one stops the function at start, naming it.
    fn settings() -> Result<Self::Settings, SettingError>;

    /// Builds its clients, once per process.
    fn build(config: &SdkConfig, settings: Self::Settings) -> Self;

    /// Handles one event, a JSON object.
    fn handle(&self, event: Value, call: &Call) -> impl Future<Output = Result<Self::Output, Self::Error>>;

    /// Answers a payload that is no whole JSON value (`payload` still holds
    /// what could be read): by default it is refused as a [`BadEvent`].
    fn unreadable(
        &self,
        payload: &Payload,
        why: PayloadError,
        call: &Call,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> {
        let _ = (payload, call);
        std::future::ready(Err(BadEvent::unreadable(&why, Self::TAKES).into()))
    }
}

/// Handles one payload as the runtime hands it over: what [`serve`] does
/// for each invocation, and what tests call.
pub async fn invoke<F: EventFunction>(function: &F, payload: &Payload, call: &Call) -> Result<F::Output, F::Error> {
    let event = match payload.to_value() {
        Ok(event) => event,
        Err(why) => return function.unreadable(payload, why, call).await,
    };
    object(&event, F::TAKES)?;
    function.handle(event, call).await
}

/// One invocation's answer, boxed (see [`run`]).
type Handled<'a, F> =
    Pin<Box<dyn Future<Output = Result<<F as EventFunction>::Output, <F as EventFunction>::Error>> + 'a>>;

/// Runs `function` for each invocation until the runtime stops: each error
/// is logged and recorded as `tandem.<Kind>` and its sentence.
pub async fn run<F: EventFunction>(function: F) -> Result<(), lambda_runtime::Error> {
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        let call = Call::from_context(&event.context);
        // Boxed as a `dyn Future`: the handler's future (the SDK's within)
        // would nest the runtime's deeper than the compiler's layout limit.
        let handled: Handled<'_, F> = Box::pin(invoke(function, &event.payload, &call));
        handled.await.map_err(|error| {
            let failure = Failure::from(diagnostic(&error));
            tracing::error!(error_type = %failure.error_type(), error = %failure, "the event was not handled");
            failure
        })
    }))
    .await
}

/// A function's whole `main`: logs, settings (a bad one stops it, named),
/// the SDK's configuration and clients once, then [`run`].
pub async fn serve<F: EventFunction>() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let settings = F::settings()?;
    let config = crate::aws::load_config().await;
    run(F::build(&config, settings)).await
}

#[cfg(test)]
mod tests;
