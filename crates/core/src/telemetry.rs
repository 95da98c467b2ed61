//! Logs as JSON lines, in the shape Lambda's advanced logging controls read.
//!
//! `AWS_LAMBDA_LOG_LEVEL` (set by the function's logging config) or
//! `RUST_LOG` chooses the level; the default is `info`. Each line is one
//! JSON object with `timestamp`, `level`, `message` and the event's fields at
//! the top level, plus the runtime's `requestId` span.
//!
//! Not `lambda_runtime::tracing::init_default_subscriber()`: that one prints
//! plain text unless the function's `LogFormat` is JSON (the local AWS and
//! `cargo lambda watch` never set it) and nests event fields under `fields`,
//! where CloudWatch Logs Insights filters on top-level keys.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(level.to_ascii_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init()
        .ok();
}
