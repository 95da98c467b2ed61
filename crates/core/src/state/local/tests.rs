//! The suites' reads and removals against mocked DynamoDB: the keys they
//! remove and the partitions they read.

use super::super::{FailoverStep, ReleaseState, StateTable};
use super::*;
use crate::test_support::mock_client;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_smithy_mocks::mock;

const TABLE: &str = "tandem-local-state";

fn release(id: &str, started_at: u64) -> ReleaseRecord {
    ReleaseRecord {
        release_id: id.into(),
        region: "us-east-1".into(),
        image: "e2e".into(),
        task_definition: "arn:td:9".into(),
        previous_task_definition: None,
        deployment_id: Some("d-E2E".into()),
        state: ReleaseState::InProgress,
        started_at,
        finished_at: None,
        reason: None,
    }
}

#[tokio::test]
async fn releases_are_read_from_the_regions_partition() {
    let items = vec![release("e2e-1", 10).to_item(), release("e2e-2", 11).to_item()];
    let query = mock!(Client::query)
        .match_requests(|i| {
            i.key_condition_expression() == Some("pk = :pk")
                && i.expression_attribute_values().unwrap()[":pk"].as_s().unwrap() == "release#us-east-1"
                && i.consistent_read() == Some(true)
        })
        .then_output(move || QueryOutput::builder().set_items(Some(items.clone())).build());
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&query]), TABLE);
    let found = table.releases("us-east-1").await.unwrap();
    assert_eq!(found, vec![release("e2e-1", 10), release("e2e-2", 11)]);
}

#[tokio::test]
async fn a_release_is_removed_by_its_own_key() {
    let delete = mock!(Client::delete_item)
        .match_requests(|i| {
            let key = i.key().unwrap();
            key["pk"].as_s().unwrap() == "release#us-east-1" && key["sk"].as_s().unwrap() == "0000000000010#e2e-1"
        })
        .then_output(|| DeleteItemOutput::builder().build());
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&delete]), TABLE);
    table.remove_release(&release("e2e-1", 10)).await.unwrap();
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn failover_locks_are_listed_and_removed_by_version() {
    let lock = FailoverLock {
        version: 7,
        region: "us-east-2".into(),
        holder: "req-1".into(),
        lease_until: 100,
        step: FailoverStep::Failed,
        reason: "drill".into(),
        forced: false,
        started_at: 1,
        updated_at: 2,
        error: Some("could not promote".into()),
    };
    let item = lock.to_item();
    let query = mock!(Client::query)
        .match_requests(|i| {
            let values = i.expression_attribute_values().unwrap();
            values[":pk"].as_s().unwrap() == "failover" && values[":prefix"].as_s().unwrap() == "lock#"
        })
        .then_output(move || QueryOutput::builder().items(item.clone()).build());
    let delete = mock!(Client::delete_item)
        .match_requests(|i| i.key().unwrap()["sk"].as_s().unwrap() == "lock#0000000000007")
        .then_output(|| DeleteItemOutput::builder().build());
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&query, &delete]), TABLE);
    let locks = table.failover_locks().await.unwrap();
    assert_eq!(locks, vec![lock]);
    table.remove_failover_lock(locks[0].version).await.unwrap();
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn an_unreadable_release_names_the_table() {
    let mut item = release("e2e-1", 10).to_item();
    item.remove("image");
    let query = mock!(Client::query).then_output(move || QueryOutput::builder().items(item.clone()).build());
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&query]), TABLE);
    let error = table.releases("us-east-1").await.unwrap_err().to_string();
    assert!(error.contains("tandem-local-state holds an unreadable release record: attribute `image` is missing"));
}
