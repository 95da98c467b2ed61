//! The shell against mocked RDS, Secrets Manager, CloudWatch, DynamoDB and
//! SNS (the local AWS has no `PromoteReadReplica`): what it calls for each
//! case, in order, and what it records.

use crate::settings::Settings;
use crate::shell::{Failover, FailoverError, Invocation};
use aws_sdk_cloudwatch::operation::get_metric_statistics::GetMetricStatisticsOutput;
use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::Datapoint;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::operation::promote_read_replica::{PromoteReadReplicaError, PromoteReadReplicaOutput};
use aws_sdk_rds::types::{DbInstance, Endpoint};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::operation::put_secret_value::PutSecretValueOutput;
use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::clock::unix_now;
use tandem_core::probe::Prober;
use tandem_core::state::StateTable;
use tandem_testing::mock_client;
use tandem_testing::state::update_matching;

const DB: &str = "tandem-dev-db-replica";
const SECRET: &str = "tandem-dev/db-endpoint";

/// A standby's settings in us-east-2 of dev, through the parser `main` uses.
fn settings() -> Settings {
    let settings = crate::settings::from_lookup(crate::settings::standby_example("dev"))
        .expect("the example's settings are complete");
    assert_eq!(
        (settings.db_instance.as_str(), settings.db_endpoint_secret.as_str()),
        (DB, SECRET)
    );
    settings
}

/// Probe answers by URL; anything else is refused.
pub(crate) struct Answers(HashMap<&'static str, Result<u16, &'static str>>);

impl Prober for Answers {
    fn get<'a>(
        &'a self,
        url: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u16, String>> + Send + 'a>> {
        let answer = self
            .0
            .get(url)
            .copied()
            .unwrap_or(Err("connection refused"))
            .map_err(str::to_owned);
        Box::pin(async move { answer })
    }
}

pub(crate) fn healthy_here() -> Answers {
    Answers(HashMap::from([("https://own.example/health", Ok(200))]))
}

pub(crate) struct Mocks<'a> {
    pub(crate) rds: &'a [&'a Rule],
    pub(crate) secrets: &'a [&'a Rule],
    pub(crate) cloudwatch: &'a [&'a Rule],
    pub(crate) dynamodb: &'a [&'a Rule],
    pub(crate) sns: &'a [&'a Rule],
}

pub(crate) fn failover(m: &Mocks<'_>, answers: Answers) -> Failover {
    Failover {
        rds: mock_client!(aws_sdk_rds, m.rds.iter().copied(), |b| b
            .retry_config(RetryConfig::standard().with_max_attempts(3))),
        secrets: mock_client!(aws_sdk_secretsmanager, m.secrets.iter().copied()),
        cloudwatch: mock_client!(aws_sdk_cloudwatch, m.cloudwatch.iter().copied()),
        sns: mock_client!(aws_sdk_sns, m.sns.iter().copied()),
        table: StateTable::new(
            mock_client!(aws_sdk_dynamodb, m.dynamodb.iter().copied()),
            "tandem-dev-state",
        ),
        peer_table: None,
        prober: Arc::new(answers),
        settings: settings(),
    }
}

fn call() -> Invocation {
    Invocation {
        request_id: "req-1".into(),
        until: tokio::time::Instant::now() + Duration::from_secs(600),
    }
}

