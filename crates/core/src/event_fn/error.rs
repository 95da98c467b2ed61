//! One rule from an error to what Lambda records for a failed invocation.

use lambda_runtime::Diagnostic;
use std::fmt;

/// What every function's `errorType` starts with.
pub const ERROR_TYPE_PREFIX: &str = "tandem.";

/// An event function's error: a kind, and a sentence (its `Display`: what
/// failed, where, and the fix).
pub trait FunctionError: std::error::Error {
    /// The kind of failure, one CamelCase word such as `BadEvent` or
    /// `StateTable`: Lambda's `errorType` is `tandem.<Kind>`.
    fn kind(&self) -> &'static str;

    /// Lambda's `errorType`: `tandem.<Kind>`.
    fn error_type(&self) -> String {
        format!("{ERROR_TYPE_PREFIX}{}", self.kind())
    }
}

/// What Lambda records for `error`: `tandem.<Kind>` and the one sentence,
/// never a Rust type path or a `Debug` dump.
pub fn diagnostic(error: &impl FunctionError) -> Diagnostic {
    Diagnostic {
        error_type: error.error_type(),
        error_message: error.to_string(),
    }
}

/// A failed invocation as the runtime takes it: the runtime logs it with
/// `{:?}`, which is its sentence here, and records its [`Diagnostic`].
pub struct Failure(Diagnostic);

impl Failure {
    /// `tandem.<Kind>`.
    pub fn error_type(&self) -> &str {
        &self.0.error_type
    }
}

impl From<Diagnostic> for Failure {
    fn from(diagnostic: Diagnostic) -> Self {
        Self(diagnostic)
    }
}

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        failure.0
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.error_message)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.error_type, self.0.error_message)
    }
}

/// An event the function does not take, or cannot read: the sentence says
/// what arrived and what the function takes. Kind `BadEvent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadEvent(String);

impl BadEvent {
    /// The kind every function gives an event it refuses.
    pub const KIND: &'static str = "BadEvent";

    /// A refusal in the caller's own words (one sentence, values quoted short).
    pub fn new(sentence: impl Into<String>) -> Self {
        Self(sentence.into())
    }

    /// A payload that is no whole JSON value.
    pub fn unreadable(why: &crate::payload::PayloadError, takes: &str) -> Self {
        Self(format!("{why}; this function takes {takes}"))
    }
}

impl FunctionError for BadEvent {
    fn kind(&self) -> &'static str {
        Self::KIND
    }
}
