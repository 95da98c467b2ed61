//! The runner: owns the CloudFormation protocol so that no handler can leave
//! a stack waiting.

use super::continuation::{Continuation, Continuer};
use super::event::{Parsed, build_response, check_echoed_ids, parse_event, parse_payload, service_timeout};
use super::invocation::{Invocation, Settings};
use super::outcome::{Final, is_failed_create_id, reason_from_error, reason_from_panic};
use super::request::{Request, RequestType};
use super::resource::{CustomResource, ErasedResource, Step};
use super::response::Status;
use super::schedule::{Deadlines, Moment, Next, StepEnd, after_step, deadlines};
use super::sender::{self, SendError, Transport};
use crate::clock::unix_now;
use crate::payload::Payload;
use crate::text::quote;
use futures_util::FutureExt;
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Why the runner could not answer CloudFormation at all.
#[derive(thiserror::Error)]
pub enum RunnerError {
    /// The event is not a custom-resource request, and has no ResponseURL to
    /// answer: nothing waits on it.
    #[error("not a CloudFormation custom-resource request: {0}")]
    NotARequest(String),
    /// The answer could not be delivered. Returning this error lets Lambda's
    /// asynchronous retries (and then the function's dead-letter queue) take over.
    #[error("could not deliver the {status:?} response for {logical_id}: {source}")]
    Delivery {
        /// The status that was being sent.
        status: Status,
        /// The resource it was for.
        logical_id: String,
        /// What went wrong.
        source: SendError,
    },
}

// The runtime logs a handler's error with `{:?}`: the sentence, not the value.
crate::debug_as_display!(RunnerError);