fn manual() -> Value {
    json!({"action": "failover", "reason": "us-east-1 is down"})
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn nattr(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A GetItem of the record whose sort key starts with `sk`, answered with `item`.
fn get(sk: &'static str, item: Option<HashMap<String, AttributeValue>>) -> Rule {
    mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(move |i| i.key().unwrap()["sk"].as_s().unwrap().starts_with(sk))
        .then_output(move || GetItemOutput::builder().set_item(item.clone()).build())
}

/// The standing query of this region's table, answered with the roles
/// record `roles` (if any) and no fence.
fn standing(roles: Option<HashMap<String, AttributeValue>>) -> Rule {
    mock!(aws_sdk_dynamodb::Client::query)
        .match_requests(|i| i.expression_attribute_values().unwrap()[":pk"].as_s().unwrap() == "region-roles")
        .then_output(move || QueryOutput::builder().set_items(roles.clone().map(|r| vec![r])).build())
}

/// The items of a standing: `roles` and `fences`, as the table holds them.
pub(crate) fn standing_items(
    roles: &tandem_core::state::RolesRecord,
    fences: &[tandem_core::state::FenceRecord],
) -> Vec<HashMap<String, AttributeValue>> {
    std::iter::once(roles_item(roles))
        .chain(fences.iter().map(fence_item))
        .collect()
}

fn roles_item(r: &tandem_core::state::RolesRecord) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), s("region-roles")),
        ("sk".into(), s("current")),
        ("primary".into(), s(&r.primary)),
        ("standby".into(), s(&r.standby)),
        ("updated_at".into(), nattr(r.updated_at)),
        ("epoch".into(), nattr(r.epoch)),
    ])
}

fn fence_item(f: &tandem_core::state::FenceRecord) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), s("region-roles")),
        ("sk".into(), s(&format!("fence#{}", f.region))),
        ("region".into(), s(&f.region)),
        ("epoch".into(), nattr(f.epoch)),
        ("by".into(), s(&f.by)),
        ("reason".into(), s(&f.reason)),
        ("at".into(), nattr(f.at)),
    ])
}

/// The traffic fence on us-east-1, published from here.
fn fence_published() -> Rule {
    mock!(aws_sdk_cloudwatch::Client::put_metric_data)
        .match_requests(|i| {
            let d = &i.metric_data()[0];
            i.namespace() == Some("tandem")
                && d.metric_name() == Some("RegionFenced")
                && d.value() == Some(1.0)
                && d.dimensions()
                    .iter()
                    .any(|x| x.name() == Some("Region") && x.value() == Some("us-east-1"))
                && d.dimensions()
                    .iter()
                    .any(|x| x.name() == Some("Env") && x.value() == Some("dev"))
        })
        .then_output(|| PutMetricDataOutput::builder().build())
}

/// The lock of roles version 0 at `step`, its lease ending at `lease_until`.
fn lock_item(step: &str, lease_until: u64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), s("failover")),
        ("sk".into(), s("lock#0000000000000")),
        ("version".into(), nattr(0)),
        ("region".into(), s("us-east-2")),
        ("holder".into(), s("req-0")),
        ("lease_until".into(), nattr(lease_until)),
        ("step".into(), s(step)),
        ("reason".into(), s("the primary is down")),
        ("forced".into(), AttributeValue::Bool(false)),
        ("started_at".into(), nattr(1)),
    ])
}

fn condition_failed_put() -> PutItemError {
    let meta = ErrorMetadata::builder().code("ConditionalCheckFailedException").build();
    PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().meta(meta).build())
}

fn condition_failed_update() -> UpdateItemError {
    let meta = ErrorMetadata::builder().code("ConditionalCheckFailedException").build();
    UpdateItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().meta(meta).build())
}

/// The primary's probe failed, and was counted: the streak is now `failures`.
fn failed_probe(failures: u64) -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|i| i.update_expression().unwrap().contains("ADD failures :one"))
        .then_output(move || {
            UpdateItemOutput::builder()
                .attributes("failures", nattr(failures))
                .build()
        })
}

/// A PutItem whose sort key starts with `sk`.
fn put(sk: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |i| i.item().unwrap()["sk"].as_s().unwrap().starts_with(sk))
        .then_output(|| PutItemOutput::builder().build())
}

pub(crate) fn instance(status: &str, replica: bool) -> Rule {
    let status = status.to_owned();
    mock!(aws_sdk_rds::Client::describe_db_instances)
        .match_requests(|i| i.db_instance_identifier() == Some(DB))
        .then_output(move || {
            let db = DbInstance::builder()
                .db_instance_identifier(DB)
                .db_instance_status(&status)
                .set_read_replica_source_db_instance_identifier(
                    replica.then(|| "arn:aws:rds:us-east-1:1:db:tandem-dev-db".into()),
                )
                .endpoint(
                    Endpoint::builder()
                        .address("replica.us-east-2.rds.example")
                        .port(3306)
                        .build(),
                )
                .build();
            DescribeDbInstancesOutput::builder().db_instances(db).build()
        })
}

