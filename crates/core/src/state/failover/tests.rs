//! The failover records against mocked DynamoDB: the conditions that let
//! one invocation promote, the streak's counting, and the lock's round trip.

use super::*;
use crate::test_support::mock_client;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;

fn table(rules: &[&aws_smithy_mocks::Rule]) -> StateTable {
    StateTable::new(
        mock_client!(aws_sdk_dynamodb, rules.iter().copied()),
        "tandem-dev-state",
    )
}

fn failed() -> ConditionalCheckFailedException {
    let meta = ErrorMetadata::builder().code("ConditionalCheckFailedException").build();
    ConditionalCheckFailedException::builder().meta(meta).build()
}

fn lock() -> FailoverLock {
    FailoverLock {
        version: 42,
        region: "us-east-2".into(),
        holder: "req-1".into(),
        lease_until: 1_660,
        step: FailoverStep::Claimed,
        reason: "the primary is down".into(),
        forced: true,
        started_at: 1_000,
        updated_at: 1_000,
        error: Some("x".into()),
    }
}

#[test]
fn the_lock_round_trips_and_sorts_by_version() {
    let l = lock();
    let item = l.to_item();
    assert_eq!(item["sk"].as_s().unwrap(), "lock#0000000000042");
    assert_eq!(FailoverLock::from_item(&item).unwrap(), l);
    for step in [
        FailoverStep::Claimed,
        FailoverStep::PromoteRequested,
        FailoverStep::Promoted,
        FailoverStep::SecretUpdated,
        FailoverStep::Done,
        FailoverStep::Failed,
    ] {
        assert_eq!(FailoverStep::parse(step.as_str()), Some(step));
    }
}

#[tokio::test]
async fn a_fresh_lock_is_one_conditional_put() {
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|i| i.condition_expression() == Some("attribute_not_exists(pk)"))
        .then_output(|| PutItemOutput::builder().build());
    assert_eq!(
        table(&[&put]).claim_failover(&lock(), 1_000).await.unwrap(),
        Written::Done
    );
}

#[tokio::test]
async fn a_taken_lock_is_taken_over_only_when_its_lease_ran_out_and_it_is_open() {
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_error(|| PutItemError::ConditionalCheckFailedException(failed()));
    let takeover = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|i| {
            let values = i.expression_attribute_values().unwrap();
            i.condition_expression() == Some("lease_until < :now AND step <> :done AND step <> :failed")
                && values[":me"].as_s().unwrap() == "req-1"
                && values[":now"].as_n().unwrap() == "1000"
        })
        .then_error(|| UpdateItemError::ConditionalCheckFailedException(failed()));
    let t = table(&[&put, &takeover]);
    assert_eq!(t.claim_failover(&lock(), 1_000).await.unwrap(), Written::AlreadyDone);
    assert_eq!(takeover.num_calls(), 1);
}

#[tokio::test]
async fn steps_are_recorded_only_by_the_holder_and_an_end_ends_the_lease() {
    let advance = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|i| {
            i.condition_expression() == Some("holder = :me")
                && i.update_expression()
                    == Some("SET step = :step, updated_at = :now, lease_until = :now, #error = :error")
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let t = table(&[&advance]);
    let w = t
        .advance_failover(42, "req-1", FailoverStep::Failed, Some("refused"), 1_010)
        .await
        .unwrap();
    assert_eq!(w, Written::Done);
}

#[tokio::test]
async fn a_probe_failure_adds_one_a_success_resets_and_a_twin_is_not_counted() {
    let failure = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|i| {
            i.update_expression().unwrap().ends_with("ADD failures :one")
                && i.condition_expression() == Some("attribute_not_exists(last_at) OR last_at <= :gap")
                && i.expression_attribute_values().unwrap()[":gap"].as_n().unwrap() == "995"
        })
        .then_output(|| {
            UpdateItemOutput::builder()
                .attributes("failures", AttributeValue::N("3".into()))
                .build()
        });
    let success = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|i| {
            i.update_expression()
                .unwrap()
                .contains("failures = :zero REMOVE last_error")
        })
        .then_output(|| {
            UpdateItemOutput::builder()
                .attributes("failures", AttributeValue::N("0".into()))
                .build()
        });
    let twin = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_error(|| UpdateItemError::ConditionalCheckFailedException(failed()));
    let t = table(&[&failure, &success, &twin]);
    assert_eq!(
        t.count_probe("us-east-2", Some("refused"), 1_000, 5).await.unwrap(),
        Some(3)
    );
    assert_eq!(t.count_probe("us-east-2", None, 1_010, 5).await.unwrap(), Some(0));
    assert_eq!(t.count_probe("us-east-2", None, 1_011, 5).await.unwrap(), None);
}

#[tokio::test]
async fn an_unreadable_lock_names_the_record() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
        GetItemOutput::builder()
            .item("pk", AttributeValue::S("failover".into()))
            .item("step", AttributeValue::S("sideways".into()))
            .build()
    });
    let e = table(&[&get]).failover_lock(42).await.unwrap_err().to_string();
    assert!(e.contains("unreadable failover lock"), "{e}");
}
