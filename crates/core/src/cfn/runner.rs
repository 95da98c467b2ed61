//! The runner: owns the CloudFormation protocol so that no handler can leave
//! a stack waiting.

use super::continuation::{Continuation, Continuer};
use super::event::{Parsed, build_response, parse_event, service_timeout};
use super::invocation::{Invocation, Settings};
use super::outcome::{Final, reason_from_error, reason_from_panic};
use super::request::{Request, RequestType};
use super::resource::{CustomResource, ErasedResource, Outcome, Step};
use super::response::Status;
use super::sender::{self, SendError, Transport};
use futures_util::FutureExt;
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Why the runner could not answer CloudFormation at all.
#[derive(Debug, thiserror::Error)]
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
        let start = Instant::now();
        tracing::debug!(remaining_ms = invocation.remaining.as_millis() as u64, "invocation");
        // The PUT may use time up to just before Lambda's own deadline.
        let send_deadline = start + invocation.remaining.saturating_sub(Duration::from_millis(250));
        // A short function timeout shrinks the margin, so the handler still
        // gets most of the time.
        let margin = self.settings.answer_margin.min(invocation.remaining / 3);
        let answer_deadline = start + invocation.remaining.saturating_sub(margin);

        let (request, result) = match parse_event(event)? {
            Parsed::Request(request) => {
                let run = Run {
                    step: Step::Start,
                    started_at: unix_now(),
                    hops: 0,
                    partial_id: None,
                };
                let result = self.drive(&request, run, &invocation, answer_deadline).await;
                (request, result)
            }
            Parsed::Continuation(c) => {
                let run = Run {
                    step: Step::Poll(c.state),
                    started_at: c.started_at,
                    hops: c.hops,
                    partial_id: c.physical_resource_id,
                };
                let result = self.drive(&c.request, run, &invocation, answer_deadline).await;
                (c.request, result)
            }
            Parsed::Unreadable(request, why) => (
                request,
                Final::Failed {
                    reason: why,
                    partial_id: None,
                },
            ),
        };
        let hops = if let Final::HandedOff { hops } = result {
            hops
        } else {
            0
        };
        let Some(response) = build_response(&request, result) else {
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

    async fn drive(&self, request: &Request, mut run: Run, invocation: &Invocation, answer_deadline: Instant) -> Final {
        let Some(resource) = self.route(&request.resource_type) else {
            let served: Vec<&str> = self.routes.iter().map(|(t, _)| *t).collect();
            return Final::failed(format!(
                "this function serves {}; the template asks it for {:?}: set the resource's Type to one of those",
                served.join(", "),
                request.resource_type
            ));
        };
        tracing::info!(
            request = ?request,
            properties = %super::props::redacted(&request.resource_properties, resource.secret_properties()),
            continuing = matches!(run.step, Step::Poll(_)),
            "custom-resource request"
        );
        if request.request_type == RequestType::Delete
            && request
                .physical_resource_id
                .as_deref()
                .is_some_and(super::outcome::is_failed_create_id)
        {
            // The Create failed before anything existed: nothing to remove.
            let physical_id = request.physical_resource_id.clone().unwrap_or_default();
            return Final::Done {
                physical_id,
                data: Default::default(),
                no_echo: false,
            };
        }
        let service_timeout = service_timeout(request);
        loop {
            let step = AssertUnwindSafe(resource.run(request, run.step.clone())).catch_unwind();
            let outcome = match tokio::time::timeout_at(answer_deadline, step).await {
                Ok(Ok(Ok(outcome))) => outcome,
                Ok(Ok(Err(error))) => {
                    return Final::Failed {
                        reason: reason_from_error(error.as_ref()),
                        partial_id: run.partial_id,
                    };
                }
                Ok(Err(panic)) => {
                    return Final::Failed {
                        reason: reason_from_panic(panic),
                        partial_id: run.partial_id,
                    };
                }
                Err(_) if matches!(run.step, Step::Poll(_)) => {
                    // A poll only checks progress, so it can simply run again later.
                    let state = match &run.step {
                        Step::Poll(s) => s.clone(),
                        Step::Start => Value::Null,
                    };
                    return self.hand_off(request, run, state, invocation).await;
                }
                Err(_) => {
                    return Final::Failed {
                        reason: format!(
                            "{} did not finish within the function's timeout (less {:?} to answer): \
                             raise the Lambda timeout, or make the step return InProgress",
                            request.request_type, self.settings.answer_margin
                        ),
                        partial_id: run.partial_id,
                    };
                }
            };
            let (state, check_after) = match outcome {
                Outcome::Done {
                    physical_id,
                    data,
                    no_echo,
                } => {
                    return Final::Done {
                        physical_id,
                        data,
                        no_echo,
                    };
                }
                Outcome::InProgress {
                    physical_id,
                    state,
                    check_after,
                } => {
                    run.partial_id = physical_id.or(run.partial_id);
                    (state, check_after)
                }
            };
            let elapsed = Duration::from_secs(unix_now().saturating_sub(run.started_at));
            if elapsed + check_after >= service_timeout {
                return Final::Failed {
                    reason: format!(
                        "{} did not finish within its ServiceTimeout of {}s: raise ServiceTimeout (at most 3600) \
                         or look at why the operation is slow",
                        request.request_type,
                        service_timeout.as_secs()
                    ),
                    partial_id: run.partial_id,
                };
            }
            if Instant::now() + check_after + self.settings.poll_reserve < answer_deadline {
                tokio::time::sleep(check_after).await;
                run.step = Step::Poll(state);
                continue;
            }
            return self.hand_off(request, run, state, invocation).await;
        }
    }

    async fn hand_off(&self, request: &Request, run: Run, state: Value, invocation: &Invocation) -> Final {
        let hops = run.hops + 1;
        let Some(continuer) = &self.continuer else {
            return Final::Failed {
                reason: "the operation needs more than one invocation, and this function has no continuation set up"
                    .into(),
                partial_id: run.partial_id,
            };
        };
        if hops > self.settings.max_hops {
            return Final::Failed {
                reason: format!(
                    "the operation handed on {} times without finishing; giving up",
                    self.settings.max_hops
                ),
                partial_id: run.partial_id,
            };
        }
        let continuation = Continuation {
            request: request.clone(),
            state,
            physical_resource_id: run.partial_id.clone(),
            started_at: run.started_at,
            hops,
        };
        match continuer
            .hand_off(&invocation.function_arn, continuation.to_event())
            .await
        {
            Ok(()) => Final::HandedOff { hops },
            Err(error) => Final::Failed {
                reason: format!("could not hand the operation on to a new invocation: {error}"),
                partial_id: run.partial_id,
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