fn promoted() -> Rule {
    mock!(aws_sdk_rds::Client::promote_read_replica)
        .match_requests(|i| i.db_instance_identifier() == Some(DB) && i.backup_retention_period() == Some(7))
        .then_output(|| PromoteReadReplicaOutput::builder().build())
}

pub(crate) fn lag(seconds: f64) -> Rule {
    mock!(aws_sdk_cloudwatch::Client::get_metric_statistics)
        .match_requests(|i| i.metric_name() == Some("ReplicaLag") && i.namespace() == Some("AWS/RDS"))
        .then_output(move || {
            let point = Datapoint::builder()
                .timestamp(DateTime::from_secs(unix_now() as i64 - 60))
                .maximum(seconds)
                .build();
            GetMetricStatisticsOutput::builder().datapoints(point).build()
        })
}

pub(crate) fn published() -> Rule {
    mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().build())
}

/// The endpoint secret's calls: read (an empty override), then written
/// with the new writer's host and port; the credentials secret (a replica
/// of us-east-1's on AWS) is never touched.
fn secret_rules() -> [Rule; 2] {
    [
        mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(|i| i.secret_id() == Some(SECRET))
            .then_output(|| GetSecretValueOutput::builder().secret_string("{}").build()),
        mock!(aws_sdk_secretsmanager::Client::put_secret_value)
            .match_requests(|i| {
                let v: Value = serde_json::from_str(i.secret_string().unwrap()).unwrap();
                i.secret_id() == Some(SECRET) && v == json!({"host": "replica.us-east-2.rds.example", "port": 3306})
            })
            .then_output(|| PutSecretValueOutput::builder().build()),
    ]
}

pub(crate) fn used(rules: &[&Rule]) {
    for (i, rule) in rules.iter().enumerate() {
        assert_eq!(rule.num_calls(), 1, "rule {i} was called {} times", rule.num_calls());
    }
}

/// Runs `event` through a promotion that ends done, with `rds` and
/// `dynamodb` answering and the secret repointed; checks every rule was
/// used once.
async fn promotion_done(rds: &[&Rule], dynamodb: &[&Rule], event: Value) {
    let secrets = secret_rules();
    let secret_refs: Vec<&Rule> = secrets.iter().collect();
    let (lagging, first_note, last_note) = (lag(3.0), published(), published());
    let fenced = fence_published();
    let mocks = Mocks {
        rds,
        secrets: &secret_refs,
        cloudwatch: &[&lagging, &fenced],
        dynamodb,
        sns: &[&first_note, &last_note],
    };
    let answer = failover(&mocks, healthy_here()).handle(&event, &call()).await.unwrap();
    assert_eq!(answer["decision"], "Promote");
    assert!(
        answer["outcome"]
            .as_str()
            .unwrap()
            .starts_with("done: us-east-2 is the primary"),
        "{answer}"
    );
    used(rds);
    used(dynamodb);
    used(&secret_refs);
    assert_eq!(last_note.num_calls(), 1, "the outcome is notified");
}

#[tokio::test]
async fn a_manual_failover_promotes_repoints_the_secret_and_records_the_roles() {
    let (roles, probe, no_lock, claim) = (standing(None), get("probe#", None), get("lock#", None), put("lock#"));
    let (audit, lock_now) = (
        put("failover#promotion#"),
        get("lock#", Some(lock_item("claimed", unix_now() + 600))),
    );
    let steps = [
        put("fence#us-east-1"),
        update_matching("\"fenced\""),
        update_matching("promote-requested"),
        update_matching("\"promoted\""),
        update_matching("secret-updated"),
    ];
    let roles_written = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|i| {
            let item = i.item().unwrap();
            item["pk"].as_s().unwrap() == "region-roles"
                && item["primary"].as_s().unwrap() == "us-east-2"
                && item["standby"].as_s().unwrap() == "us-east-1"
                && item["epoch"].as_n().unwrap() == "1"
                && i.condition_expression() == Some("attribute_not_exists(pk)")
        })
        .then_output(|| PutItemOutput::builder().build());
    let (done, outcome) = (
        update_matching("\"done\""),
        update_matching("done: us-east-2 is the primary"),
    );
    let dynamodb = [
        &roles,
        &probe,
        &no_lock,
        &claim,
        &audit,
        &lock_now,
        &steps[0],
        &steps[1],
        &steps[2],
        &steps[3],
        &steps[4],
        &roles_written,
        &done,
        &outcome,
    ];
    let (replica, promote, writer, writer_again) = (
        instance("available", true),
        promoted(),
        instance("available", false),
        instance("available", false),
    );
    let rds = [&replica, &promote, &writer, &writer_again];
    promotion_done(&rds, &dynamodb, manual()).await;
}

