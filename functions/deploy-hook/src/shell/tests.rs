//! The shell against mocked ELB, CodeDeploy and DynamoDB, with the probes
//! answered from a table (the real prober is tested on loopback in
//! `tandem_core::probe`).

use super::*;
use crate::settings::{Settings, SmokePath};
use aws_sdk_codedeploy::operation::put_lifecycle_event_hook_execution_status::{
    PutLifecycleEventHookExecutionStatusError as ReportError, PutLifecycleEventHookExecutionStatusOutput as Reported,
};
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_listeners::DescribeListenersOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
use aws_sdk_elasticloadbalancingv2::types::{
    ActionTypeEnum, Listener, TargetDescription, TargetHealth, TargetHealthDescription, TargetHealthReasonEnum,
    TargetHealthStateEnum,
};
use aws_smithy_mocks::Rule;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use std::collections::HashMap;
use std::sync::Mutex;
use tandem_testing::state::{put_already_claimed, put_claimed};
use tandem_testing::{mock, mock_client};

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/tandem-dev/1/8443";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tandem-dev-green/2";

/// Probe answers by (endpoint, path); records each probe.
#[derive(Default)]
struct Answers {
    table: HashMap<String, Result<u16, String>>,
    asked: Mutex<Vec<String>>,
}

impl Answers {
    fn with(mut self, endpoint: &str, path: &str, answer: Result<u16, &str>) -> Self {
        self.table
            .insert(format!("http://{endpoint}{path}"), answer.map_err(str::to_owned));
        self
    }
}

impl Prober for Answers {
    fn get<'a>(
        &'a self,
        url: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u16, String>> + Send + 'a>> {
        self.asked
            .lock()
            .unwrap()
            .push(url.trim_start_matches("http://").to_owned());
        let answer = (self.table.get(url))
            .cloned()
            .unwrap_or(Err("connection refused".into()));
        Box::pin(async move { answer })
    }
}

fn settings() -> Settings {
    Settings {
        test_listener_arn: LISTENER.into(),
        test_listener_rule_arn: None,
        smoke_paths: vec![
            SmokePath {
                path: "/health".into(),
                status: 200,
            },
            SmokePath {
                path: "/db".into(),
                status: 200,
            },
        ],
        budget: Duration::from_secs(60),
        interval: Duration::from_secs(5),
        probe_timeout: Duration::from_secs(5),
        state_table: Some("tandem-dev-state".into()),
        probe_scheme: "http",
    }
}

fn listener() -> Rule {
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_listeners)
        .match_requests(|input| input.listener_arns() == [LISTENER])
        .then_output(|| {
            let forward = Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(GREEN)
                .build();
            let listener = Listener::builder()
                .listener_arn(LISTENER)
                .default_actions(forward)
                .build();
            DescribeListenersOutput::builder().listeners(listener).build()
        })
}

fn health(targets: &[(&'static str, TargetHealthStateEnum)]) -> Rule {
    health_of(GREEN, targets)
}

/// DescribeTargetHealth of `group` only.
fn health_of(group: &'static str, targets: &[(&'static str, TargetHealthStateEnum)]) -> Rule {
    let targets: Vec<TargetHealthDescription> = targets
        .iter()
        .map(|(ip, state)| {
            let mut health = TargetHealth::builder().state(state.clone());
            if *state != TargetHealthStateEnum::Healthy {
                health = health.reason(TargetHealthReasonEnum::FailedHealthChecks);
            }
            TargetHealthDescription::builder()
                .target(TargetDescription::builder().id(*ip).port(8080).build())
                .target_health(health.build())
                .build()
        })
        .collect();
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health)
        .match_requests(move |input| input.target_group_arn() == Some(group))
        .then_output(move || {
            DescribeTargetHealthOutput::builder()
                .set_target_health_descriptions(Some(targets.clone()))
                .build()
        })
}

fn report(status: &'static str) -> Rule {
    mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
        .match_requests(move |input| {
            assert_eq!(input.deployment_id(), Some("d-ABC"));
            assert_eq!(input.lifecycle_event_hook_execution_id(), Some("exec-1"));
            assert_eq!(input.status().map(|s| s.as_str()), Some(status));
            true
        })
        .then_output(|| Reported::builder().lifecycle_event_hook_execution_id("exec-1").build())
}

fn code(code: &'static str) -> impl Fn() -> ReportError + Send + Sync + 'static {
    move || {
        ReportError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message(format!("mocked {code}"))
                .build(),
        )
    }
}

