//! The runner's decisions, without a clock: when this invocation must
//! answer, and what comes after each step of the handler (answer, wait and
//! poll here, or hand on to a new invocation). The runner observes the time
//! and acts; every choice is made here and tested exhaustively below.

use super::outcome::Final;
use super::resource::Outcome;
use serde_json::Value;
use std::time::Duration;

/// Time kept back from Lambda's deadline for the response PUT itself.
pub(crate) const SEND_RESERVE: Duration = Duration::from_millis(250);

/// What ends this invocation's time to answer first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// The Lambda invocation's deadline.
    Lambda,
    /// The request's ServiceTimeout, after which CloudFormation gives up on
    /// its own and ignores any answer.
    ServiceTimeout,
}

/// When this invocation must answer, as offsets from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadlines {
    /// Answer FAILED by then if the handler has not finished.
    pub(crate) answer: Duration,
    /// The response PUT, retries included, must end by then.
    pub(crate) send: Duration,
    /// Which limit set `answer`.
    pub(crate) limit: Limit,
    /// The time kept back before that limit for answering.
    pub(crate) margin: Duration,
}

/// The deadlines for an invocation with `remaining` time, on an operation
/// with `service_left` before its ServiceTimeout, keeping `margin` to
/// answer. A short window shrinks the margin to a third of it, so that the
/// handler still gets most of the time.
pub(crate) fn deadlines(remaining: Duration, service_left: Duration, margin: Duration) -> Deadlines {
    let (window, limit) = if service_left < remaining {
        (service_left, Limit::ServiceTimeout)
    } else {
        (remaining, Limit::Lambda)
    };
    let margin = margin.min(window / 3);
    Deadlines {
        answer: window - margin,
        send: remaining.saturating_sub(SEND_RESERVE),
        limit,
        margin,
    }
}

/// How one step of the handler ended.
#[derive(Debug)]
pub(crate) enum StepEnd {
    /// It returned an outcome.
    Returned(Outcome),
    /// It returned an error or panicked: the reason to answer with.
    Failed(String),
    /// It was still running at the answer deadline.
    OutOfTime,
}

/// Where the operation stands when a step ends.
#[derive(Debug, Clone)]
pub(crate) struct Moment {
    /// Whether the step was a poll (which may simply run again later) rather
    /// than the request's own Create, Update or Delete.
    pub(crate) was_poll: bool,
    /// The poll state the step started from (`Null` for the first step).
    pub(crate) state: Value,
    /// The id of what exists so far.
    pub(crate) partial_id: Option<String>,
    /// Time since the operation started, across invocations.
    pub(crate) elapsed: Duration,
    /// The request's ServiceTimeout.
    pub(crate) service_timeout: Duration,
    /// Time left before this invocation's answer deadline.
    pub(crate) until_answer: Duration,
    /// The time a poll step may need (see `Settings::poll_reserve`).
    pub(crate) poll_reserve: Duration,
    /// Invocations handed on through so far, and the most allowed.
    pub(crate) hops: u32,
    /// See `Settings::max_hops`.
    pub(crate) max_hops: u32,
    /// Whether the function can hand on at all.
    pub(crate) can_hand_off: bool,
    /// What sets this invocation's answer deadline, and its margin.
    pub(crate) limit: Limit,
    /// See [`Deadlines::margin`].
    pub(crate) margin: Duration,
    /// `Create`, `Update` or `Delete`, for reasons.
    pub(crate) request_type: &'static str,
}

/// What the runner does next.
#[derive(Debug, PartialEq)]
pub(crate) enum Next {
    /// The operation ended: answer.
    Finish(Final),
    /// Wait `after`, then poll with `state`, in this invocation.
    Poll {
        /// How long to wait.
        after: Duration,
        /// The state to poll with.
        state: Value,
        /// The id of what exists so far.
        partial_id: Option<String>,
    },
    /// Hand the operation on to a new invocation, as hop number `hops`.
    HandOff {
        /// The state to poll with there.
        state: Value,
        /// The id of what exists so far.
        partial_id: Option<String>,
        /// The new hop count.
        hops: u32,
    },
}

/// The decision after one step.
pub(crate) fn after_step(end: StepEnd, at: Moment) -> Next {
    let failed = |reason: String, partial_id: Option<String>| Next::Finish(Final::Failed { reason, partial_id });
    match end {
        StepEnd::Returned(Outcome::Done {
            physical_id,
            data,
            no_echo,
        }) => Next::Finish(Final::Done {
            physical_id,
            data,
            no_echo,
        }),
        StepEnd::Failed(reason) => failed(reason, at.partial_id),
        StepEnd::OutOfTime if at.was_poll => {
            // A poll only checks progress, so it can run again later.
            let state = at.state.clone();
            hand_off_or_fail(state, at.partial_id.clone(), &at, Duration::ZERO)
        }
        StepEnd::OutOfTime => failed(out_of_time(&at), at.partial_id),
        StepEnd::Returned(Outcome::InProgress {
            physical_id,
            state,
            check_after,
        }) => {
            let partial_id = physical_id.or(at.partial_id.clone());
            if at.elapsed + check_after >= at.service_timeout {
                return failed(past_service_timeout(&at), partial_id);
            }
            if check_after + at.poll_reserve < at.until_answer {
                Next::Poll {
                    after: check_after,
                    state,
                    partial_id,
                }
            } else {
                hand_off_or_fail(state, partial_id, &at, check_after)
            }
        }
    }
}

fn hand_off_or_fail(state: Value, partial_id: Option<String>, at: &Moment, check_after: Duration) -> Next {
    let reason = if at.elapsed + check_after >= at.service_timeout {
        past_service_timeout(at)
    } else if !at.can_hand_off {
        "the operation needs more than one invocation, and this function has no continuation set up: \
         give the runner a Continuer (Runner::continue_with)"
            .to_owned()
    } else if at.hops + 1 > at.max_hops {
        format!(
            "the operation handed on {} times without finishing; giving up: see the function's log for what it waited on",
            at.max_hops
        )
    } else {
        return Next::HandOff {
            state,
            partial_id,
            hops: at.hops + 1,
        };
    };
    Next::Finish(Final::Failed { reason, partial_id })
}

fn past_service_timeout(at: &Moment) -> String {
    format!(
        "{} did not finish within its ServiceTimeout of {}s: raise ServiceTimeout (at most 3600), \
         or see the function's log for the step that is slow",
        at.request_type,
        at.service_timeout.as_secs()
    )
}

fn out_of_time(at: &Moment) -> String {
    let margin = at.margin.as_secs();
    match at.limit {
        Limit::ServiceTimeout => format!(
            "{} was still running {}s into its ServiceTimeout of {}s (answering {margin}s before it): \
             the function's log names the AWS call it waited on; raise ServiceTimeout (at most 3600) \
             if the work is slow rather than stuck",
            at.request_type,
            at.elapsed.as_secs(),
            at.service_timeout.as_secs()
        ),
        Limit::Lambda => format!(
            "{} was still running when the function's time ran out (answering {margin}s before the deadline): \
             the function's log names the AWS call it waited on; raise the function's timeout (at most 900s) \
             if the work is slow rather than stuck",
            at.request_type
        ),
    }
}

#[cfg(test)]
mod tests;