#[tokio::test(start_paused = true)]
async fn a_promotion_still_modifying_is_waited_for_then_finished() {
    // A holder that stopped after its PromoteReadReplica call: the next one
    // takes over from PromoteRequested, never calls it again, and waits.
    let expired = unix_now() - 5;
    let (roles, probe) = (standing(None), failed_probe(4));
    let lock = get("lock#", Some(lock_item("promote-requested", expired)));
    let (claim_refused, takeover, audit) = (
        mock!(aws_sdk_dynamodb::Client::put_item).then_error(condition_failed_put),
        update_matching("req-1"),
        put("failover#promotion#"),
    );
    let lock_now = get("lock#", Some(lock_item("promote-requested", unix_now() + 600)));
    let rest = [
        update_matching("\"promoted\""),
        update_matching("secret-updated"),
        put("current"),
        update_matching("\"done\""),
        update_matching("done: "),
    ];
    let dynamodb = [
        &roles,
        &probe,
        &lock,
        &claim_refused,
        &takeover,
        &audit,
        &lock_now,
        &rest[0],
        &rest[1],
        &rest[2],
        &rest[3],
        &rest[4],
    ];
    let (observed, modifying, still, writer, endpoint) = (
        instance("modifying", true),
        instance("modifying", true),
        instance("rebooting", false),
        instance("available", false),
        instance("available", false),
    );
    let rds = [&observed, &modifying, &still, &writer, &endpoint];
    promotion_done(&rds, &dynamodb, serde_json::json!({"detail-type": "Scheduled Event"})).await;
}

#[tokio::test]
async fn an_already_promoted_instance_is_not_promoted_twice() {
    // The earlier holder's call went through before it could record it.
    let rds_rules = [
        instance("available", true),
        mock!(aws_sdk_rds::Client::promote_read_replica).then_error(|| {
            PromoteReadReplicaError::generic(
                ErrorMetadata::builder()
                    .code("InvalidDBInstanceState")
                    .message("DB instance is not a read replica.")
                    .build(),
            )
        }),
        instance("available", false),
        instance("available", false),
        instance("available", false),
    ];
    let rds: Vec<&Rule> = rds_rules.iter().collect();
    let dynamo_rules = [
        standing(None),
        get("probe#", None),
        get("lock#", None),
        put("lock#"),
        put("failover#promotion#"),
        get("lock#", Some(lock_item("claimed", unix_now() + 600))),
        put("fence#us-east-1"),
        update_matching("\"fenced\""),
        update_matching("promote-requested"),
        update_matching("\"promoted\""),
        update_matching("secret-updated"),
        put("current"),
        update_matching("\"done\""),
        update_matching("done: "),
    ];
    let dynamodb: Vec<&Rule> = dynamo_rules.iter().collect();
    promotion_done(&rds, &dynamodb, manual()).await;
}