fn audited(decision: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |input| {
            let item = input.item().unwrap();
            assert_eq!(item["sk"].as_s().unwrap(), "hook#d-ABC#exec-1");
            assert_eq!(item["decision"].as_s().unwrap(), decision);
            true
        })
        .then_output(|| PutItemOutput::builder().build())
}

struct Mocks<'a> {
    elb: &'a [&'a Rule],
    codedeploy: &'a [&'a Rule],
    dynamodb: &'a [&'a Rule],
}

fn make_hook(mocks: Mocks<'_>, answers: Answers) -> (Hook, Arc<Answers>) {
    let answers = Arc::new(answers);
    let hook = Hook {
        elb: mock_client!(aws_sdk_elasticloadbalancingv2, mocks.elb.iter().copied()),
        // Retries on, as in the function: a throttled report is retried.
        codedeploy: mock_client!(aws_sdk_codedeploy, mocks.codedeploy.iter().copied(), |b| b
            .retry_config(RetryConfig::standard().with_max_attempts(3))),
        state: Some(StateTable::new(
            mock_client!(aws_sdk_dynamodb, mocks.dynamodb.iter().copied()),
            "tandem-dev-state",
        )),
        prober: answers.clone(),
        settings: settings(),
        region: "us-east-1".into(),
    };
    (hook, answers)
}

fn codedeploy_event() -> Value {
    json!({"DeploymentId": "d-ABC", "LifecycleEventHookExecutionId": "exec-1"})
}

fn healthy_answers() -> Answers {
    Answers::default()
        .with("10.0.1.5:8080", "/health", Ok(200))
        .with("10.0.1.5:8080", "/db", Ok(200))
}

/// One look that finds one healthy green target, 10.0.1.5:8080.
fn healthy_look() -> (Rule, Rule) {
    (listener(), health(&[("10.0.1.5", TargetHealthStateEnum::Healthy)]))
}

const MINUTES: Duration = Duration::from_secs(600);

