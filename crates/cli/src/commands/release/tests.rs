//! Tests of one region's release against mocked CloudFormation, ECR and
//! DynamoDB: each rule list is the exact sequence of calls expected of that
//! service (an unexpected call panics).

use super::*;
use aws_sdk_cloudformation::Client as Cfn;
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, Parameter, ResourceStatus, Stack, StackEvent, StackStatus,
};
use aws_sdk_dynamodb::Client as Ddb;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ecr::Client as Ecr;
use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesOutput};
use aws_sdk_ecr::types::ImageDetail;
use aws_sdk_ecr::types::error::ImageNotFoundException;
use aws_smithy_mocks::Rule;
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use std::collections::HashMap;
use std::time::Duration;
use tandem_core::clock::unix_now;
use tandem_testing::{mock, mock_client};

const STACK: &str = "tandem-dev-region";
const REGION: &str = "us-east-1";
const REPO: &str = "tandem-dev-app";
const TABLE: &str = "tandem-dev-state";

/// DescribeStacks: the stack in `status` with Env, ImageTag=v1 and Role.
fn stack(status: StackStatus) -> Rule {
    mock!(Cfn::describe_stacks)
        .match_requests(|i| i.stack_name() == Some(STACK))
        .then_output(move || {
            let p = |k: &str, v: &str| Parameter::builder().parameter_key(k).parameter_value(v).build();
            let stack = Stack::builder()
                .stack_name(STACK)
                .stack_status(status.clone())
                .parameters(p("Env", "dev"))
                .parameters(p("ImageTag", "v1"))
                .parameters(p("Role", "primary"))
                .build();
            DescribeStacksOutput::builder().stacks(stack).build()
        })
}

/// The release's change set: the previous template, every parameter kept
/// but ImageTag, which is v2.
fn create_change_set() -> Rule {
    mock!(Cfn::create_change_set)
        .match_requests(|i| {
            let kept = |k: &str| {
                i.parameters().iter().any(|p| {
                    p.parameter_key() == Some(k)
                        && p.use_previous_value() == Some(true)
                        && p.parameter_value().is_none()
                })
            };
            i.stack_name() == Some(STACK)
                && i.change_set_type() == Some(&ChangeSetType::Update)
                && i.use_previous_template() == Some(true)
                && i.template_body().is_none()
                && i.parameters().len() == 3
                && kept("Env")
                && kept("Role")
                && i.parameters().iter().any(|p| {
                    p.parameter_key() == Some("ImageTag")
                        && p.parameter_value() == Some("v2")
                        && p.use_previous_value() != Some(true)
                })
                && i.capabilities() == [Capability::CapabilityNamedIam]
                && i.tags()
                    .iter()
                    .any(|t| t.key() == Some("tandem:stack") && t.value() == Some("region"))
        })
        .then_output(|| CreateChangeSetOutput::builder().build())
}

fn change_set(status: ChangeSetStatus, reason: Option<&'static str>) -> Rule {
    mock!(Cfn::describe_change_set).then_output(move || {
        DescribeChangeSetOutput::builder()
            .status(status.clone())
            .set_status_reason(reason.map(str::to_owned))
            .build()
    })
}

/// One page of events, newest first: (logical id, type, status, reason).
fn events(page: Vec<(&'static str, &'static str, &'static str, Option<&'static str>)>) -> Rule {
    let at = i64::try_from(unix_now()).unwrap();
    mock!(Cfn::describe_stack_events).then_output(move || {
        let mut out = DescribeStackEventsOutput::builder();
        for (n, (logical, kind, status, reason)) in page.iter().enumerate() {
            out = out.stack_events(
                StackEvent::builder()
                    .event_id(format!("{logical}-{status}-{n}"))
                    .stack_name(STACK)
                    .logical_resource_id(*logical)
                    .resource_type(*kind)
                    .resource_status(ResourceStatus::from(*status))
                    .set_resource_status_reason(reason.map(str::to_owned))
                    .timestamp(DateTime::from_secs(at))
                    .build(),
            );
        }
        out.build()
    })
}

