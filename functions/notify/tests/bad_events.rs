//! Every malformed event in `tests/bad-events/notify/`, read as the Lambda
//! runtime reads it and handed to `tandem_core::event_fn::invoke`, what
//! `main` runs for each invocation: no panic, no AWS call and no post (every
//! client is a mock that expects none), and an error that names the problem
//! in one sentence, recorded as `tandem.BadEvent`.
//! Then the parser under proptest: arbitrary JSON values, arbitrary bytes
//! and mutated samples (`PROPTEST_CASES`, 256 by default).

use notify::settings::Settings;
use notify::shell::Notify;
use proptest::test_runner::TestCaseError;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tandem_core::state::StateTable;
use tandem_core::webhook::Poster;
use tandem_testing::arbitrary;
use tandem_testing::bad_events;
use tandem_testing::mock_client;

/// A poster that no bad event may reach.
struct NoPost;

impl Poster for NoPost {
    fn post_json<'a>(
        &'a self,
        _: &'a str,
        _: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        panic!("a bad event reached the webhook")
    }
}

/// The function `main` builds, with clients that expect no call at all.
fn notify() -> Notify {
    let none: [&aws_smithy_mocks::Rule; 0] = [];
    Notify::new(
        mock_client!(aws_sdk_secretsmanager, none),
        StateTable::new(mock_client!(aws_sdk_dynamodb, none), "tandem-local-state"),
        Box::new(NoPost),
        Settings {
            region: "us-east-1".into(),
            secret_id: "tandem-local/ops-webhook".into(),
            timeout_secs: 10,
            state_table: "tandem-local-state".into(),
        },
    )
}

#[tokio::test]
async fn every_bad_event_is_refused_naming_the_problem() {
    bad_events::every_bad_event_is_refused("notify", &notify(), Duration::from_secs(60)).await;
}

/// Parses `bytes` as `main` does: never a panic, and an error is one line.
fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    arbitrary::parses_or_says_why_in_one_line(bytes, |value| notify::decide::messages(value).map(drop))
}

tandem_testing::parser_properties!(check_parse, &["notify-"]);
