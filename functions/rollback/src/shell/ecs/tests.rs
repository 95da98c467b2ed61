//! The shell under the ECS engine against mocked ECS, DynamoDB and SNS:
//! what it sends for each plan, in order, what it audits, and how it fails.
//! Every client fails on a call it has no rule for, so a test with no
//! CodeDeploy rules proves no CodeDeploy call, and the reverse.

use crate::decide::Engine;
use crate::shell::tests::{EVENT_SK, alarm_event, last_release_of, published, settings_for, used, with_clients};
use crate::shell::{Rollback, RollbackError};
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::operation::stop_service_deployment::{StopServiceDeploymentError, StopServiceDeploymentOutput};
use aws_sdk_ecs::operation::update_service::{UpdateServiceError, UpdateServiceOutput};
use aws_sdk_ecs::types::{
    Deployment, Service, ServiceDeployment, ServiceDeploymentStatus, StopServiceDeploymentStopType,
};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use serde_json::Value;
use tandem_core::event_fn::diagnostic;
use tandem_core::state::ReleaseState;
use tandem_testing::state::{put_already_claimed, put_claimed, update_matching};

/// This region's service deployment, as the release records it.
const ARN: &str = "arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF";
/// The one an `UpdateService` starts.
const NEW_ARN: &str = "arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/NCWGC2ZR";

fn ecs_function(ecs: &[&Rule], dynamodb: &[&Rule], sns: &[&Rule], dry_run: bool) -> Rollback {
    let engine = Engine::Ecs {
        cluster: "tandem-dev".into(),
        service: "tandem-dev-app".into(),
    };
    with_clients(&[], ecs, dynamodb, sns, settings_for(engine, dry_run))
}

/// `StopServiceDeployment` of [`ARN`] with `ROLLBACK`, and nothing else.
fn stop_of_arn() -> aws_smithy_mocks::RuleBuilder<
    aws_sdk_ecs::operation::stop_service_deployment::StopServiceDeploymentInput,
    StopServiceDeploymentOutput,
    StopServiceDeploymentError,
> {
    mock!(aws_sdk_ecs::Client::stop_service_deployment).match_requests(|i| {
        i.service_deployment_arn() == Some(ARN) && i.stop_type() == Some(&StopServiceDeploymentStopType::Rollback)
    })
}

fn stopped() -> Rule {
    stop_of_arn().then_output(|| {
        StopServiceDeploymentOutput::builder()
            .service_deployment_arn(ARN)
            .build()
    })
}

fn conflict() -> Rule {
    stop_of_arn().then_error(|| {
        StopServiceDeploymentError::generic(
            ErrorMetadata::builder()
                .code("ConflictException")
                .message("The service deployment cannot be stopped")
                .build(),
        )
    })
}

/// `DescribeServiceDeployments` of [`ARN`], which is `status`.
fn described(status: ServiceDeploymentStatus) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .match_requests(|i| i.service_deployment_arns() == [ARN])
        .then_output(move || {
            let deployment = ServiceDeployment::builder()
                .service_deployment_arn(ARN)
                .status(status.clone())
                .build();
            DescribeServiceDeploymentsOutput::builder()
                .service_deployments(deployment)
                .build()
        })
}

