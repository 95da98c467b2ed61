//! The shell's fences against mocked AWS: a region that comes back behind
//! its peer demotes itself once, a fenced region never promotes, and a
//! region that fences its peer keeps the traffic fence published, whether
//! or not the peer answers.

use super::shell_tests::{Mocks, failover, healthy_here, instance, lag, published, standing_items, used};
use crate::shell::Invocation;
use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::{QueryError, QueryOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tandem_core::state::StateTable;
use tandem_testing::mock_client;
use tandem_testing::standing::{fence, roles};

type Item = HashMap<String, AttributeValue>;

fn query(items: Vec<Item>) -> Rule {
    mock!(aws_sdk_dynamodb::Client::query)
        .then_output(move || QueryOutput::builder().set_items(Some(items.clone())).build())
}

fn get(sk: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(move |i| i.key().unwrap()["sk"].as_s().unwrap().starts_with(sk))
        .then_output(|| GetItemOutput::builder().build())
}

fn call() -> Invocation {
    Invocation {
        request_id: "req-9".into(),
        until: tokio::time::Instant::now() + Duration::from_secs(600),
    }
}

#[tokio::test]
async fn a_region_back_behind_its_peer_fences_itself_then_records_the_roles_and_audits_once() {
    // us-east-2 was the primary at epoch 1; while it was away, us-east-1 fenced it and became the primary at 2.
    let own = query(standing_items(&roles("us-east-2", 1, 50), &[]));
    let (probe, lock) = (get("probe#"), get("lock#"));
    let fenced = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|i| {
            let item = i.item().unwrap();
            item["sk"].as_s().unwrap() == "fence#us-east-2"
                && item["epoch"].as_n().unwrap() == "2"
                && item["by"].as_s().unwrap() == "us-east-1"
        })
        .then_output(|| PutItemOutput::builder().build());
    let recorded = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|i| {
            let item = i.item().unwrap();
            item["sk"].as_s().unwrap() == "current"
                && item["primary"].as_s().unwrap() == "us-east-1"
                && item["epoch"].as_n().unwrap() == "2"
                && i.condition_expression() == Some("updated_at = :read")
        })
        .then_output(|| PutItemOutput::builder().build());
    let audited = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|i| i.item().unwrap()["sk"].as_s().unwrap() == "failover#demoted#2")
        .then_output(|| PutItemOutput::builder().build());
    let dynamodb = [&own, &probe, &lock, &fenced, &recorded, &audited];
    let note = published();
    let mut f = failover(
        &Mocks {
            rds: &[],
            secrets: &[],
            cloudwatch: &[],
            dynamodb: &dynamodb,
            sns: &[&note],
        },
        healthy_here(),
    );
    let peer = query(standing_items(&roles("us-east-1", 2, 60), &[fence("us-east-2", 2)]));
    f.peer_table = Some(StateTable::new(
        mock_client!(aws_sdk_dynamodb, [&peer]),
        "tandem-dev-state",
    ));
    let answer = f
        .handle(&json!({"detail-type": "Scheduled Event"}), &call())
        .await
        .unwrap();
    assert_eq!(answer["decision"], "Demote");
    assert_eq!(answer["outcome"], "fenced");
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .starts_with("us-east-1 became the primary at epoch 2 while us-east-2 recorded epoch 1"),
        "{answer}"
    );
    used(&dynamodb);
    assert_eq!((peer.num_calls(), note.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_fenced_region_never_promotes_even_when_a_person_forces_it() {
    let own = query(standing_items(&roles("us-east-1", 2, 60), &[fence("us-east-2", 2)]));
    let (probe, lock) = (get("probe#"), get("lock#"));
    let dynamodb = [&own, &probe, &lock];
    let (replica, lagging) = (instance("available", true), lag(1.0));
    let f = failover(
        &Mocks {
            rds: &[&replica],
            secrets: &[],
            cloudwatch: &[&lagging],
            dynamodb: &dynamodb,
            sns: &[],
        },
        healthy_here(),
    );
    let answer = f
        .handle(
            &json!({"action": "failover", "reason": "try it", "force": true}),
            &call(),
        )
        .await
        .unwrap();
    assert_eq!(answer["decision"], "Fenced");
    assert!(
        answer["reason"].as_str().unwrap().contains("tandem failback"),
        "{answer}"
    );
    used(&dynamodb);
}

#[tokio::test]
async fn a_region_that_fences_its_peer_republishes_the_traffic_fence_even_when_the_peer_is_down() {
    let own = query(standing_items(&roles("us-east-2", 1, 50), &[fence("us-east-1", 1)]));
    let (probe, lock) = (get("probe#"), get("lock#"));
    let dynamodb = [&own, &probe, &lock];
    let fence_on = mock!(aws_sdk_cloudwatch::Client::put_metric_data)
        .match_requests(|i| i.metric_data()[0].value() == Some(1.0))
        .then_output(|| PutMetricDataOutput::builder().build());
    let mut f = failover(
        &Mocks {
            rds: &[],
            secrets: &[],
            cloudwatch: &[&fence_on],
            dynamodb: &dynamodb,
            sns: &[],
        },
        healthy_here(),
    );
    let down = mock!(aws_sdk_dynamodb::Client::query).then_error(|| {
        QueryError::generic(
            ErrorMetadata::builder()
                .code("ServiceUnavailable")
                .message("us-east-1 is dark")
                .build(),
        )
    });
    f.peer_table = Some(StateTable::new(
        mock_client!(aws_sdk_dynamodb, [&down]),
        "tandem-dev-state",
    ));
    let answer = f
        .handle(&json!({"detail-type": "Scheduled Event"}), &call())
        .await
        .unwrap();
    assert_eq!(answer["decision"], "NotStandby");
    assert_eq!(fence_on.num_calls(), 1, "the fence is published once an invocation");
    used(&dynamodb);
}