/// The run up to the PromoteReadReplica call, then `promote` answers; the
/// promotion ends Failed, audited, and nothing after it is called.
async fn failed_promotion(promote: &[&Rule]) -> (String, Vec<Rule>) {
    let replica = instance("available", true);
    let mut rds: Vec<&Rule> = vec![&replica];
    rds.extend_from_slice(promote);
    let dynamo_rules = vec![
        standing(None),
        get("probe#", None),
        get("lock#", None),
        put("lock#"),
        put("failover#promotion#"),
        get("lock#", Some(lock_item("claimed", unix_now() + 600))),
        put("fence#us-east-1"),
        update_matching("\"fenced\""),
        update_matching("\"failed\""),
        update_matching("failed: could not promote"),
    ];
    let dynamodb: Vec<&Rule> = dynamo_rules.iter().collect();
    let (lagging, a, b) = (lag(1.0), published(), published());
    let fenced = fence_published();
    let f = failover(
        &Mocks {
            rds: &rds,
            secrets: &[],
            cloudwatch: &[&lagging, &fenced],
            dynamodb: &dynamodb,
            sns: &[&a, &b],
        },
        healthy_here(),
    );
    let error = f.handle(&manual(), &call()).await.unwrap_err();
    assert!(matches!(error, FailoverError::Step(_)), "{error}");
    used(&dynamodb);
    assert_eq!(b.num_calls(), 1, "the failure is notified");
    (error.to_string(), dynamo_rules)
}

#[tokio::test]
async fn the_local_aws_refusal_is_a_clean_audited_failure_with_the_roles_unchanged() {
    let refused = mock!(aws_sdk_rds::Client::promote_read_replica).then_error(|| {
        PromoteReadReplicaError::generic(
            ErrorMetadata::builder()
                .code("InvalidAction")
                .message("Unknown RDS action: PromoteReadReplica")
                .build(),
        )
    });
    let (why, _) = failed_promotion(&[&refused]).await;
    assert_eq!(
        why,
        "the failover to us-east-2 stopped: could not promote tandem-dev-db-replica (PromoteReadReplica tandem-dev-db-replica: \
         InvalidAction: Unknown RDS action: PromoteReadReplica); the roles are unchanged"
    );
}

#[tokio::test(start_paused = true)]
async fn a_throttled_promotion_is_retried_within_bounds_then_fails() {
    let throttled = || {
        mock!(aws_sdk_rds::Client::promote_read_replica).then_error(|| {
            PromoteReadReplicaError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        })
    };
    let throttled = throttled();
    let (why, _) = failed_promotion(&[&throttled]).await;
    assert!(why.contains("Throttling: Rate exceeded"), "{why}");
    assert_eq!(
        throttled.num_calls(),
        3,
        "three attempts (the SDK's bounded retries), then it stops"
    );
}

#[tokio::test]
async fn a_lock_taken_by_another_invocation_leaves_everything_to_it() {
    let dynamo_rules = [
        standing(None),
        get("probe#", None),
        get("lock#", None),
        mock!(aws_sdk_dynamodb::Client::put_item).then_error(condition_failed_put),
        mock!(aws_sdk_dynamodb::Client::update_item).then_error(condition_failed_update),
    ];
    let dynamodb: Vec<&Rule> = dynamo_rules.iter().collect();
    let replica = instance("available", true);
    let lagging = lag(1.0);
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
    let answer = f.handle(&manual(), &call()).await.unwrap();
    assert_eq!(answer["decision"], "Busy");
    used(&dynamodb);
}

#[tokio::test]
async fn a_crash_after_the_secret_resumes_at_the_roles() {
    let dynamo_rules = [
        standing(None),
        failed_probe(4),
        get("lock#", Some(lock_item("secret-updated", unix_now() - 1))),
        mock!(aws_sdk_dynamodb::Client::put_item).then_error(condition_failed_put),
        update_matching("req-1"),
        put("failover#promotion#"),
        get("lock#", Some(lock_item("secret-updated", unix_now() + 600))),
        put("current"),
        update_matching("\"done\""),
        update_matching("done: "),
    ];
    let dynamodb: Vec<&Rule> = dynamo_rules.iter().collect();
    let replica = instance("available", false);
    let lagging = lag(1.0);
    let (a, b) = (published(), published());
    let f = failover(
        &Mocks {
            rds: &[&replica],
            secrets: &[],
            cloudwatch: &[&lagging],
            dynamodb: &dynamodb,
            sns: &[&a, &b],
        },
        healthy_here(),
    );
    let answer = f
        .handle(&json!({"detail-type": "Scheduled Event"}), &call())
        .await
        .unwrap();
    assert!(answer["outcome"].as_str().unwrap().starts_with("done: "), "{answer}");
    used(&dynamodb);
}