fn image(found: bool) -> Rule {
    let rule = mock!(Ecr::describe_images).match_requests(|i| {
        i.repository_name() == Some(REPO) && i.image_ids().first().and_then(|id| id.image_tag()) == Some("v2")
    });
    if found {
        rule.then_output(|| {
            DescribeImagesOutput::builder()
                .image_details(ImageDetail::builder().repository_name(REPO).image_tags("v2").build())
                .build()
        })
    } else {
        rule.then_error(|| {
            let meta = ErrorMetadata::builder()
                .code("ImageNotFoundException")
                .message("The image with imageId {imageTag:'v2'} does not exist")
                .build();
            DescribeImagesError::ImageNotFoundException(ImageNotFoundException::builder().meta(meta).build())
        })
    }
}

/// DescribeImages without details: how the local AWS answers for a tag it
/// does not have.
fn no_image_details() -> Rule {
    mock!(Ecr::describe_images).then_output(|| DescribeImagesOutput::builder().build())
}

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A release record item: (release id, image, state, deployment, reason).
fn record_item(id: &str, image: &str, state: &str, deployment: Option<&str>, reason: Option<&str>) -> Item {
    let mut item = Item::from([
        ("pk".to_owned(), s("release#us-east-1")),
        ("sk".to_owned(), s(&format!("0001795680000#{id}"))),
        ("release_id".to_owned(), s(id)),
        ("region".to_owned(), s(REGION)),
        ("image".to_owned(), s(image)),
        ("task_definition".to_owned(), s("arn:task-definition/tandem-dev-app:8")),
        ("state".to_owned(), s(state)),
        ("started_at".to_owned(), AttributeValue::N("1795680000".into())),
    ]);
    if let Some(d) = deployment {
        item.insert("deployment_id".into(), s(d));
    }
    if let Some(r) = reason {
        item.insert("reason".into(), s(r));
    }
    item
}

fn hook_item(key: &str, decision: &str) -> Item {
    Item::from([
        ("pk".to_owned(), s("audit")),
        ("sk".to_owned(), s(&format!("hook#{key}"))),
        ("kind".to_owned(), s("hook")),
        ("key".to_owned(), s(key)),
        ("at".to_owned(), AttributeValue::N("1795680100".into())),
        ("decision".to_owned(), s(decision)),
        ("reason".to_owned(), s("the green targets are healthy")),
        ("action".to_owned(), s("PutLifecycleEventHookExecutionStatus")),
        ("outcome".to_owned(), s("reported")),
        ("region".to_owned(), s(REGION)),
    ])
}

/// The region's last release: `item`, or none.
fn record_query(item: Option<Item>) -> Rule {
    mock!(Ddb::query)
        .match_requests(|i| {
            i.table_name() == Some(TABLE)
                && i.expression_attribute_values()
                    .and_then(|v| v.get(":pk"))
                    .is_some_and(|pk| pk == &s("release#us-east-1"))
        })
        .then_output(move || {
            QueryOutput::builder()
                .set_items(Some(item.clone().into_iter().collect()))
                .build()
        })
}

/// The hook decisions of deployment d-ABC.
fn hook_query(items: Vec<Item>) -> Rule {
    mock!(Ddb::query)
        .match_requests(|i| {
            i.expression_attribute_values()
                .and_then(|v| v.get(":prefix"))
                .is_some_and(|p| p == &s("hook#d-ABC#"))
        })
        .then_output(move || QueryOutput::builder().set_items(Some(items.clone())).build())
}

macro_rules! clients {
    ($sdk:ident, $rules:expr) => {
        mock_client!($sdk, $rules.iter())
    };
}

/// Asserts that every rule answered exactly one call.
fn all_used(rules: &[Vec<Rule>]) {
    for (service, list) in rules.iter().enumerate() {
        for (n, rule) in list.iter().enumerate() {
            assert_eq!(rule.num_calls(), 1, "service {service}, rule {n}");
        }
    }
}