fn outcome(out: &Value) -> &str {
    out["outcome"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_alarm_during_a_release_stops_its_service_deployment_with_rollback() {
    let ecs = [&stopped()];
    let db = [
        &last_release_of(ARN, ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed(format!("rollback#stop#{ARN}")),
        &update_matching("failed"),
        &update_matching("stopped service deployment"),
        &update_matching("stopped service deployment"),
    ];
    let sns = [&published("StopServiceDeployment")];
    let out = ecs_function(&ecs, &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap();
    assert_eq!(out["decision"], "StopServiceDeployment");
    assert_eq!(
        outcome(&out),
        format!("stopped service deployment {ARN} with ROLLBACK; ECS returns traffic to the previous service revision")
    );
    assert!(out["reason"].as_str().unwrap().contains("tandem-dev-5xx-rate"), "{out}");
    used(&[&ecs[..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn a_service_deployment_that_already_ended_counts_as_stopped() {
    let (refused, ended) = (conflict(), described(ServiceDeploymentStatus::RollbackSuccessful));
    let ecs = [&refused, &ended];
    let db = [
        &last_release_of(ARN, ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed(format!("rollback#stop#{ARN}")),
        &update_matching("failed"),
        &update_matching("had already ended (ROLLBACK_SUCCESSFUL)"),
        &update_matching("had already ended (ROLLBACK_SUCCESSFUL)"),
    ];
    let sns = [&published("StopServiceDeployment")];
    let out = ecs_function(&ecs, &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap();
    assert_eq!(
        outcome(&out),
        format!("service deployment {ARN} had already ended (ROLLBACK_SUCCESSFUL): nothing left to stop")
    );
    used(&[&ecs[..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn a_conflict_on_a_deployment_still_running_is_a_failure() {
    let (refused, running) = (conflict(), described(ServiceDeploymentStatus::InProgress));
    let ecs = [&refused, &running];
    let db = [
        &last_release_of(ARN, ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed(format!("rollback#stop#{ARN}")),
        &update_matching("not retried automatically"),
        &update_matching("failed: ECS StopServiceDeployment of"),
    ];
    let sns = [&published("StopServiceDeployment")];
    let err = ecs_function(&ecs, &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(ConflictException: The service deployment cannot be stopped)"),
        "{err}"
    );
    used(&[&ecs[..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn the_local_aws_refusing_the_stop_is_one_audited_sentence_with_the_fix() {
    // What the local AWS answers: HTTP 400, InvalidAction, "Unknown ECS action".
    let refused = mock!(aws_sdk_ecs::Client::stop_service_deployment)
        .match_requests(|i| i.service_deployment_arn() == Some(ARN))
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type": "InvalidAction", "message": "Unknown ECS action: StopServiceDeployment"}"#.into()),
        )
        .build();
    let db = [
        &last_release_of(ARN, ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed(format!("rollback#stop#{ARN}")),
        &update_matching("failed: ECS StopServiceDeployment of"),
        &update_matching("failed: ECS StopServiceDeployment of"),
    ];
    let sns = [&published("StopServiceDeployment")];
    let err = ecs_function(&[&refused], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap_err();
    assert!(matches!(err, RollbackError::Action(_)));
    let failure = diagnostic(&err);
    assert_eq!(failure.error_type, "tandem.RollbackAction");
    assert_eq!(
        failure.error_message,
        format!(
            "ECS StopServiceDeployment of {ARN} was refused (InvalidAction: Unknown ECS action: StopServiceDeployment); \
             stop it by hand: in the ECS console (the service's Deployments, Roll back), or with \
             `aws ecs stop-service-deployment --service-deployment-arn {ARN} --stop-type ROLLBACK`"
        )
    );
    assert_eq!(
        refused.num_calls(),
        1,
        "a refusal is not retried, and nothing is described"
    );
    used(&[&db[..], &sns[..]].concat());
}

#[tokio::test]
async fn a_redelivered_alarm_and_the_forwarded_failure_act_once() {
    let ecs = [&stopped()];
    let forwarded_sk = "rollback#deployment#us-east-2#ecs-svc/1#Failure";
    let db = [
        // The alarm: decided, claimed, stopped.
        &last_release_of(ARN, ReleaseState::InProgress, 0),
        &put_claimed(EVENT_SK),
        &put_claimed(format!("rollback#stop#{ARN}")),
        &update_matching("failed"),
        &update_matching("stopped service deployment"),
        &update_matching("stopped service deployment"),
        // The same alarm again: its decision is there already.
        &last_release_of(ARN, ReleaseState::InProgress, 0),
        &put_already_claimed(EVENT_SK),
        // The other region's failure, of the same incident: claimed already.
        &last_release_of(ARN, ReleaseState::InProgress, 0),
        &put_claimed(forwarded_sk),
        &put_already_claimed(format!("rollback#stop#{ARN}")),
        &update_matching("acted on already"),
    ];
    let sns = [&published("StopServiceDeployment"), &published("StopServiceDeployment")];
    let function = ecs_function(&ecs, &db, &sns, false);
    let first = function.handle(&alarm_event()).await.unwrap();
    assert_eq!(first["decision"], "StopServiceDeployment");
    let again = function.handle(&alarm_event()).await.unwrap();
    assert_eq!(again["decision"], "AlreadyHandled");
    let forwarded = serde_json::json!({
        "version": "0", "id": "9", "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
        "account": "1", "time": "2099-01-01T00:00:00Z", "region": "us-east-2",
        "resources": ["arn:aws:ecs:us-east-2:1:service/tandem-dev/tandem-dev-app"],
        "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": "ecs-svc/1"}
    });
    let third = function.handle(&forwarded).await.unwrap();
    assert_eq!(third["decision"], "StopServiceDeployment");
    assert!(outcome(&third).contains("one action per incident"), "{third}");
    used(&[&ecs[..], &db[..], &sns[..]].concat());
}

fn updated(answer: fn() -> Service) -> Rule {
    mock!(aws_sdk_ecs::Client::update_service)
        .match_requests(|i| {
            i.cluster() == Some("tandem-dev")
                && i.service() == Some("tandem-dev-app")
                && i.task_definition() == Some("arn:td:6")
                && i.desired_count().is_none()
                && i.force_new_deployment().is_none()
        })
        .then_output(move || UpdateServiceOutput::builder().service(answer()).build())
}

/// The bake window's redeploy, as far as the audit: the rules before `UpdateService`.
fn redeploy_audited(done: &'static str) -> [Rule; 6] {
    [
        last_release_of(ARN, ReleaseState::Succeeded, 300),
        put_claimed(EVENT_SK),
        put_claimed("rollback#redeploy#req-1"),
        update_matching("rolled-back"),
        update_matching(done),
        update_matching(done),
    ]
}

#[tokio::test]
async fn an_alarm_in_the_bake_window_updates_the_service_to_the_previous_task_definition() {
    let update = updated(|| Service::builder().current_service_deployment(NEW_ARN).build());
    let db = redeploy_audited("updated service tandem-dev/tandem-dev-app to the previous task definition arn:td:6");
    let db: Vec<&Rule> = db.iter().collect();
    let sns = [&published("RedeployPrevious")];
    let out = ecs_function(&[&update], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap();
    assert_eq!(out["decision"], "RedeployPrevious");
    assert_eq!(
        outcome(&out),
        format!(
            "updated service tandem-dev/tandem-dev-app to the previous task definition arn:td:6; ECS deploys it in \
             service deployment {NEW_ARN}"
        )
    );
    let reason = out["reason"].as_str().unwrap();
    assert!(
        reason.contains("alarm tandem-dev-5xx-rate fired") && reason.contains("within the 1800 s bake window"),
        "why: {reason}"
    );
    used(&[&[&update][..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn a_rolling_service_names_its_primary_deployment_instead() {
    // The local AWS: no currentServiceDeployment, a PRIMARY rolling deployment.
    let update = updated(|| {
        let primary = Deployment::builder().id("ecs-svc/123").status("PRIMARY").build();
        let old = Deployment::builder().id("ecs-svc/99").status("ACTIVE").build();
        Service::builder().deployments(old).deployments(primary).build()
    });
    let db = redeploy_audited("ECS deploys it in deployment ecs-svc/123");
    let db: Vec<&Rule> = db.iter().collect();
    let sns = [&published("RedeployPrevious")];
    let out = ecs_function(&[&update], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap();
    assert!(
        outcome(&out).ends_with("ECS deploys it in deployment ecs-svc/123"),
        "{out}"
    );
    used(&[&[&update][..], &db[..], &sns[..]].concat());
}

#[tokio::test]
async fn a_refused_update_is_one_audited_sentence_with_the_fix() {
    let refused = mock!(aws_sdk_ecs::Client::update_service).then_error(|| {
        UpdateServiceError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform ecs:UpdateService")
                .build(),
        )
    });
    let db = [
        &last_release_of(ARN, ReleaseState::Succeeded, 300),
        &put_claimed(EVENT_SK),
        &put_claimed("rollback#redeploy#req-1"),
        &update_matching("not retried automatically"),
        &update_matching("failed: ECS UpdateService of"),
    ];
    let sns = [&published("RedeployPrevious")];
    let err = ecs_function(&[&refused], &db, &sns, false)
        .handle(&alarm_event())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "ECS UpdateService of tandem-dev/tandem-dev-app to the previous task definition arn:td:6 was refused \
         (AccessDeniedException: not authorized to perform ecs:UpdateService); deploy it by hand with \
         `aws ecs update-service --cluster tandem-dev --service tandem-dev-app --task-definition arn:td:6`"
    );
    used(&[&[&refused][..], &db[..], &sns[..]].concat());
}

/// The decision's `PutItem`, whose audited action is `action`.
fn decided(action: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |i| {
            let item = i.item().unwrap();
            let text = |key: &str| item.get(key).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            text("sk") == EVENT_SK && text("action") == action
        })
        .then_output(|| PutItemOutput::builder().build())
}

#[tokio::test]
async fn dry_run_audits_each_ecs_plan_and_calls_no_ecs() {
    for (state, action, name) in [
        (
            ReleaseState::InProgress,
            "would StopServiceDeployment (DRY_RUN)",
            "StopServiceDeployment",
        ),
        (
            ReleaseState::Succeeded,
            "would RedeployPrevious (DRY_RUN)",
            "RedeployPrevious",
        ),
    ] {
        let db = [
            &last_release_of(ARN, state, 300),
            &decided(action),
            &update_matching("DRY_RUN: nothing was done"),
        ];
        let sns = [&published(name)];
        let out = ecs_function(&[], &db, &sns, true).handle(&alarm_event()).await.unwrap();
        assert_eq!(out["decision"], name);
        assert_eq!(outcome(&out), "DRY_RUN: nothing was done");
        used(&[&db[..], &sns[..]].concat());
    }
}

#[test]
fn only_the_end_states_count_as_ended() {
    use ServiceDeploymentStatus as S;
    for status in [S::Successful, S::Stopped, S::RollbackSuccessful, S::RollbackFailed] {
        assert!(super::has_ended(&status), "{status:?}");
    }
    for status in [
        S::Pending,
        S::InProgress,
        S::StopRequested,
        S::RollbackRequested,
        S::RollbackInProgress,
        S::from("SOMETHING_NEW"),
    ] {
        assert!(!super::has_ended(&status), "{status:?}");
    }
}
