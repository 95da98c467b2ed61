//! The state table's calls against mocked DynamoDB: the key layout, the
//! conditions that make actions happen once, and the records' round trip.

use super::*;
use crate::test_support::mock_client;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;

const TABLE: &str = "tandem-dev-state";

fn release() -> ReleaseRecord {
    ReleaseRecord {
        release_id: "r-20261127-1".into(),
        region: "us-east-1".into(),
        image: "abc123".into(),
        task_definition: "arn:aws:ecs:us-east-1:1:task-definition/tandem-dev-app:7".into(),
        previous_task_definition: Some("arn:aws:ecs:us-east-1:1:task-definition/tandem-dev-app:6".into()),
        deployment_id: Some("d-ABC".into()),
        state: ReleaseState::InProgress,
        started_at: 1_795_680_000,
        finished_at: None,
        reason: None,
    }
}

fn entry() -> AuditEntry {
    AuditEntry {
        kind: AuditKind::Hook,
        key: "exec-1".into(),
        at: 1_795_680_100,
        decision: "Succeeded".into(),
        reason: "the green targets are healthy and /health answered 200".into(),
        action: "PutLifecycleEventHookExecutionStatus Succeeded".into(),
        outcome: "reported".into(),
        region: "us-east-1".into(),
    }
}

/// DynamoDB's answer to a write whose condition did not hold, with the code
/// AWS puts on it.
fn condition_failed() -> ConditionalCheckFailedException {
    let meta = ErrorMetadata::builder()
        .code("ConditionalCheckFailedException")
        .message("The conditional request failed")
        .build();
    ConditionalCheckFailedException::builder().meta(meta).build()
}

fn condition_failed_put() -> PutItemError {
    PutItemError::ConditionalCheckFailedException(condition_failed())
}

#[test]
fn records_round_trip_through_their_items() {
    let r = release();
    assert_eq!(ReleaseRecord::from_item(&r.to_item()).unwrap(), r);
    let done = ReleaseRecord {
        state: ReleaseState::Failed,
        finished_at: Some(1_795_680_300),
        reason: Some("AfterAllowTestTraffic failed".into()),
        deployment_id: None,
        previous_task_definition: None,
        ..release()
    };
    assert_eq!(ReleaseRecord::from_item(&done.to_item()).unwrap(), done);
    assert_eq!(AuditEntry::from_item(&entry().to_item()).unwrap(), entry());
    let roles = RolesRecord {
        primary: "us-east-2".into(),
        standby: "us-east-1".into(),
        updated_at: 9,
        epoch: 2,
        reason: Some("failover".into()),
    };
    assert_eq!(RolesRecord::from_item(&roles.to_item()).unwrap(), roles);
}

#[test]
fn release_keys_sort_by_start_time_within_a_region() {
    let (pk, sk) = release().key();
    assert_eq!(pk, "release#us-east-1");
    assert_eq!(sk, "0001795680000#r-20261127-1");
    let early = ReleaseRecord {
        started_at: 999,
        ..release()
    };
    assert!(
        early.key().1 < release().key().1,
        "zero-padded, so text order is time order"
    );
    assert_eq!(early.key().1, "0000000000999#r-20261127-1");
}

#[test]
fn audit_entries_expire_after_the_retention() {
    let item = entry().to_item();
    assert_eq!(item["pk"].as_s().unwrap(), "audit");
    assert_eq!(item["sk"].as_s().unwrap(), "hook#exec-1");
    assert_eq!(
        item["expires_at"].as_n().unwrap(),
        &(entry().at + AUDIT_RETENTION_SECS).to_string()
    );
}

#[test]
fn an_unreadable_item_names_the_attribute() {
    let mut item = release().to_item();
    item.remove("image");
    assert_eq!(
        ReleaseRecord::from_item(&item).unwrap_err(),
        "attribute `image` is missing"
    );
    item = release().to_item();
    item.insert("state".into(), AttributeValue::S("paused".into()));
    assert!(ReleaseRecord::from_item(&item).unwrap_err().contains("\"paused\""));
}

#[tokio::test]
async fn an_audit_entry_is_written_once_per_key() {
    let first = mock!(Client::put_item)
        .match_requests(|input| {
            assert_eq!(input.table_name(), Some(TABLE));
            assert_eq!(input.condition_expression(), Some("attribute_not_exists(pk)"));
            let item = input.item().unwrap();
            assert_eq!(item["sk"].as_s().unwrap(), "hook#exec-1");
            true
        })
        .then_output(|| PutItemOutput::builder().build());
    let again = mock!(Client::put_item).then_error(condition_failed_put);
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&first, &again]), TABLE);
    assert_eq!(table.audit(&entry()).await.unwrap(), Written::Done);
    assert_eq!(table.audit(&entry()).await.unwrap(), Written::AlreadyDone);
}