/// Releases v2 in us-east-1 (with us-east-2 next) through the clients.
async fn release_v2(cfn: &Cfn, ecr: &Ecr, ddb: &Ddb) -> Result<String, ReleaseError> {
    let target = Target {
        region: REGION,
        role: "primary",
        env: "dev",
        stack: STACK,
        repository: REPO,
        stacks: Stacks::new(cfn, REGION, Duration::ZERO),
        ecr,
        state: StateTable::new(ddb.clone(), TABLE),
    };
    release_region(&target, "v2", Some("us-east-2")).await
}

#[tokio::test]
async fn a_missing_image_stops_before_any_change() {
    let cfn_rules = vec![stack(StackStatus::UpdateComplete)];
    let cfn = clients!(aws_sdk_cloudformation, cfn_rules);
    let ecr_rules = vec![image(false)];
    let ecr = clients!(aws_sdk_ecr, ecr_rules);
    let ddb_rules: Vec<Rule> = vec![];
    let ddb = clients!(aws_sdk_dynamodb, ddb_rules);
    let e = release_v2(&cfn, &ecr, &ddb).await.unwrap_err().to_string();
    assert_eq!(
        e,
        "image v2 is not in the ECR repository tandem-dev-app in us-east-1: push it to the primary region's \
         repository first (replication copies the primary's images to the standby within minutes), then release again"
    );
    all_used(&[cfn_rules, ecr_rules, ddb_rules]);
}

#[tokio::test]
async fn an_answer_without_the_image_counts_as_missing() {
    let cfn_rules = vec![stack(StackStatus::UpdateRollbackComplete)];
    let cfn = clients!(aws_sdk_cloudformation, cfn_rules);
    let ecr_rules = vec![no_image_details()];
    let ecr = clients!(aws_sdk_ecr, ecr_rules);
    let ddb_rules: Vec<Rule> = vec![];
    let ddb = clients!(aws_sdk_dynamodb, ddb_rules);
    let e = release_v2(&cfn, &ecr, &ddb).await.unwrap_err();
    assert!(matches!(e, ReleaseError::MissingImage { .. }), "{e}");
    all_used(&[cfn_rules, ecr_rules, ddb_rules]);
}

#[tokio::test]
async fn a_busy_stack_is_refused_before_the_image_is_looked_up() {
    let cfn_rules = vec![stack(StackStatus::UpdateInProgress)];
    let cfn = clients!(aws_sdk_cloudformation, cfn_rules);
    let ecr_rules: Vec<Rule> = vec![];
    let ecr = clients!(aws_sdk_ecr, ecr_rules);
    let ddb_rules: Vec<Rule> = vec![];
    let ddb = clients!(aws_sdk_dynamodb, ddb_rules);
    let e = release_v2(&cfn, &ecr, &ddb).await.unwrap_err().to_string();
    assert!(
        e.starts_with("tandem-dev-region in us-east-1 is UPDATE_IN_PROGRESS"),
        "{e}"
    );
    all_used(&[cfn_rules, ecr_rules, ddb_rules]);
}

#[tokio::test]
async fn no_changes_means_the_region_already_runs_the_image() {
    let discard = mock!(Cfn::delete_change_set).then_output(|| DeleteChangeSetOutput::builder().build());
    let cfn_rules = vec![
        stack(StackStatus::UpdateComplete),
        create_change_set(),
        change_set(
            ChangeSetStatus::Failed,
            Some("The submitted information didn't contain changes. Submit different information."),
        ),
        discard,
        stack(StackStatus::UpdateComplete),
    ];
    let cfn = clients!(aws_sdk_cloudformation, cfn_rules);
    let ecr_rules = vec![image(true)];
    let ecr = clients!(aws_sdk_ecr, ecr_rules);
    let ddb_rules = vec![record_query(None)];
    let ddb = clients!(aws_sdk_dynamodb, ddb_rules);
    let line = release_v2(&cfn, &ecr, &ddb).await.unwrap();
    assert_eq!(line, "us-east-1 (primary): already runs v2; nothing to do");
    all_used(&[cfn_rules, ecr_rules, ddb_rules]);
}

