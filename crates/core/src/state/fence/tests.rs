//! The fence records against mocked DynamoDB: epochs only grow, and one
//! query reads the roles and every fence, page by page.

use super::*;
use crate::test_support::mock_client;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;

const TABLE: &str = "tandem-dev-state";

fn fence(epoch: u64) -> FenceRecord {
    FenceRecord {
        region: "us-east-1".into(),
        epoch,
        by: "us-east-2".into(),
        reason: "the primary failed 3 probes".into(),
        at: 1_795_680_000,
    }
}

fn roles() -> RolesRecord {
    RolesRecord {
        primary: "us-east-2".into(),
        standby: "us-east-1".into(),
        updated_at: 9,
        epoch: 4,
        reason: None,
    }
}

#[test]
fn a_fence_round_trips_under_the_roles_partition() {
    let item = fence(3).to_item();
    assert_eq!(item["pk"].as_s().unwrap(), "region-roles");
    assert_eq!(item["sk"].as_s().unwrap(), "fence#us-east-1");
    assert_eq!(FenceRecord::from_item(&item).unwrap(), fence(3));
    let mut broken = item.clone();
    broken.remove("by");
    assert_eq!(
        FenceRecord::from_item(&broken).unwrap_err(),
        "attribute `by` is missing"
    );
}

#[tokio::test]
async fn a_fence_is_written_only_over_an_older_epoch() {
    let newer = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|i| {
            i.condition_expression() == Some("attribute_not_exists(pk) OR epoch < :epoch")
                && i.expression_attribute_values().unwrap()[":epoch"].as_n().unwrap() == "3"
        })
        .then_output(|| PutItemOutput::builder().build());
    let same = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        let meta = ErrorMetadata::builder().code("ConditionalCheckFailedException").build();
        PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().meta(meta).build())
    });
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&newer, &same]), TABLE);
    assert_eq!(table.put_fence(&fence(3)).await.unwrap(), Written::Done);
    assert_eq!(table.put_fence(&fence(3)).await.unwrap(), Written::AlreadyDone);
}

#[tokio::test]
async fn the_standing_is_the_roles_and_every_fence_over_every_page() {
    let first = mock!(aws_sdk_dynamodb::Client::query)
        .match_requests(|i| {
            i.consistent_read() == Some(true)
                && i.key_condition_expression() == Some("pk = :pk")
                && i.exclusive_start_key().is_none()
        })
        .then_output(|| {
            QueryOutput::builder()
                .items(roles().to_item())
                .last_evaluated_key("sk", aws_sdk_dynamodb::types::AttributeValue::S("current".into()))
                .build()
        });
    let second = mock!(aws_sdk_dynamodb::Client::query)
        .match_requests(|i| i.exclusive_start_key().is_some())
        .then_output(|| QueryOutput::builder().items(fence(4).to_item()).build());
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&first, &second]), TABLE);
    let standing = table.standing().await.unwrap();
    assert_eq!(standing.roles, Some(roles()));
    assert_eq!(standing.fences, vec![fence(4)]);
    assert_eq!(standing.epoch(), 4);
    assert_eq!(Standing::default().epoch(), 0, "no roles recorded: epoch 0");
}

#[tokio::test]
async fn an_unreadable_fence_names_the_table_and_the_attribute() {
    let query = mock!(aws_sdk_dynamodb::Client::query).then_output(|| {
        let mut item = fence(1).to_item();
        item.remove("epoch");
        QueryOutput::builder().items(item).build()
    });
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&query]), TABLE);
    let e = table.standing().await.unwrap_err().to_string();
    assert!(
        e.contains("tandem-dev-state holds an unreadable fence record: attribute `epoch` is missing"),
        "{e}"
    );
}