#[tokio::test(start_paused = true)]
async fn healthy_targets_that_answer_are_reported_succeeded_once_and_audited() {
    let (listen, targets) = healthy_look();
    let (reported, audit) = (report("Succeeded"), audited("Succeeded"));
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[&reported],
        dynamodb: &[&audit],
    };
    let (hook, answers) = make_hook(mocks, healthy_answers());
    let answer = hook.handle(codedeploy_event(), MINUTES).await.unwrap();
    assert_eq!(answer["status"], "Succeeded");
    assert_eq!(reported.num_calls(), 1);
    assert_eq!(audit.num_calls(), 1);
    assert_eq!(
        *answers.asked.lock().unwrap(),
        ["10.0.1.5:8080/health", "10.0.1.5:8080/db"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_smoke_path_is_reported_failed_with_the_reason() {
    let (listen, targets) = healthy_look();
    let (reported, audit) = (report("Failed"), audited("Failed"));
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[&reported],
        dynamodb: &[&audit],
    };
    let answers = Answers::default()
        .with("10.0.1.5:8080", "/health", Ok(200))
        .with("10.0.1.5:8080", "/db", Ok(503));
    let (hook, _) = make_hook(mocks, answers);
    let answer = hook.handle(codedeploy_event(), MINUTES).await.unwrap();
    assert_eq!(answer["reason"], "GET /db on 10.0.1.5:8080 answered 503, not 200");
    assert_eq!(reported.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_unhealthy_target_is_watched_until_the_budget_runs_out_then_reported_failed() {
    let targets = [
        ("10.0.1.5", TargetHealthStateEnum::Healthy),
        ("10.0.2.6", TargetHealthStateEnum::Unhealthy),
    ];
    // 60 s budget, a look every 5 s: 12 looks, each its own pair of rules
    // (a rule answers once in sequence).
    let rules: Vec<Rule> = (0..12).flat_map(|_| [listener(), health(&targets)]).collect();
    let elb: Vec<&Rule> = rules.iter().collect();
    let (reported, audit) = (report("Failed"), audited("Failed"));
    let mocks = Mocks {
        elb: &elb,
        codedeploy: &[&reported],
        dynamodb: &[&audit],
    };
    let started = Instant::now();
    let (hook, answers) = make_hook(mocks, healthy_answers());
    let answer = hook.handle(codedeploy_event(), MINUTES).await.unwrap();
    let reason = answer["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("still not ready after 55s of the 60s budget"),
        "{reason}"
    );
    assert!(
        reason.contains("10.0.2.6:8080 is unhealthy (Target.FailedHealthChecks)"),
        "{reason}"
    );
    assert_eq!(Instant::now() - started, Duration::from_secs(55));
    assert!(
        answers.asked.lock().unwrap().is_empty(),
        "nothing is probed before all are healthy"
    );
    assert_eq!(reported.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_budget_never_runs_past_the_lambda_deadline() {
    let targets = [("10.0.2.6", TargetHealthStateEnum::Initial)];
    let rules: Vec<Rule> = (0..3).flat_map(|_| [listener(), health(&targets)]).collect();
    let elb: Vec<&Rule> = rules.iter().collect();
    let (reported, audit) = (report("Failed"), audited("Failed"));
    let mocks = Mocks {
        elb: &elb,
        codedeploy: &[&reported],
        dynamodb: &[&audit],
    };
    let (hook, _) = make_hook(mocks, Answers::default());
    // 30 s left: 15 s kept to report, so a 15 s budget (three looks).
    let answer = hook.handle(codedeploy_event(), Duration::from_secs(30)).await.unwrap();
    assert!(
        answer["reason"].as_str().unwrap().contains("of the 15s budget"),
        "{answer}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_throttled_report_is_retried_up_to_a_bound() {
    let (listen, targets) = healthy_look();
    let flaky = mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
        .sequence()
        .error(code("ThrottlingException"))
        .times(2)
        .output(|| Reported::builder().build())
        .build();
    let audit = audited("Succeeded");
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[&flaky],
        dynamodb: &[&audit],
    };
    let (hook, _) = make_hook(mocks, healthy_answers());
    hook.handle(codedeploy_event(), MINUTES).await.unwrap();
    assert_eq!(flaky.num_calls(), 3, "two throttled attempts, then the report");

    let (listen, targets) = healthy_look();
    let throttled = mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
        .sequence()
        .error(code("ThrottlingException"))
        .times(5)
        .build();
    let audit = audited("Succeeded");
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[&throttled],
        dynamodb: &[&audit],
    };
    let (hook, _) = make_hook(mocks, healthy_answers());
    let error = hook.handle(codedeploy_event(), MINUTES).await.unwrap_err().to_string();
    assert_eq!(throttled.num_calls(), 3, "bounded by the retry policy");
    assert!(
        error.starts_with(
            "CodeDeploy refused PutLifecycleEventHookExecutionStatus (Succeeded for hook exec-1 of deployment d-ABC): \
             ThrottlingException"
        ),
        "{error}"
    );
    assert_eq!(audit.num_calls(), 1, "the failure to report is audited too");
}

#[tokio::test(start_paused = true)]
async fn a_hook_codedeploy_completed_already_is_not_an_error() {
    let (listen, targets) = healthy_look();
    let done = mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
        .then_error(code("LifecycleEventAlreadyCompletedException"));
    let again = put_already_claimed("hook#d-ABC#exec-1");
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[&done],
        dynamodb: &[&again],
    };
    let (hook, _) = make_hook(mocks, healthy_answers());
    let answer = hook.handle(codedeploy_event(), MINUTES).await.unwrap();
    assert_eq!(answer["status"], "Succeeded");
    assert_eq!((done.num_calls(), again.num_calls()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_malformed_event_makes_no_call_and_fails_the_invocation() {
    let mocks = Mocks {
        elb: &[],
        codedeploy: &[],
        dynamodb: &[],
    };
    let (hook, _) = make_hook(mocks, Answers::default());
    let error = hook.handle(json!({"Records": []}), MINUTES).await.unwrap_err();
    assert!(matches!(error, HookError::Event(EventError::Unreadable(_))), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_missing_listener_is_watched_then_reported_failed_naming_it() {
    let gone = || {
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_listeners).then_error(|| {
            aws_sdk_elasticloadbalancingv2::operation::describe_listeners::DescribeListenersError::generic(
                ErrorMetadata::builder()
                    .code("ListenerNotFound")
                    .message("One or more listeners not found")
                    .build(),
            )
        })
    };
    let rules: Vec<Rule> = (0..12).map(|_| gone()).collect();
    let elb: Vec<&Rule> = rules.iter().collect();
    let (reported, audit) = (report("Failed"), audited("Failed"));
    let mocks = Mocks {
        elb: &elb,
        codedeploy: &[&reported],
        dynamodb: &[&audit],
    };
    let (hook, _) = make_hook(mocks, Answers::default());
    let answer = hook.handle(codedeploy_event(), MINUTES).await.unwrap();
    let reason = answer["reason"].as_str().unwrap();
    assert!(
        reason.ends_with(&format!(
            "could not read the test listener {LISTENER}: ListenerNotFound: One or more listeners not found"
        )),
        "{reason}"
    );
}

mod ecs;
