//! The answer to a waiting release against mocked DynamoDB and ECS in both
//! regions: each rule list is the exact sequence of calls expected of that
//! client (an unexpected call panics), and every rule must be used.

use super::*;
use aws_sdk_dynamodb::Client as Ddb;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_ecs::Client as Ecs;
use aws_sdk_ecs::operation::continue_service_deployment::{
    ContinueServiceDeploymentError, ContinueServiceDeploymentOutput,
};
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::types::{
    DeploymentLifecycleHookDetail, DeploymentLifecycleHookStatus, DeploymentLifecycleHookTargetType, ServiceDeployment,
};
use aws_smithy_mocks::Rule;
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use tandem_core::state::{ReleaseRecord, ReleaseState};
use tandem_testing::state::{put_already_claimed, put_claimed, query_release, update_matching};
use tandem_testing::{mock, mock_client};

const ARN: &str = "arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF";
const ARN2: &str = "arn:aws:ecs:us-east-2:1:service-deployment/tandem-dev/tandem-dev-app/Zk2m0Qp";
const WHO: &str = "arn:aws:sts::1:assumed-role/tandem-dev-release/me";

fn record(region: &str, state: ReleaseState, deployment: Option<&str>) -> ReleaseRecord {
    ReleaseRecord {
        release_id: "r-2".into(),
        region: region.into(),
        image: "v2".into(),
        task_definition: "arn:task-definition/tandem-dev-app:8".into(),
        previous_task_definition: Some("arn:task-definition/tandem-dev-app:7".into()),
        deployment_id: deployment.map(str::to_owned),
        state,
        started_at: 1_795_680_000,
        finished_at: None,
        reason: None,
    }
}

fn no_release() -> Rule {
    mock!(Ddb::query).then_output(|| QueryOutput::builder().build())
}

