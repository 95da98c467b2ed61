//! The shell against mocked CodeDeploy, DynamoDB and SNS (CodeDeploy is in
//! no emulator): what it calls for each plan, in order, and what it audits.

use super::*;
use crate::decide::{Engine, Scope};
use aws_sdk_codedeploy::operation::create_deployment::CreateDeploymentOutput;
use aws_sdk_codedeploy::operation::stop_deployment::{StopDeploymentError, StopDeploymentOutput};
use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use tandem_core::state::ReleaseRecord;
use tandem_testing::mock_client;
use tandem_testing::state::{put_already_claimed, put_claimed, query_release, update_matching};

pub(super) fn settings(dry_run: bool) -> Settings {
    settings_for(
        Engine::CodeDeploy {
            application: "tandem-dev".into(),
            group: "tandem-dev-app".into(),
        },
        dry_run,
    )
}

/// The settings of `engine`'s function in us-east-1.
pub(super) fn settings_for(engine: Engine, dry_run: bool) -> Settings {
    Settings {
        scope: Scope {
            region: "us-east-1".into(),
            alarm_prefix: "tandem-dev-".into(),
            engine,
            bake_window_secs: 1800,
        },
        topic_arn: "arn:aws:sns:us-east-1:1:tandem-dev-ops".into(),
        dry_run,
        hook_function: "tandem-dev-deploy-hook".into(),
        container_name: "app".into(),
        container_port: 8080,
        state_table: "tandem-dev-state".into(),
    }
}

pub(super) fn alarm_event() -> Value {
    serde_json::json!({
        "version": "0", "id": "1", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": "1", "time": "2026-11-27T19:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"alarmName": "tandem-dev-5xx-rate",
                   "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2026-11-27T19:00:00.000+0000"}}
    })
}

/// The region's last release: `state`, finished `ago` seconds ago.
fn last_release(state: ReleaseState, ago: u64) -> Rule {
    last_release_of("d-1", state, ago)
}

/// The region's last release, of deployment `deployment_id`: `state`,
/// finished `ago` seconds ago.
pub(super) fn last_release_of(deployment_id: &'static str, state: ReleaseState, ago: u64) -> Rule {
    let now = unix_now();
    query_release(&ReleaseRecord {
        release_id: "req-1".into(),
        region: "us-east-1".into(),
        image: "v2".into(),
        task_definition: "arn:td:7".into(),
        previous_task_definition: Some("arn:td:6".into()),
        deployment_id: Some(deployment_id.into()),
        state,
        started_at: now - ago - 60,
        finished_at: Some(now - ago),
        reason: None,
    })
}

pub(super) fn published(needle: &'static str) -> Rule {
    mock!(aws_sdk_sns::Client::publish)
        .match_requests(move |i| {
            // Marked as tandem's own, so the function ignores it when it comes back.
            let own = i.message_attributes().unwrap()["tandem-source"].string_value();
            i.subject().unwrap().contains(needle) && own == Some("rollback")
        })
        .then_output(|| PublishOutput::builder().build())
}

fn stopped() -> Rule {
    mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|i| i.deployment_id() == Some("d-1") && i.auto_rollback_enabled() == Some(true))
        .then_output(|| StopDeploymentOutput::builder().build())
}

/// The CodeDeploy function, with no ECS call expected.
fn rollback(codedeploy: &[&Rule], dynamodb: &[&Rule], sns: &[&Rule], dry_run: bool) -> Rollback {
    with_clients(codedeploy, &[], dynamodb, sns, settings(dry_run))
}

/// The function with `settings`, its clients answered by these rules (and
/// failing on any other call).
pub(super) fn with_clients(
    codedeploy: &[&Rule],
    ecs: &[&Rule],
    dynamodb: &[&Rule],
    sns: &[&Rule],
    settings: Settings,
) -> Rollback {
    let retried = |attempts| RetryConfig::standard().with_max_attempts(attempts);
    Rollback {
        codedeploy: mock_client!(aws_sdk_codedeploy, codedeploy.iter().copied(), |b| b
            .retry_config(retried(3))),
        ecs: mock_client!(aws_sdk_ecs, ecs.iter().copied(), |b| b.retry_config(retried(3))),
        sns: mock_client!(aws_sdk_sns, sns.iter().copied()),
        table: StateTable::new(
            mock_client!(aws_sdk_dynamodb, dynamodb.iter().copied()),
            "tandem-dev-state",
        ),
        settings,
    }
}

