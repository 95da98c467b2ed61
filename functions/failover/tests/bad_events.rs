//! Every malformed event in `tests/bad-events/failover/`, read as the Lambda
//! runtime reads it and handed to `tandem_core::event_fn::invoke`, what
//! `main` runs for each invocation: no panic, no AWS call and no probe (every client is
//! a mock that expects none), and an error that names the problem in one
//! sentence, recorded as `tandem.BadEvent`.
//! Then the parser under proptest: arbitrary JSON values, arbitrary bytes
//! and mutated samples (`PROPTEST_CASES`, 256 by default).

use failover::settings::Settings;
use failover::shell::Failover;
use proptest::test_runner::TestCaseError;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::probe::Prober;
use tandem_core::state::StateTable;
use tandem_testing::arbitrary;
use tandem_testing::bad_events;
use tandem_testing::mock_client;

/// Fails the test at any probe: a bad event must be refused before one.
struct NoProbes;

impl Prober for NoProbes {
    fn get<'a>(
        &'a self,
        url: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u16, String>> + Send + 'a>> {
        panic!("a bad event probed {url}")
    }
}

/// The local standby's settings, through the parser `main` uses.
fn local_settings() -> Settings {
    failover::settings::from_lookup(failover::settings::standby_example("local"))
        .expect("the example's settings are complete")
}

/// The function `main` builds, with clients that expect no call at all.
fn failover() -> Failover {
    let none: [&aws_smithy_mocks::Rule; 0] = [];
    Failover {
        rds: mock_client!(aws_sdk_rds, none),
        secrets: mock_client!(aws_sdk_secretsmanager, none),
        cloudwatch: mock_client!(aws_sdk_cloudwatch, none),
        sns: mock_client!(aws_sdk_sns, none),
        table: StateTable::new(mock_client!(aws_sdk_dynamodb, none), "tandem-local-state"),
        peer_table: Some(StateTable::new(
            mock_client!(aws_sdk_dynamodb, none),
            "tandem-local-state",
        )),
        prober: Arc::new(NoProbes),
        settings: local_settings(),
    }
}

#[tokio::test(start_paused = true)]
async fn every_bad_event_is_refused_naming_the_problem() {
    bad_events::every_bad_event_is_refused("failover", &failover(), Duration::from_secs(600)).await;
}

/// Parses `bytes` as `main` does: never a panic, and an error is one line.
fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    arbitrary::parses_or_says_why_in_one_line(bytes, |value| failover::event::parse(value).map(drop))
}

tandem_testing::parser_properties!(check_parse, &["failover-"]);