#[tokio::test(start_paused = true)]
async fn a_healthy_primary_is_probed_each_interval_until_the_round_ends() {
    let counted = || {
        mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(|i| i.update_expression().unwrap().contains("failures = :zero"))
            .then_output(|| UpdateItemOutput::builder().attributes("failures", nattr(0)).build())
    };
    let mut dynamo_rules = Vec::new();
    for _ in 0..5 {
        dynamo_rules.extend([standing(None), counted(), get("lock#", None)]);
    }
    let dynamodb: Vec<&Rule> = dynamo_rules.iter().collect();
    let answers = Answers(HashMap::from([("https://peer.example/health", Ok(200))]));
    let f = failover(
        &Mocks {
            rds: &[],
            secrets: &[],
            cloudwatch: &[],
            dynamodb: &dynamodb,
            sns: &[],
        },
        answers,
    );
    let answer = f
        .handle(&json!({"detail-type": "Scheduled Event"}), &call())
        .await
        .unwrap();
    assert_eq!(answer["decision"], "Watch");
    used(&dynamodb);
}

#[tokio::test]
async fn in_the_primary_region_a_scheduled_run_reads_the_roles_and_stops() {
    let roles = HashMap::from([
        ("pk".to_owned(), s("region-roles")),
        ("sk".to_owned(), s("current")),
        ("primary".to_owned(), s("us-east-2")),
        ("standby".to_owned(), s("us-east-1")),
        ("updated_at".to_owned(), nattr(5)),
    ]);
    let dynamo_rules = [standing(Some(roles)), get("probe#", None), get("lock#", None)];
    let dynamodb: Vec<&Rule> = dynamo_rules.iter().collect();
    // No RDS, CloudWatch, SNS rule, and no probe answer: any of those calls fails the test.
    let mocks = Mocks {
        rds: &[],
        secrets: &[],
        cloudwatch: &[],
        dynamodb: &dynamodb,
        sns: &[],
    };
    let answer = failover(&mocks, Answers(HashMap::new()))
        .handle(&json!({"detail-type": "Scheduled Event"}), &call())
        .await
        .unwrap();
    assert_eq!(answer["decision"], "NotStandby");
    used(&dynamodb);
}

#[tokio::test]
async fn without_the_primarys_url_nothing_is_probed_and_nothing_fails_over() {
    // The first deploy of the standby before the primary's stack existed:
    // an unknown URL must never count as a failed probe.
    let streak = mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(|i| i.key().unwrap()["sk"].as_s().unwrap().starts_with("probe#"))
        .then_output(|| GetItemOutput::builder().build());
    let dynamo_rules = [standing(None), streak, get("lock#", None)];
    let dynamodb: Vec<&Rule> = dynamo_rules.iter().collect();
    let mut f = failover(
        &Mocks {
            rds: &[],
            secrets: &[],
            cloudwatch: &[],
            dynamodb: &dynamodb,
            sns: &[],
        },
        Answers(HashMap::new()),
    );
    f.settings.peer_health_url.clear();
    f.settings.round_secs = 0;
    let answer = f
        .handle(&json!({"detail-type": "Scheduled Event"}), &call())
        .await
        .unwrap();
    assert_eq!(answer["decision"], "Watch");
    assert!(answer["reason"].as_str().unwrap().contains("0 of 3"), "{answer}");
    used(&dynamodb);
}

#[test]
fn a_failed_invocation_is_a_named_type_and_one_sentence_in_the_log_and_in_lambda() {
    let error = FailoverError::Step("the failover to us-east-2 stopped: could not promote x".into());
    // lambda_runtime logs a handler's error with `{:?}`.
    assert_eq!(
        format!("{error:?}"),
        "the failover to us-east-2 stopped: could not promote x"
    );
    let diagnostic = tandem_core::event_fn::diagnostic(&error);
    assert_eq!(diagnostic.error_type, "tandem.FailoverStep");
    assert_eq!(
        diagnostic.error_message,
        "the failover to us-east-2 stopped: could not promote x"
    );
}