pub(super) fn used(rules: &[&Rule]) {
    for (i, rule) in rules.iter().enumerate() {
        assert_eq!(rule.num_calls(), 1, "rule {i}");
    }
}

pub(super) const EVENT_SK: &str = "rollback#alarm#tandem-dev-5xx-rate#Alarm#2026-11-27T19:00:00.000+0000";

#[tokio::test]
async fn an_alarm_during_a_release_stops_it_once_and_records_everything() {
    let cd = [&stopped()];
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed("rollback#stop#d-1"),
        &update_matching("failed"),
        &update_matching("stopped deployment d-1"),
        &update_matching("stopped deployment d-1"),
    ];
    let sns = [&published("StopDeployment")];
    let out = rollback(&cd, &db, &sns, false).handle(&alarm_event()).await.unwrap();
    assert_eq!(out["decision"], "StopDeployment");
    used(&[&cd[..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn an_alarm_in_the_bake_window_deploys_the_previous_task_definition() {
    let create = mock!(aws_sdk_codedeploy::Client::create_deployment)
        .match_requests(|i| {
            let text = i.revision().unwrap().app_spec_content().unwrap().content().unwrap();
            i.deployment_group_name() == Some("tandem-dev-app")
                && text.contains("arn:td:6")
                && !text.contains("arn:td:7")
        })
        .then_output(|| CreateDeploymentOutput::builder().deployment_id("d-2").build());
    let db = [
        &last_release(ReleaseState::Succeeded, 300),
        &put_claimed(EVENT_SK),
        &put_claimed("rollback#redeploy#req-1"),
        &update_matching("rolled-back"),
        &update_matching("started deployment d-2"),
        &update_matching("started deployment d-2"),
    ];
    let sns = [&published("RedeployPrevious")];
    let out = rollback(&[&create], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap();
    assert_eq!(out["decision"], "RedeployPrevious");
    used(&[&[&create][..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn a_second_alarm_of_the_same_incident_acts_no_more() {
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_already_claimed("rollback#stop#d-1"),
        &update_matching("acted on already"),
    ];
    let sns = [&published("StopDeployment")];
    let out = rollback(&[], &db, &sns, false).handle(&alarm_event()).await.unwrap();
    assert!(
        out["outcome"].as_str().unwrap().contains("one action per incident"),
        "{out}"
    );
    used(&[&db[..], &sns[..]].concat());
}

#[tokio::test]
async fn the_same_event_delivered_twice_is_handled_once() {
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_already_claimed(EVENT_SK),
    ];
    let out = rollback(&[], &db, &[], false).handle(&alarm_event()).await.unwrap();
    assert_eq!(out["decision"], "AlreadyHandled");
    used(&db);
}

#[tokio::test(start_paused = true)]
async fn a_throttled_stop_is_retried_then_succeeds() {
    let flaky = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .sequence()
        .error(|| StopDeploymentError::generic(ErrorMetadata::builder().code("ThrottlingException").build()))
        .times(2)
        .output(|| StopDeploymentOutput::builder().build())
        .build();
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed("rollback#stop#d-1"),
        &update_matching("failed"),
        &update_matching("stopped"),
        &update_matching("stopped"),
    ];
    let sns = [&published("StopDeployment")];
    rollback(&[&flaky], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap();
    assert_eq!(flaky.num_calls(), 3, "two throttled attempts, then the stop");
}

#[tokio::test(start_paused = true)]
async fn a_permanent_error_is_audited_published_and_returned() {
    let denied = mock!(aws_sdk_codedeploy::Client::stop_deployment).then_error(|| {
        StopDeploymentError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized")
                .build(),
        )
    });
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed("rollback#stop#d-1"),
        &update_matching("not retried automatically"),
        &update_matching("failed: CodeDeploy StopDeployment of d-1 failed"),
    ];
    let sns = [&published("StopDeployment")];
    let err = rollback(&[&denied], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("CodeDeploy StopDeployment of d-1 failed (AccessDeniedException: not authorized)"),
        "{err}"
    );
    used(&[&[&denied][..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn dry_run_audits_the_plan_and_acts_on_nothing() {
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &update_matching("DRY_RUN: nothing was done"),
    ];
    let sns = [&published("StopDeployment")];
    let out = rollback(&[], &db, &sns, true).handle(&alarm_event()).await.unwrap();
    assert_eq!(out["decision"], "StopDeployment");
    used(&[&db[..], &sns[..]].concat());
}

#[tokio::test]
async fn a_bad_event_is_refused_before_any_call() {
    let err = rollback(&[], &[], &[], false)
        .handle(&serde_json::json!({"hello": "world"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("none of the shapes this function takes"), "{err}");
}

#[tokio::test]
async fn a_deployment_that_already_ended_counts_as_stopped() {
    let ended = mock!(aws_sdk_codedeploy::Client::stop_deployment).then_error(|| {
        StopDeploymentError::generic(
            ErrorMetadata::builder()
                .code("DeploymentAlreadyCompletedException")
                .build(),
        )
    });
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed("rollback#stop#d-1"),
        &update_matching("failed"),
        &update_matching("stopped deployment d-1"),
        &update_matching("stopped deployment d-1"),
    ];
    let sns = [&published("StopDeployment")];
    let out = rollback(&[&ended], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap();
    assert!(
        out["outcome"].as_str().unwrap().starts_with("stopped deployment d-1"),
        "{out}"
    );
    used(&[&[&ended][..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn this_regions_failed_deployment_marks_its_release_failed() {
    let event = serde_json::json!({
        "version": "0", "id": "2", "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy", "account": "1", "time": "2026-11-27T19:03:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {"region": "us-east-1", "deploymentId": "d-1", "deploymentGroup": "tandem-dev-app",
                   "state": "FAILURE", "application": "tandem-dev"}
    });
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed("rollback#deployment#us-east-1#d-1#Failure"),
        &put_claimed("rollback#mark-failed#req-1"),
        &update_matching("failed"),
        &update_matching("recorded the release of v2 as failed"),
        &update_matching("recorded the release of v2 as failed"),
    ];
    let sns = [&published("MarkFailed")];
    let out = rollback(&[], &db, &sns, false).handle(&event).await.unwrap();
    assert_eq!(out["decision"], "MarkFailed");
    used(&[&db[..], &sns[..]].concat());
}

#[tokio::test]
async fn its_own_notification_coming_back_is_ignored_without_a_call() {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/rollback-alarm-sns.json"
        ))
        .unwrap(),
    )
    .unwrap();
    event["Records"][0]["Sns"]["Message"] = "tandem rollback in us-east-1: StopDeployment".into();
    event["Records"][0]["Sns"]["MessageAttributes"] =
        serde_json::json!({"tandem-source": {"Type": "String", "Value": "rollback"}});
    let out = rollback(&[], &[], &[], false).handle(&event).await.unwrap();
    assert_eq!(out["decision"], "Ignore");
}

#[test]
fn an_ok_and_an_alarm_at_the_same_instant_are_two_events() {
    let change = |state| {
        Incoming::Alarm(crate::event::AlarmChange {
            name: "tandem-dev-5xx-rate".into(),
            state,
            reason: String::new(),
            changed_at: "2026-11-27T20:54:25Z".into(),
        })
    };
    let ok = event_key(&change(crate::event::AlarmState::Ok));
    let alarm = event_key(&change(crate::event::AlarmState::Alarm));
    assert_ne!(
        ok, alarm,
        "the OK must not swallow the ALARM that follows it in the same second"
    );
}

#[tokio::test]
async fn the_codedeploy_function_ignores_ecs_events_without_a_call() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/rollback-ecs-deployment-failed.json"
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    event["resources"][0] = "arn:aws:ecs:us-east-1:1:service/tandem-dev/tandem-dev-app".into();
    let db = [
        &last_release(ReleaseState::InProgress, 0),
        &put_claimed("rollback#deployment#us-east-1#ecs-svc/4627941837266483721#Failure"),
        &update_matching("nothing to act on"),
    ];
    let codedeploy = rollback(&[], &db, &[], false);
    let out = codedeploy.handle(&event).await.unwrap();
    assert_eq!(out["decision"], "Ignore");
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("is of ECS service tandem-dev/tandem-dev-app, not this service's tandem-dev/tandem-dev-app"),
        "{out}"
    );
    used(&db);
}
