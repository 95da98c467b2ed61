//! What the runner knows of the current invocation, and its settings.

use super::sender::RetryPolicy;
use std::time::Duration;

/// Timing and retry settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Answer FAILED this long before the Lambda deadline if the handler has
    /// not finished, leaving the rest for the response PUT.
    pub answer_margin: Duration,
    /// The time a poll step may need: when less than this would be left
    /// after the next wait, the runner hands on to a new invocation instead.
    pub poll_reserve: Duration,
    /// The most invocations one operation may hand on through.
    pub max_hops: u32,
    /// Retries of the response PUT.
    pub retry: RetryPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            answer_margin: Duration::from_secs(5),
            poll_reserve: Duration::from_secs(20),
            max_hops: 10,
            retry: RetryPolicy::default(),
        }
    }
}

impl Settings {
    /// Defaults, with `TANDEM_CFN_ANSWER_MARGIN_SECS` applied when set.
    pub fn from_env() -> Self {
        let mut settings = Self::default();
        if let Some(secs) = std::env::var("TANDEM_CFN_ANSWER_MARGIN_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            settings.answer_margin = Duration::from_secs(secs);
        }
        settings
    }
}

/// What the runner knows of the current invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Time left before Lambda stops the invocation.
    pub remaining: Duration,
    /// This function's ARN, for handing on.
    pub function_arn: String,
}

impl Invocation {
    /// From the Lambda context.
    pub fn from_context(ctx: &lambda_runtime::Context) -> Self {
        Self {
            remaining: remaining_time(ctx.deadline, crate::clock::unix_now_ms()),
            function_arn: ctx.invoked_function_arn.clone(),
        }
    }
}

/// Any real deadline is after this (2001-09-09, in Unix milliseconds).
const EPOCH_FLOOR_MS: u64 = 1_000_000_000_000;
/// The longest a Lambda invocation can run.
const MAX_INVOCATION: Duration = Duration::from_secs(900);

/// The time left before `deadline_ms` (Unix milliseconds). Local emulators
/// send other values: `cargo lambda watch` sends the timeout itself (a
/// duration), and some send nothing (0); both are read as a duration, capped
/// at Lambda's 15 minutes, with 60 s for nothing.
pub(crate) fn remaining_time(deadline_ms: u64, now_ms: u64) -> Duration {
    match deadline_ms {
        0 => Duration::from_secs(60),
        d if d < EPOCH_FLOOR_MS => Duration::from_millis(d).min(MAX_INVOCATION),
        d => Duration::from_millis(d.saturating_sub(now_ms)),
    }
}