/// DescribeServiceDeployments of `arn`: its hooks, as (id, target type, status).
fn described(arn: &'static str, hooks: &'static [(&'static str, &'static str, &'static str)]) -> Rule {
    mock!(Ecs::describe_service_deployments)
        .match_requests(move |i| i.service_deployment_arns() == [arn])
        .then_output(move || {
            let mut deployment = ServiceDeployment::builder().service_deployment_arn(arn);
            for (id, target, status) in hooks {
                deployment = deployment.lifecycle_hook_details(
                    DeploymentLifecycleHookDetail::builder()
                        .hook_id(*id)
                        .target_type(DeploymentLifecycleHookTargetType::from(*target))
                        .status(DeploymentLifecycleHookStatus::from(*status))
                        .expires_at(DateTime::from_secs(1_795_681_200))
                        .build(),
                );
            }
            DescribeServiceDeploymentsOutput::builder()
                .service_deployments(deployment.build())
                .build()
        })
}

/// ContinueServiceDeployment of `arn`'s hook `hook` with `action`.
fn continued(arn: &'static str, hook: &'static str, action: &'static str) -> Rule {
    mock!(Ecs::continue_service_deployment)
        .match_requests(move |i| {
            i.service_deployment_arn() == Some(arn)
                && i.hook_id() == Some(hook)
                && i.action().map(|a| a.as_str()) == Some(action)
        })
        .then_output(move || {
            ContinueServiceDeploymentOutput::builder()
                .service_deployment_arn(arn)
                .build()
        })
}

/// The claim of the answer, checked for who, why and what is sent.
fn claimed(hook: &'static str, reason: impl Into<String>, action: &'static str) -> Rule {
    let reason = reason.into();
    mock!(Ddb::put_item)
        .match_requests(move |i| {
            let item = i.item().unwrap();
            let text = |k: &str| item[k].as_s().unwrap().clone();
            text("sk") == format!("release#r-2#approval#{hook}")
                && text("reason") == reason
                && text("action").starts_with(&format!("ContinueServiceDeployment {action} of hook {hook}"))
                && text("outcome") == "sending"
        })
        .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build())
}

struct Region {
    ddb: Vec<Rule>,
    ecs: Vec<Rule>,
}

/// Answers through both regions' mocked clients; checks every rule was used once.
async fn answer_with(answer: Answer, reason: &str, primary: Region, standby: Region) -> Result<Send, ApprovalError> {
    answer_in(ReleaseEngine::Ecs, true, answer, reason, primary, standby).await
}

async fn answer_in(
    engine: ReleaseEngine,
    approval: bool,
    answer: Answer,
    reason: &str,
    primary: Region,
    standby: Region,
) -> Result<Send, ApprovalError> {
    let (ddb1, ecs1) = (
        mock_client!(aws_sdk_dynamodb, primary.ddb.iter()),
        mock_client!(aws_sdk_ecs, primary.ecs.iter()),
    );
    let (ddb2, ecs2) = (
        mock_client!(aws_sdk_dynamodb, standby.ddb.iter()),
        mock_client!(aws_sdk_ecs, standby.ecs.iter()),
    );
    let sides = [
        Side {
            region: "us-east-1",
            role: "primary",
            clients: Ok((StateTable::new(ddb1, "tandem-dev-state"), &ecs1)),
        },
        Side {
            region: "us-east-2",
            role: "standby",
            clients: Ok((StateTable::new(ddb2, "tandem-dev-state"), &ecs2)),
        },
    ];
    let ask = Ask {
        env: "dev",
        engine,
        approval,
        answer,
        reason,
        who: WHO,
    };
    let result = answer_waiting(&ask, &sides).await;
    for (n, rule) in [primary, standby]
        .iter()
        .flat_map(|r| r.ddb.iter().chain(r.ecs.iter()))
        .enumerate()
    {
        assert_eq!(rule.num_calls(), 1, "rule {n} answered once");
    }
    result
}

const PAUSED: &[(&str, &str, &str)] = &[
    ("lambda-1", "AWS_LAMBDA", "SUCCEEDED"),
    ("pause-1", "PAUSE", "AWAITING_ACTION"),
];

#[tokio::test]
async fn approve_sends_continue_for_the_paused_hook_in_the_primary_and_records_it() {
    let primary = Region {
        ddb: vec![
            query_release(&record("us-east-1", ReleaseState::InProgress, Some(ARN))),
            claimed(
                "pause-1",
                format!("approved by {WHO}: {}", decide::DEFAULT_APPROVE_REASON),
                "CONTINUE",
            ),
            update_matching("sent"),
        ],
        ecs: vec![described(ARN, PAUSED), continued(ARN, "pause-1", "CONTINUE")],
    };
    let standby = Region {
        ddb: vec![query_release(&record("us-east-2", ReleaseState::Succeeded, Some(ARN2)))],
        ecs: vec![],
    };
    let send = answer_with(Answer::Approve, decide::DEFAULT_APPROVE_REASON, primary, standby)
        .await
        .unwrap();
    assert_eq!((send.region.as_str(), send.hook_id.as_str()), ("us-east-1", "pause-1"));
}

#[tokio::test]
async fn reject_sends_rollback_to_the_standby_when_it_is_the_one_paused() {
    let primary = Region {
        ddb: vec![query_release(&record("us-east-1", ReleaseState::Succeeded, Some(ARN)))],
        ecs: vec![],
    };
    let standby = Region {
        ddb: vec![
            query_release(&record("us-east-2", ReleaseState::InProgress, Some(ARN2))),
            claimed(
                "pause-2",
                "rejected by arn:aws:sts::1:assumed-role/tandem-dev-release/me: /db is slow",
                "ROLLBACK",
            ),
            update_matching("sent"),
        ],
        ecs: vec![
            described(ARN2, &[("pause-2", "PAUSE", "AWAITING_ACTION")]),
            continued(ARN2, "pause-2", "ROLLBACK"),
        ],
    };
    let send = answer_with(Answer::Reject, "/db is slow", primary, standby)
        .await
        .unwrap();
    assert_eq!((send.region.as_str(), send.arn.as_str()), ("us-east-2", ARN2));
}

#[tokio::test]
async fn nothing_waiting_sends_nothing_and_says_what_each_region_last_released() {
    let primary = Region {
        ddb: vec![query_release(&record("us-east-1", ReleaseState::InProgress, Some(ARN)))],
        ecs: vec![described(ARN, &[("pause-1", "PAUSE", "SUCCEEDED")])],
    };
    let standby = Region {
        ddb: vec![no_release()],
        ecs: vec![],
    };
    let e = answer_with(Answer::Approve, "ok", primary, standby)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "nothing in env dev waits for approval, so nothing was sent: us-east-1 (primary): release r-2 of v2 is \
             in-progress under service deployment {ARN}, with no pause hook awaiting action; us-east-2 (standby): no \
             release yet; a release waits once its test traffic checks pass (tandem status shows it)"
        )
    );
}

