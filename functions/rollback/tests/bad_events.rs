//! Every malformed event in `tests/bad-events/rollback/`, read as the Lambda
//! runtime reads it and handed to `tandem_core::event_fn::invoke`, what
//! `main` runs for each invocation: no panic, no AWS call (every client is
//! a mock that expects none), and an error that names the problem in one
//! sentence, recorded as `tandem.BadEvent`.
//! Then the parser under proptest: arbitrary JSON values, arbitrary bytes
//! and mutated samples (`PROPTEST_CASES`, 256 by default).

use proptest::test_runner::TestCaseError;
use rollback::decide::{Engine, Scope};
use rollback::shell::{Rollback, Settings};
use std::time::Duration;
use tandem_core::state::StateTable;
use tandem_testing::arbitrary;
use tandem_testing::bad_events;
use tandem_testing::mock_client;

/// The function `main` builds for `engine`, with clients that expect no
/// call at all.
fn rollback(engine: Engine) -> Rollback {
    let none: [&aws_smithy_mocks::Rule; 0] = [];
    Rollback {
        codedeploy: mock_client!(aws_sdk_codedeploy, none),
        ecs: mock_client!(aws_sdk_ecs, none),
        sns: mock_client!(aws_sdk_sns, none),
        table: StateTable::new(mock_client!(aws_sdk_dynamodb, none), "tandem-local-state"),
        settings: Settings {
            scope: Scope {
                region: "us-east-1".into(),
                alarm_prefix: "tandem-local-".into(),
                engine,
                bake_window_secs: 1800,
            },
            topic_arn: "arn:aws:sns:us-east-1:000000000000:tandem-local-ops".into(),
            dry_run: false,
            hook_function: "tandem-local-deploy-hook".into(),
            container_name: "app".into(),
            container_port: 8080,
            state_table: "tandem-local-state".into(),
        },
    }
}

#[tokio::test]
async fn every_bad_event_is_refused_naming_the_problem() {
    let codedeploy = Engine::CodeDeploy {
        application: "tandem-local".into(),
        group: "tandem-local-app".into(),
    };
    bad_events::every_bad_event_is_refused("rollback", &rollback(codedeploy), Duration::from_secs(60)).await;
}

#[tokio::test]
async fn under_ecs_every_bad_event_is_refused_naming_the_problem_too() {
    let ecs = Engine::Ecs {
        cluster: "tandem-local".into(),
        service: "tandem-local-app".into(),
    };
    bad_events::every_bad_event_is_refused("rollback", &rollback(ecs), Duration::from_secs(60)).await;
}

/// Parses `bytes` as `main` does: never a panic, and an error is one line.
fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    arbitrary::parses_or_says_why_in_one_line(bytes, |value| rollback::event::parse(value).map(drop))
}

tandem_testing::parser_properties!(check_parse, &["rollback-"]);