#[tokio::test]
async fn a_release_watches_the_record_and_hooks_until_the_stack_succeeds() {
    let execute = mock!(Cfn::execute_change_set)
        .match_requests(|i| i.stack_name() == Some(STACK))
        .then_output(|| ExecuteChangeSetOutput::builder().build());
    let cfn_rules = vec![
        stack(StackStatus::UpdateComplete),
        create_change_set(),
        change_set(ChangeSetStatus::CreateComplete, None),
        execute,
        stack(StackStatus::UpdateInProgress),
        events(vec![(STACK, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", None)]),
        stack(StackStatus::UpdateComplete),
        events(vec![(STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", None)]),
    ];
    let cfn = clients!(aws_sdk_cloudformation, cfn_rules);
    let ecr_rules = vec![image(true)];
    let ecr = clients!(aws_sdk_ecr, ecr_rules);
    let old = record_item("r-1", "v1", "succeeded", Some("d-OLD"), None);
    let running = record_item("r-2", "v2", "in-progress", Some("d-ABC"), None);
    let done = record_item(
        "r-2",
        "v2",
        "succeeded",
        Some("d-ABC"),
        Some("all traffic on revision 8"),
    );
    let ddb_rules = vec![
        record_query(Some(old)),
        record_query(Some(running)),
        hook_query(vec![hook_item("d-ABC#exec-1", "Succeeded")]),
        record_query(Some(done.clone())),
        hook_query(vec![
            hook_item("d-ABC#exec-1", "Succeeded"),
            hook_item("d-ABC#exec-2", "Succeeded"),
        ]),
        record_query(Some(done)),
        hook_query(vec![]),
    ];
    let ddb = clients!(aws_sdk_dynamodb, ddb_rules);
    let line = release_v2(&cfn, &ecr, &ddb).await.unwrap();
    assert_eq!(line, "us-east-1 (primary): released v2 through deployment d-ABC");
    all_used(&[cfn_rules, ecr_rules, ddb_rules]);
}

#[tokio::test]
async fn a_rolled_back_release_reports_the_cause_and_the_record() {
    let execute = mock!(Cfn::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build());
    let cfn_rules = vec![
        stack(StackStatus::UpdateComplete),
        create_change_set(),
        change_set(ChangeSetStatus::CreateComplete, None),
        execute,
        stack(StackStatus::UpdateRollbackComplete),
        events(vec![
            (STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", None),
            (
                "Deployment",
                "Custom::BlueGreenDeployment",
                "UPDATE_FAILED",
                Some("CodeDeploy d-ABC failed at AfterAllowTestTraffic"),
            ),
        ]),
    ];
    let cfn = clients!(aws_sdk_cloudformation, cfn_rules);
    let ecr_rules = vec![image(true)];
    let ecr = clients!(aws_sdk_ecr, ecr_rules);
    let failed = record_item(
        "r-2",
        "v2",
        "failed",
        Some("d-ABC"),
        Some("the green targets never became healthy"),
    );
    let ddb_rules = vec![
        record_query(None),
        record_query(Some(failed.clone())),
        hook_query(vec![hook_item("d-ABC#exec-1", "Failed")]),
        record_query(Some(failed)),
        hook_query(vec![hook_item("d-ABC#exec-1", "Failed")]),
    ];
    let ddb = clients!(aws_sdk_dynamodb, ddb_rules);
    let e = release_v2(&cfn, &ecr, &ddb).await.unwrap_err().to_string();
    for part in [
        "the release of v2 failed in us-east-1 (primary)",
        "ended UPDATE_ROLLBACK_COMPLETE",
        "Deployment (Custom::BlueGreenDeployment): CodeDeploy d-ABC failed at AfterAllowTestTraffic",
        "the release record says failed (the green targets never became healthy)",
        "us-east-2 was not touched",
    ] {
        assert!(e.contains(part), "{part:?} not in {e}");
    }
    all_used(&[cfn_rules, ecr_rules, ddb_rules]);
}