#[tokio::test]
async fn a_decision_is_written_once_unless_its_handling_failed() {
    let put = mock!(Client::put_item)
        .match_requests(|input| {
            assert_eq!(
                input.condition_expression(),
                Some("attribute_not_exists(pk) OR begins_with(outcome, :failed)")
            );
            let values = input.expression_attribute_values().unwrap();
            assert_eq!(values[":failed"].as_s().unwrap(), FAILED_OUTCOME);
            true
        })
        .then_output(|| PutItemOutput::builder().build());
    let done = mock!(Client::put_item).then_error(condition_failed_put);
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&put, &done]), TABLE);
    assert_eq!(table.audit_decision(&entry()).await.unwrap(), Written::Done);
    assert_eq!(table.audit_decision(&entry()).await.unwrap(), Written::AlreadyDone);
}

#[tokio::test]
async fn a_release_starts_once_and_finishes_only_from_in_progress() {
    let start = mock!(Client::put_item)
        .match_requests(|input| {
            assert_eq!(input.condition_expression(), Some("attribute_not_exists(pk)"));
            assert_eq!(input.item().unwrap()["state"].as_s().unwrap(), "in-progress");
            true
        })
        .then_output(|| PutItemOutput::builder().build());
    let finish = mock!(Client::update_item)
        .match_requests(|input| {
            assert_eq!(input.condition_expression(), Some("#state = :from"));
            let values = input.expression_attribute_values().unwrap();
            assert_eq!(values[":state"].as_s().unwrap(), "failed");
            assert_eq!(values[":from"].as_s().unwrap(), "in-progress");
            let key = input.key().unwrap();
            assert_eq!(key["pk"].as_s().unwrap(), "release#us-east-1");
            assert_eq!(key["sk"].as_s().unwrap(), "0001795680000#r-20261127-1");
            true
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let finish_again =
        mock!(Client::update_item).then_error(|| UpdateItemError::ConditionalCheckFailedException(condition_failed()));
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&start, &finish, &finish_again]), TABLE);
    assert_eq!(table.start_release(&release()).await.unwrap(), Written::Done);
    let failed = ReleaseState::Failed;
    assert_eq!(
        table
            .finish_release(&release(), failed, "hook failed", 5)
            .await
            .unwrap(),
        Written::Done
    );
    assert_eq!(
        table
            .finish_release(&release(), failed, "hook failed", 6)
            .await
            .unwrap(),
        Written::AlreadyDone
    );
}

#[tokio::test]
async fn only_a_succeeded_release_can_be_rolled_back_and_only_once() {
    let roll_back = mock!(Client::update_item)
        .match_requests(|input| {
            let values = input.expression_attribute_values().unwrap();
            assert_eq!(values[":from"].as_s().unwrap(), "succeeded");
            assert_eq!(values[":state"].as_s().unwrap(), "rolled-back");
            true
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let again =
        mock!(Client::update_item).then_error(|| UpdateItemError::ConditionalCheckFailedException(condition_failed()));
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&roll_back, &again]), TABLE);
    assert_eq!(
        table.mark_rolled_back(&release(), "alarm", 9).await.unwrap(),
        Written::Done
    );
    assert_eq!(
        table.mark_rolled_back(&release(), "alarm", 9).await.unwrap(),
        Written::AlreadyDone
    );
}

#[tokio::test]
async fn a_deployment_is_recorded_only_on_a_release_in_progress() {
    let update = |fails: bool| {
        let rule = mock!(Client::update_item).match_requests(|input| {
            assert_eq!(input.key().unwrap()["sk"].as_s().unwrap(), &release().key().1);
            assert_eq!(input.condition_expression(), Some("#state = :running"));
            let values = input.expression_attribute_values().unwrap();
            assert_eq!(values[":deployment"].as_s().unwrap(), "d-XYZ");
            assert_eq!(values[":running"].as_s().unwrap(), "in-progress");
            true
        });
        if fails {
            rule.then_error(|| UpdateItemError::ConditionalCheckFailedException(condition_failed()))
        } else {
            rule.then_output(|| UpdateItemOutput::builder().build())
        }
    };
    let (first, again) = (update(false), update(true));
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&first, &again]), TABLE);
    assert_eq!(
        table.record_deployment(&release(), "d-XYZ").await.unwrap(),
        Written::Done
    );
    assert_eq!(
        table.record_deployment(&release(), "d-XYZ").await.unwrap(),
        Written::AlreadyDone
    );
}

#[tokio::test]
async fn the_last_release_is_the_newest_of_the_region() {
    let query = mock!(Client::query)
        .match_requests(|input| {
            assert_eq!(input.scan_index_forward(), Some(false));
            assert_eq!(input.limit(), Some(1));
            let values = input.expression_attribute_values().unwrap();
            assert_eq!(values[":pk"].as_s().unwrap(), "release#us-east-1");
            true
        })
        .then_output(|| QueryOutput::builder().items(release().to_item()).build());
    let none = mock!(Client::query).then_output(|| QueryOutput::builder().build());
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&query, &none]), TABLE);
    assert_eq!(table.last_release("us-east-1").await.unwrap(), Some(release()));
    assert_eq!(table.last_release("us-east-2").await.unwrap(), None);
}

