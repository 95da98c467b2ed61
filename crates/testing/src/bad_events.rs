//! The corpus of malformed events in `tests/bad-events/<function>/`, and
//! the checks every function's answer to them must pass.
//!
//! Each event file (any name but `*.expect`; its bytes need not be JSON)
//! has a sidecar `<name>.expect`: one line, `error: <text>` when the
//! function can answer no one and must fail naming the problem, or
//! `failed: <text>` when it must answer FAILED (to CloudFormation's
//! ResponseURL, or to CodeDeploy) with a reason containing `<text>`.
//!
//! [`every_bad_event_is_refused`] runs an event function over its corpus;
//! [`every_bad_event_is_refused_or_answered_failed`] one that answers some
//! bad events FAILED.

use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tandem_core::event_fn::{Call, EventFunction, diagnostic, invoke};
use tandem_core::payload::Payload;

/// What a function must do with one bad event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Fail the invocation with an error containing this text, answering no one.
    Error(String),
    /// Answer FAILED with a reason containing this text.
    Failed(String),
}

/// One file of the corpus.
#[derive(Debug, Clone)]
pub struct BadEvent {
    /// The file's name, for messages.
    pub name: String,
    /// Its bytes, as the runtime would receive them.
    pub bytes: Vec<u8>,
    /// What its sidecar says.
    pub expect: Expect,
}

/// The corpus directory of `function`.
pub fn dir(function: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/bad-events")
        .join(function)
}

/// Every bad event of `function`, sorted by name. Panics, naming the file,
/// when the corpus is empty, an event has no expectation, an expectation has
/// no event, or an expectation is not one of the two forms.
pub fn corpus(function: &str) -> Vec<BadEvent> {
    let dir = dir(function);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut events = Vec::new();
    for name in &names {
        if let Some(event) = name.strip_suffix(".expect") {
            assert!(names.iter().any(|n| n == event), "{name} has no event file {event}");
            continue;
        }
        let sidecar = dir.join(format!("{name}.expect"));
        let text = std::fs::read_to_string(&sidecar)
            .unwrap_or_else(|e| panic!("{name} has no expectation ({}): {e}", sidecar.display()));
        let line = text.trim();
        let expect = match line.split_once(": ") {
            Some(("error", want)) if !want.trim().is_empty() => Expect::Error(want.trim().to_owned()),
            Some(("failed", want)) if !want.trim().is_empty() => Expect::Failed(want.trim().to_owned()),
            _ => panic!("{name}.expect must be one line, `error: <text>` or `failed: <text>`, not {line:?}"),
        };
        events.push(BadEvent {
            name: name.clone(),
            bytes: std::fs::read(dir.join(name)).unwrap(),
            expect,
        });
    }
    assert!(!events.is_empty(), "the corpus {} is empty", dir.display());
    events
}

/// The most characters a message may have: a sentence, with long values
/// quoted short.
pub const MAX_MESSAGE_CHARS: usize = 700;

/// Checks that `message` (the answer to `event`) is one readable sentence
/// containing `want`: one line, bounded, no Rust `Debug` dump, no panic.
pub fn assert_readable(event: &str, message: &str, want: &str) {
    assert!(
        message.contains(want),
        "{event}: the message does not contain {want:?}: {message}"
    );
    assert!(
        !message.contains('\n'),
        "{event}: the message is not one line: {message}"
    );
    assert!(
        message.chars().count() <= MAX_MESSAGE_CHARS,
        "{event}: the message has {} characters: {}…",
        message.chars().count(),
        message.chars().take(300).collect::<String>()
    );
    for dump in ["panicked", "Some(", "Object {", "Error {", "Error(", "String(", "\\\""] {
        assert!(
            !message.contains(dump),
            "{event}: the message reads like a panic or a Rust value ({dump}): {message}"
        );
    }
}

/// Runs `handler` (a function's entry point with `event`), failing the test
/// with the event's name and the panic's message if it panics.
pub async fn without_panic<T>(event: &str, handler: impl Future<Output = T>) -> T {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(output) => output,
        Err(panic) => {
            let message = (panic.downcast_ref::<String>().map(String::as_str))
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("{event}: the function panicked: {message}")
        }
    }
}

