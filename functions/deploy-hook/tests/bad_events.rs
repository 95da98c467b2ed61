//! Every malformed event in `tests/bad-events/deploy-hook/`, read as the
//! Lambda runtime reads it and handed to `tandem_core::event_fn::invoke`,
//! what `main` runs for each invocation: no panic, and either exactly one `Failed` report to
//! CodeDeploy for the event's own hook ids, with a reason that names the
//! problem, or, when the ids cannot be read, no report and an error that
//! names the problem, recorded as `tandem.BadEvent`.
//!
//! The green side is absent (the test listener is not found, with no time
//! budget to wait), so an event whose ids can be read and that is otherwise
//! whole is reported `Failed` for that.
//! Then the parser under proptest: arbitrary JSON values, arbitrary bytes
//! and mutated samples (`PROPTEST_CASES`, 256 by default).

use aws_sdk_codedeploy::operation::put_lifecycle_event_hook_execution_status::PutLifecycleEventHookExecutionStatusOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_listeners::DescribeListenersError;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_types::error::ErrorMetadata;
use deploy_hook::settings::{Settings, SmokePath};
use deploy_hook::shell::Hook;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_core::payload::Payload;
use tandem_core::probe::Prober;
use tandem_core::state::StateTable;
use tandem_testing::arbitrary;
use tandem_testing::bad_events::{self, AnswersFailed, assert_readable};
use tandem_testing::test_config;

/// A client of `$sdk` whose calls any of `$rules` answers, as often as asked.
macro_rules! client {
    ($sdk:ident, $($rule:expr),*) => {{
        let mut responder = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        $(responder = responder.with_rule(&$rule);)*
        let conf = $sdk::config::Builder::from(&test_config("us-east-1")).interceptor(responder).build();
        $sdk::Client::from_conf(conf)
    }};
}

/// Refuses every probe (no probe is expected: no green target is found).
struct NoProbes;

impl Prober for NoProbes {
    fn get<'a>(
        &'a self,
        _: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u16, String>> + Send + 'a>> {
        Box::pin(async { Err("no probe was expected".to_owned()) })
    }
}

/// Each report: (DeploymentId, LifecycleEventHookExecutionId, status).
type Reports = Arc<Mutex<Vec<(String, String, String)>>>;

/// The hook `main` builds, answered by mocks: no test listener, every
/// report and audit write taken.
fn hook(reports: &Reports) -> Hook {
    let seen = reports.clone();
    let report: Rule = mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
        .match_requests(move |input| {
            let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
            seen.lock().unwrap().push((
                text(input.deployment_id()),
                text(input.lifecycle_event_hook_execution_id()),
                text(input.status().map(|s| s.as_str())),
            ));
            true
        })
        .then_output(|| PutLifecycleEventHookExecutionStatusOutput::builder().build());
    let no_listener: Rule = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_listeners).then_error(|| {
        DescribeListenersError::generic(
            ErrorMetadata::builder()
                .code("ListenerNotFound")
                .message("One or more listeners not found")
                .build(),
        )
    });
    let audit: Rule = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    Hook {
        elb: client!(aws_sdk_elasticloadbalancingv2, no_listener),
        codedeploy: client!(aws_sdk_codedeploy, report),
        state: Some(StateTable::new(client!(aws_sdk_dynamodb, audit), "tandem-local-state")),
        prober: Arc::new(NoProbes),
        settings: Settings {
            test_listener_arn: "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/tandem-local/1/8443".into(),
            test_listener_rule_arn: None,
            smoke_paths: vec![SmokePath {
                path: "/health".into(),
                status: 200,
            }],
            budget: Duration::ZERO,
            interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(5),
            state_table: Some("tandem-local-state".into()),
            probe_scheme: "http",
        },
        region: "us-east-1".into(),
    }
}

/// Checks the one `Failed` report a bad event with readable hook ids gets.
struct ReportedFailed(Reports);

impl AnswersFailed<Hook> for ReportedFailed {
    type Sent = Vec<(String, String, String)>;

    fn take_sent(&self) -> Self::Sent {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    fn check_failed(&self, name: &str, payload: &Payload, answer: &Value, reports: &Self::Sent, want: &str) {
        let ids = (
            payload.text("DeploymentId"),
            payload.text("LifecycleEventHookExecutionId"),
        );
        let (Some(deployment), Some(execution)) = ids else {
            panic!("{name}: the event's hook ids cannot be read, so it cannot expect a report")
        };
        assert_eq!(
            *reports,
            [(deployment, execution, "Failed".to_owned())],
            "{name}: one Failed report for the event's own ids"
        );
        assert_eq!(answer["status"], "Failed", "{name}: {answer}");
        assert_readable(name, answer["reason"].as_str().unwrap_or_default(), want);
    }

    fn check_unsent(&self, name: &str, reports: &Self::Sent) {
        assert!(reports.is_empty(), "{name}: reported {reports:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn every_bad_event_is_reported_failed_or_refused_naming_the_problem() {
    let reports = Reports::default();
    let hook = hook(&reports);
    let answers = ReportedFailed(reports);
    bad_events::every_bad_event_is_refused_or_answered_failed("deploy-hook", &hook, Duration::from_secs(300), &answers)
        .await;
}

/// Parses `bytes` as `main` does: never a panic, and an error is one line.
fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    let payload = Payload::from_slice(bytes);
    if payload.to_value().is_err() {
        // What `Hook`'s `EventFunction::unreadable` reads of a broken payload.
        let _ = deploy_hook::event::codedeploy_ids(
            payload.text("DeploymentId"),
            payload.text("LifecycleEventHookExecutionId"),
        );
    }
    arbitrary::parses_or_says_why_in_one_line(bytes, |value| deploy_hook::event::parse(value).map(drop))
}

tandem_testing::parser_properties!(check_parse, &["deploy-hook-"]);
