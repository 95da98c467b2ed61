//! A second delivery of one Create or Update request follows the first
//! delivery's release: no second task definition, no second deployment.

use super::duplicate::{WAIT_FOR_FIRST, follow_first};
use super::mocked::{LIVE, NEW, REGION, live_tagged, release_query, request, resource, service, used};
use super::props::fixture;
use super::*;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use std::time::Duration;
use tandem_testing::mock_client;

/// The claim of request `req-1`, which another delivery made already.
fn claimed_already() -> Rule {
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|i| format!("{:?}", i.item()).contains("req-1#start"))
        .then_error(|| {
            let meta = ErrorMetadata::builder()
                .code("ConditionalCheckFailedException")
                .message("The conditional request failed")
                .build();
            PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().meta(meta).build())
        })
}

/// The first delivery's release record of `req-1`.
fn first_delivery(state: &'static str, deployment: Option<&'static str>, reason: Option<&'static str>) -> Rule {
    release_query("req-1", state, deployment, reason)
}

#[tokio::test]
async fn a_second_delivery_follows_the_first_deployment_and_starts_none() {
    let ecs = [&service(LIVE, 2), &live_tagged(Some("fp-old".into()))];
    let db = [
        &claimed_already(),
        &first_delivery("in-progress", Some("d-FIRST"), None),
    ];
    // No CodeDeploy rule: a CreateDeployment would fail the test.
    let resource = resource(&ecs, &[], &db);
    let outcome = resource
        .update(&request("Update"), "tandem-dev/tandem-dev-app", fixture(), None)
        .await
        .unwrap();
    let Outcome::InProgress { state, physical_id, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        state["deployment_id"], "d-FIRST",
        "it follows the first delivery's deployment"
    );
    assert_eq!(state["task_definition"], NEW);
    assert_eq!(state["scaled_up"], false, "the first delivery owns scaling back");
    assert_eq!(physical_id.as_deref(), Some("tandem-dev/tandem-dev-app"));
    used(&[&ecs[..], &db[..]].concat());
}

#[tokio::test]
async fn a_second_delivery_answers_the_first_one_s_failure() {
    let db = [&first_delivery(
        "failed",
        None,
        Some("CodeDeploy refused the deployment"),
    )];
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, db), "tandem-dev-state");
    let e = follow_first(&table, &fixture(), REGION, "req-1", WAIT_FOR_FIRST)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "CodeDeploy refused the deployment");
}

#[tokio::test]
async fn a_first_delivery_that_never_deploys_is_not_waited_for_forever() {
    let db = [&first_delivery("in-progress", None, None)];
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, db), "tandem-dev-state");
    let e = follow_first(&table, &fixture(), REGION, "req-1", Duration::ZERO)
        .await
        .unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("another delivery of request req-1") && e.contains("release again"),
        "{e}"
    );
}