#[tokio::test]
async fn the_hook_decisions_of_a_deployment_come_back_oldest_first() {
    let later = AuditEntry {
        key: "d-ABC#exec-2".into(),
        at: 1_795_680_200,
        ..entry()
    };
    let earlier = AuditEntry {
        key: "d-ABC#exec-1".into(),
        ..entry()
    };
    let query = mock!(Client::query)
        .match_requests(|input| {
            let values = input.expression_attribute_values().unwrap();
            assert_eq!(values[":pk"].as_s().unwrap(), "audit");
            assert_eq!(values[":prefix"].as_s().unwrap(), "hook#d-ABC#");
            assert!(
                input
                    .key_condition_expression()
                    .unwrap()
                    .contains("begins_with(sk, :prefix)")
            );
            true
        })
        .then_output(move || {
            QueryOutput::builder()
                .items(later.to_item())
                .items(earlier.to_item())
                .build()
        });
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&query]), TABLE);
    let keys: Vec<String> = table
        .hook_audits("d-ABC")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys, ["d-ABC#exec-1", "d-ABC#exec-2"]);
}

#[tokio::test]
async fn the_audit_trail_reads_every_page_from_a_time_on_oldest_first() {
    let at = |key: &str, at: u64| AuditEntry {
        key: key.into(),
        at,
        ..entry()
    };
    let (newest, oldest, middle) = (at("c", 1_795_680_300), at("a", 1_795_680_100), at("b", 1_795_680_200));
    // Every kind is the bare partition: DynamoDB refuses an empty prefix.
    let asked = |input: &aws_sdk_dynamodb::operation::query::QueryInput, prefix: &str| {
        let values = input.expression_attribute_values().unwrap();
        let condition = input.key_condition_expression().unwrap();
        let keyed = if prefix.is_empty() {
            condition == "pk = :pk" && !values.contains_key(":prefix")
        } else {
            condition.ends_with("begins_with(sk, :prefix)") && values[":prefix"].as_s().unwrap() == prefix
        };
        keyed && values[":since"].as_n().unwrap() == "1795680000" && input.filter_expression() == Some("#at >= :since")
    };
    let first = mock!(Client::query)
        .match_requests(move |input| asked(input, "rollback#") && input.exclusive_start_key().is_none())
        .then_output(move || {
            QueryOutput::builder()
                .items(newest.to_item())
                .items(oldest.to_item())
                .set_last_evaluated_key(Some(oldest.to_item()))
                .build()
        });
    let second = mock!(Client::query)
        .match_requests(move |input| asked(input, "rollback#") && input.exclusive_start_key().is_some())
        .then_output(move || QueryOutput::builder().items(middle.to_item()).build());
    let every_kind = mock!(Client::query)
        .match_requests(move |input| asked(input, ""))
        .then_output(|| QueryOutput::builder().build());
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&first, &second, &every_kind]), TABLE);
    let keys: Vec<String> = (table.audit_trail(Some(AuditKind::Rollback), 1_795_680_000).await)
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert!(table.audit_trail(None, 1_795_680_000).await.unwrap().is_empty());
}

#[tokio::test]
async fn roles_change_only_from_the_version_read() {
    let read = mock!(Client::get_item)
        .match_requests(|input| {
            let key = input.key().unwrap();
            assert_eq!(key["pk"].as_s().unwrap(), "region-roles");
            assert_eq!(input.consistent_read(), Some(true));
            true
        })
        .then_output(|| {
            let roles = RolesRecord {
                primary: "us-east-1".into(),
                standby: "us-east-2".into(),
                updated_at: 7,
                epoch: 0,
                reason: None,
            };
            GetItemOutput::builder().set_item(Some(roles.to_item())).build()
        });
    let write = mock!(Client::put_item)
        .match_requests(|input| {
            assert_eq!(input.condition_expression(), Some("updated_at = :read"));
            assert_eq!(
                input.expression_attribute_values().unwrap()[":read"].as_n().unwrap(),
                "7"
            );
            true
        })
        .then_error(condition_failed_put);
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&read, &write]), TABLE);
    let current = table.roles().await.unwrap().unwrap();
    let flipped = RolesRecord {
        primary: current.standby.clone(),
        standby: current.primary.clone(),
        updated_at: 8,
        epoch: 1,
        reason: Some("failover".into()),
    };
    assert_eq!(
        table.put_roles(&flipped, Some(current.updated_at)).await.unwrap(),
        Written::AlreadyDone,
        "someone else changed the roles since they were read"
    );
}

#[tokio::test]
async fn other_errors_name_the_table_and_the_reason() {
    let denied = mock!(Client::get_item).then_error(|| {
        aws_sdk_dynamodb::operation::get_item::GetItemError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform: dynamodb:GetItem")
                .build(),
        )
    });
    let table = StateTable::new(mock_client!(aws_sdk_dynamodb, [&denied]), TABLE);
    let error = table.roles().await.unwrap_err().to_string();
    assert_eq!(
        error,
        "the state table tandem-dev-state could not be read: AccessDeniedException: \
         not authorized to perform: dynamodb:GetItem"
    );
}
