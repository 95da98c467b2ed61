//! Every malformed event in `tests/bad-events/db-rotation/`, read as the
//! Lambda runtime reads it and handed to `tandem_core::event_fn::invoke`,
//! what `main` runs for each invocation: no panic, no AWS call and no
//! database call (Secrets Manager is a mock that expects none, the database
//! panics), and an error that names the problem in one sentence, recorded
//! as `tandem.BadEvent`. Then the parser under
//! proptest: arbitrary JSON values, arbitrary bytes and mutated samples
//! (`PROPTEST_CASES`, 256 by default).

use db_rotation::credentials::{Credentials, Password};
use db_rotation::db::{Database, DbFuture, DbTls};
use db_rotation::decide::Login;
use db_rotation::settings::{ALWAYS_EXCLUDED, Settings};
use db_rotation::shell::Rotation;
use proptest::test_runner::TestCaseError;
use std::time::Duration;
use tandem_testing::arbitrary;
use tandem_testing::bad_events;
use tandem_testing::mock_client;

/// A database that no bad event may reach.
struct NoDb;

impl Database for NoDb {
    fn log_in<'a>(&'a self, _: &'a Credentials) -> DbFuture<'a, Login> {
        panic!("a bad event reached the database")
    }
    fn set_own_password<'a>(&'a self, _: &'a Credentials, _: &'a str, _: &'a Password) -> DbFuture<'a, ()> {
        panic!("a bad event reached the database")
    }
    fn select_now<'a>(&'a self, _: &'a Credentials, _: &'a str) -> DbFuture<'a, ()> {
        panic!("a bad event reached the database")
    }
}

/// The function `main` builds, with clients that expect no call at all.
fn rotation() -> Rotation {
    let none: [&aws_smithy_mocks::Rule; 0] = [];
    Rotation::new(
        mock_client!(aws_sdk_secretsmanager, none),
        Box::new(NoDb),
        Settings {
            env: "local".into(),
            region: "us-east-1".into(),
            exclude_characters: ALWAYS_EXCLUDED.into(),
            db_tls: DbTls::Required { ca_file: None },
        },
    )
}

#[tokio::test]
async fn every_bad_event_is_refused_naming_the_problem() {
    bad_events::every_bad_event_is_refused("db-rotation", &rotation(), Duration::from_secs(60)).await;
}

/// Parses `bytes` as `main` does: never a panic, and an error is one line.
fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    arbitrary::parses_or_says_why_in_one_line(bytes, |value| db_rotation::event::parse(value).map(drop))
}

tandem_testing::parser_properties!(check_parse, &["db-rotation-"]);