impl From<RunnerError> for lambda_runtime::Diagnostic {
    fn from(error: RunnerError) -> Self {
        let error_type = match error {
            RunnerError::NotARequest(_) => "NotACustomResourceRequest",
            RunnerError::Delivery { .. } => "ResponseNotDelivered",
        };
        Self {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Serves one or more [`CustomResource`] types behind one Lambda function.
pub struct Runner {
    routes: Vec<(&'static str, Arc<dyn ErasedResource>)>,
    transport: Arc<dyn Transport>,
    continuer: Option<Arc<dyn Continuer>>,
    settings: Settings,
}

impl Runner {
    /// A runner that answers through `transport`.
    pub fn new(transport: Arc<dyn Transport>, settings: Settings) -> Self {
        Self {
            routes: Vec::new(),
            transport,
            continuer: None,
            settings,
        }
    }

    /// Serves `resource` for its [`CustomResource::RESOURCE_TYPE`].
    pub fn serve<R: CustomResource>(mut self, resource: R) -> Self {
        self.routes.push((R::RESOURCE_TYPE, Arc::new(resource)));
        self
    }

    /// Lets long operations continue in further invocations.
    pub fn continue_with(mut self, continuer: Arc<dyn Continuer>) -> Self {
        self.continuer = Some(continuer);
        self
    }

    /// Handles one Lambda event: a request or a continuation. Returns a short
    /// summary of what was sent (shown by `cargo lambda invoke`).
    pub async fn handle(&self, event: Value, invocation: Invocation) -> Result<Value, RunnerError> {
        self.handle_parsed(parse_event(event), invocation).await
    }

    /// Handles one payload as the runtime hands it over ([`serve`](super::serve)
    /// calls this): like [`handle`](Self::handle), and a payload that is no
    /// whole JSON value is still answered FAILED, naming what is broken,
    /// when its top-level `ResponseURL` and `RequestId` can be read.
    pub async fn handle_payload(&self, payload: &Payload, invocation: Invocation) -> Result<Value, RunnerError> {
        self.handle_parsed(parse_payload(payload), invocation).await
    }

    async fn handle_parsed(
        &self,
        parsed: Result<Parsed, RunnerError>,
        invocation: Invocation,
    ) -> Result<Value, RunnerError> {
        let start = Instant::now();
        tracing::debug!(remaining_ms = invocation.remaining.as_millis() as u64, "invocation");
        let (request, run) = match parsed? {
            Parsed::Request(request) => (request, Ok(Run::first())),
            Parsed::Continuation(c) => {
                let run = Run {
                    step: Step::Poll(c.state),
                    started_at: c.started_at,
                    hops: c.hops,
                    partial_id: c.physical_resource_id,
                };
                (c.request, Ok(run))
            }
            Parsed::Unreadable(request, why) => (request, Err(why)),
        };
        check_echoed_ids(&request)?;
        let started_at = run.as_ref().map_or_else(|_| unix_now(), |run| run.started_at);
        let elapsed = Duration::from_secs(unix_now().saturating_sub(started_at));
        let limits = deadlines(
            invocation.remaining,
            service_timeout(&request).saturating_sub(elapsed),
            self.settings.answer_margin,
        );
        let result = match run {
            Ok(run) => self.drive(&request, run, &invocation, start, limits).await,
            Err(why) => Final::failed(why),
        };
        self.answer(&request, result, start + limits.send).await
    }

    /// Sends the answer for `result` (nothing when another invocation took
    /// over), and returns its summary.
    async fn answer(&self, request: &Request, result: Final, send_deadline: Instant) -> Result<Value, RunnerError> {
        let hops = if let Final::HandedOff { hops } = result {
            hops
        } else {
            0
        };
        let Some(response) = build_response(request, result) else {
            tracing::info!(logical_id = %request.logical_resource_id, hops, "handed on to a new invocation");
            return Ok(json!({"Status": "IN_PROGRESS", "Hops": hops}));
        };
        let (body, sent) = response.encode_bounded();
        tracing::info!(
            logical_id = %sent.logical_resource_id,
            request_type = %request.request_type,
            status = ?sent.status,
            reason = sent.reason.as_deref().unwrap_or(""),
            physical_id = %sent.physical_resource_id,
            "answering CloudFormation"
        );
        sender::deliver(
            self.transport.as_ref(),
            &request.response_url,
            &body,
            send_deadline,
            self.settings.retry,
        )
        .await
        .map_err(|source| RunnerError::Delivery {
            status: sent.status,
            logical_id: sent.logical_resource_id.clone(),
            source,
        })?;
        let data = if sent.no_echo {
            json!("<NoEcho>")
        } else {
            Value::Object(sent.data)
        };
        Ok(
            json!({"Status": sent.status, "PhysicalResourceId": sent.physical_resource_id, "Reason": sent.reason, "Data": data}),
        )
    }

    /// Runs the handler's steps until the operation ends or hands on; every
    /// choice between steps is [`after_step`]'s.
    async fn drive(
        &self,
        request: &Request,
        mut run: Run,
        invocation: &Invocation,
        start: Instant,
        limits: Deadlines,
    ) -> Final {
        let Some(resource) = self.route(&request.resource_type) else {
            let served: Vec<&str> = self.routes.iter().map(|(t, _)| *t).collect();
            return Final::failed(format!(
                "this function serves {}; the template asks it for {}: set the resource's Type to one of those",
                served.join(", "),
                quote(&request.resource_type)
            ));
        };
        // Field by field, one readable value each (never the ResponseURL).
        tracing::info!(
            request_type = %request.request_type,
            resource_type = %request.resource_type,
            logical_id = %request.logical_resource_id,
            physical_id = request.physical_resource_id.as_deref().unwrap_or("none yet"),
            stack = %request.stack_id,
            request_id = %request.request_id,
            properties = %super::props::for_log(&request.resource_properties, resource.secret_properties()),
            continuing = matches!(run.step, Step::Poll(_)),
            "custom-resource request"
        );
        if let Some(nothing) = nothing_to_delete(request) {
            return nothing;
        }
        let answer_deadline = start + limits.answer;
        let service_timeout = service_timeout(request);
        loop {
            let (was_poll, state) = match &run.step {
                Step::Poll(state) => (true, state.clone()),
                Step::Start => (false, Value::Null),
            };
            let end = run_step(resource.as_ref(), request, run.step.clone(), answer_deadline).await;
            let moment = Moment {
                was_poll,
                state,
                partial_id: run.partial_id.take(),
                elapsed: Duration::from_secs(unix_now().saturating_sub(run.started_at)),
                service_timeout,
                until_answer: answer_deadline.saturating_duration_since(Instant::now()),
                poll_reserve: self.settings.poll_reserve,
                hops: run.hops,
                max_hops: self.settings.max_hops,
                can_hand_off: self.continuer.is_some(),
                limit: limits.limit,
                margin: limits.margin,
                request_type: request.request_type.as_str(),
            };
            match after_step(end, moment) {
                Next::Finish(result) => return result,
                Next::Poll {
                    after,
                    state,
                    partial_id,
                } => {
                    tokio::time::sleep(after).await;
                    run.step = Step::Poll(state);
                    run.partial_id = partial_id;
                }
                Next::HandOff {
                    state,
                    partial_id,
                    hops,
                } => {
                    let continuation = Continuation {
                        request: request.clone(),
                        state,
                        physical_resource_id: partial_id,
                        started_at: run.started_at,
                        hops,
                    };
                    return self.hand_off(continuation, invocation).await;
                }
            }
        }
    }

    async fn hand_off(&self, continuation: Continuation, invocation: &Invocation) -> Final {
        let hops = continuation.hops;
        let Some(continuer) = &self.continuer else {
            return Final::Failed {
                reason: "this function has no continuation set up".into(),
                partial_id: continuation.physical_resource_id,
            };
        };
        match continuer
            .hand_off(&invocation.function_arn, continuation.to_event())
            .await
        {
            Ok(()) => Final::HandedOff { hops },
            Err(error) => Final::Failed {
                reason: format!(
                    "could not hand the operation on to a new invocation: {error}; \
                     check that the function may invoke itself (lambda:InvokeFunction on its own ARN)"
                ),
                partial_id: continuation.physical_resource_id,
            },
        }
    }

    fn route(&self, resource_type: &str) -> Option<&Arc<dyn ErasedResource>> {
        self.routes.iter().find(|(t, _)| *t == resource_type).map(|(_, r)| r)
    }
}

/// Where one operation stands.
struct Run {
    step: Step,
    started_at: u64,
    hops: u32,
    partial_id: Option<String>,
}

/// Runs one step of the handler until `deadline`, catching its panics.
async fn run_step(resource: &dyn ErasedResource, request: &Request, step: Step, deadline: Instant) -> StepEnd {
    let step = AssertUnwindSafe(resource.run(request, step)).catch_unwind();
    match tokio::time::timeout_at(deadline, step).await {
        Ok(Ok(Ok(outcome))) => StepEnd::Returned(outcome),
        Ok(Ok(Err(error))) => StepEnd::Failed(reason_from_error(error.as_ref())),
        Ok(Err(panic)) => StepEnd::Failed(reason_from_panic(panic)),
        Err(_) => StepEnd::OutOfTime,
    }
}

impl Run {
    /// The first step of a new request.
    fn first() -> Self {
        Self {
            step: Step::Start,
            started_at: unix_now(),
            hops: 0,
            partial_id: None,
        }
    }
}

/// The answer to a Delete that has nothing to remove, if this is one: the
/// Delete of a Create that failed before anything existed (a placeholder
/// id), or one with no physical id at all. Answering anything but SUCCESS
/// would leave the stack in DELETE_FAILED over a resource that never was.
fn nothing_to_delete(request: &Request) -> Option<Final> {
    if request.request_type != RequestType::Delete {
        return None;
    }
    let given = request.physical_resource_id.as_deref().unwrap_or_default();
    if !given.trim().is_empty() && !is_failed_create_id(given) {
        return None;
    }
    tracing::info!(
        physical_id = given,
        "nothing was created, so there is nothing to delete"
    );
    Some(Final::Done {
        physical_id: given.to_owned(),
        data: Default::default(),
        no_echo: false,
    })
}

#[cfg(test)]
mod tests;