/// The failed checks of a run over the corpus: every file is checked, and
/// the test fails at the end listing each file that failed.
#[derive(Debug, Default)]
pub struct Failures(Vec<String>);

impl Failures {
    /// Runs `checks` for `event`, keeping their panic's message as a failure.
    pub fn check(&mut self, event: &str, checks: impl FnOnce()) {
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(checks)) {
            let message = (panic.downcast_ref::<String>().cloned())
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| format!("{event}: failed"));
            self.0.push(message);
        }
    }

    /// Fails the test when any check failed, listing them.
    pub fn assert_none(self, checked: usize) {
        assert!(
            self.0.is_empty(),
            "{} of {checked} bad events were not handled as expected:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// How to check a function that answers some bad events FAILED (to
/// CodeDeploy, say) instead of refusing them all: what it sent for each
/// event, and whether that was right.
pub trait AnswersFailed<F: EventFunction> {
    /// What the function sent for one event (its reports, say).
    type Sent;

    /// Takes what the function sent for the event just handled, so that
    /// the next event starts with nothing sent.
    fn take_sent(&self) -> Self::Sent;

    /// Checks that `answer` and `sent` (for the bad event `name`, whose
    /// payload is `payload`) say FAILED with a reason containing `want`,
    /// sent where it must go.
    fn check_failed(&self, name: &str, payload: &Payload, answer: &F::Output, sent: &Self::Sent, want: &str);

    /// Checks that the refused event `name` sent nothing.
    fn check_unsent(&self, name: &str, sent: &Self::Sent);
}

/// A function that answers no one: every bad event must be refused.
struct AnswersNoOne<'a>(&'a str);

impl<F: EventFunction> AnswersFailed<F> for AnswersNoOne<'_> {
    type Sent = ();

    fn take_sent(&self) {}

    fn check_failed(&self, name: &str, _: &Payload, _: &F::Output, _: &(), _: &str) {
        panic!("{name}: {} answers no one, so expect `error:`", self.0)
    }

    fn check_unsent(&self, _: &str, _: &()) {}
}

/// Hands every bad event of `function_name` to `function` as `main` does
/// ([`invoke`], with `remaining` time left): no panic, and an error that
/// names the problem in one sentence (its `Display` and its `Debug`),
/// recorded as `tandem.BadEvent`. A `failed:` expectation fails the test:
/// the function answers no one.
pub async fn every_bad_event_is_refused<F: EventFunction>(function_name: &str, function: &F, remaining: Duration) {
    check_every_bad_event(function_name, function, remaining, &AnswersNoOne(function_name)).await;
}

/// As [`every_bad_event_is_refused`], but an event expecting `failed:` must
/// be answered FAILED, as `answers` checks, and a refused one send nothing.
pub async fn every_bad_event_is_refused_or_answered_failed<F: EventFunction>(
    function_name: &str,
    function: &F,
    remaining: Duration,
    answers: &impl AnswersFailed<F>,
) {
    check_every_bad_event(function_name, function, remaining, answers).await;
}

/// The loop of both: every event checked, the failures listed at the end.
async fn check_every_bad_event<F: EventFunction, A: AnswersFailed<F>>(
    function_name: &str,
    function: &F,
    remaining: Duration,
    answers: &A,
) {
    let events = corpus(function_name);
    let mut failures = Failures::default();
    for event in &events {
        let payload = Payload::from_slice(&event.bytes);
        let call = Call {
            request_id: "req-1".into(),
            remaining,
        };
        let result = without_panic(&event.name, invoke(function, &payload, &call)).await;
        let sent = answers.take_sent();
        let name = &event.name;
        failures.check(name, || match &event.expect {
            Expect::Failed(want) => {
                let answer = result.unwrap_or_else(|e| panic!("{name}: not answered: {e}"));
                answers.check_failed(name, &payload, &answer, &sent, want);
            }
            Expect::Error(want) => {
                answers.check_unsent(name, &sent);
                let error = result
                    .err()
                    .unwrap_or_else(|| panic!("{name}: the event was not refused"));
                assert_eq!(diagnostic(&error).error_type, "tandem.BadEvent", "{name}: {error}");
                assert_readable(name, &error.to_string(), want);
                assert_readable(name, &format!("{error:?}"), want);
            }
        });
    }
    failures.assert_none(events.len());
}