#[tokio::test]
async fn a_refused_call_is_one_audited_sentence_naming_the_region_the_arn_and_the_fix() {
    let refusal = mock!(Ecs::continue_service_deployment).then_error(|| {
        ContinueServiceDeploymentError::generic(
            ErrorMetadata::builder()
                .code("InvalidAction")
                .message("Unknown ECS action: ContinueServiceDeployment")
                .build(),
        )
    });
    let primary = Region {
        ddb: vec![
            query_release(&record("us-east-1", ReleaseState::InProgress, Some(ARN))),
            put_claimed("release#r-2#approval#pause-1"),
            update_matching("failed: ECS refused ContinueServiceDeployment"),
        ],
        ecs: vec![described(ARN, PAUSED), refusal],
    };
    let standby = Region {
        ddb: vec![no_release()],
        ecs: vec![],
    };
    let e = answer_with(Answer::Approve, "ok", primary, standby).await.unwrap_err();
    let ApprovalError::Refused(sentence) = &e else {
        panic!("{e:?}")
    };
    assert!(
        sentence.starts_with(&format!(
            "ECS refused ContinueServiceDeployment (CONTINUE of hook pause-1) for service deployment {ARN} in us-east-1"
        )),
        "{sentence}"
    );
    assert!(sentence.contains("Unknown ECS action"), "{sentence}");
    assert!(
        sentence.ends_with("approve on AWS, or let the pause time out, which rolls back"),
        "{sentence}"
    );
    assert!(!sentence.contains('\n'), "{sentence}");
}

#[tokio::test]
async fn an_answer_already_recorded_is_not_sent_again() {
    let primary = Region {
        ddb: vec![
            query_release(&record("us-east-1", ReleaseState::InProgress, Some(ARN))),
            put_already_claimed("release#r-2#approval#pause-1"),
        ],
        ecs: vec![described(ARN, PAUSED)],
    };
    let standby = Region {
        ddb: vec![no_release()],
        ecs: vec![],
    };
    let e = answer_with(Answer::Reject, "broken", primary, standby)
        .await
        .unwrap_err();
    assert!(matches!(e, ApprovalError::AlreadyAnswered { .. }), "{e:?}");
    assert!(e.to_string().contains("tandem audit --env dev --kind release"), "{e}");
}

#[tokio::test]
async fn codedeploy_and_approval_off_make_no_call() {
    for (engine, approval, want) in [
        (ReleaseEngine::CodeDeploy, true, "approval is an ECS-engine feature"),
        (ReleaseEngine::Ecs, false, "approval is off in env dev"),
    ] {
        let none = || Region {
            ddb: vec![],
            ecs: vec![],
        };
        let e = answer_in(engine, approval, Answer::Approve, "ok", none(), none())
            .await
            .unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
}

#[tokio::test]
async fn an_unreachable_primary_is_named_and_the_standby_still_read() {
    let ddb = mock_client!(aws_sdk_dynamodb, [&no_release()]);
    let ecs = mock_client!(aws_sdk_ecs, Vec::<&Rule>::new());
    let sides = [
        Side {
            region: "us-east-1",
            role: "primary",
            clients: Err("its state table did not answer within 3 s".into()),
        },
        Side {
            region: "us-east-2",
            role: "standby",
            clients: Ok((StateTable::new(ddb, "tandem-dev-state"), &ecs)),
        },
    ];
    let ask = Ask {
        env: "dev",
        engine: ReleaseEngine::Ecs,
        approval: true,
        answer: Answer::Approve,
        reason: "ok",
        who: WHO,
    };
    let e = answer_waiting(&ask, &sides).await.unwrap_err().to_string();
    assert!(
        e.contains(
            "us-east-1 (primary): could not be read (its state table did not answer within 3 s); us-east-2 (standby): \
             no release yet"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_service_deployment_ecs_does_not_describe_is_named() {
    let ecs =
        mock_client!(
            aws_sdk_ecs,
            [&mock!(Ecs::describe_service_deployments)
                .then_output(|| DescribeServiceDeploymentsOutput::builder().build())]
        );
    let e = hooks_of(&ecs, ARN).await.unwrap_err();
    assert_eq!(
        e,
        format!("ECS does not describe service deployment {ARN}: it answered none")
    );
}
