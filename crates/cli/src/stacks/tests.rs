//! Tests of `stacks` against mocked CloudFormation: each rule list is the
//! exact sequence of calls expected (an unexpected call panics).

use super::*;
use crate::plan::{StackSpec, Template};
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{DescribeStacksError, DescribeStacksOutput};
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter};
use aws_sdk_cloudformation::types::{Parameter as StackParameter, ResourceStatus, Stack, StackStatus};
use aws_smithy_mocks::Rule;
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use std::collections::BTreeMap;
use tandem_testing::{mock, mock_client};

const NAME: &str = "tandem-dev-region";
const REGION: &str = "us-east-2";

fn now() -> i64 {
    i64::try_from(unix_now()).unwrap()
}

fn spec() -> StackSpec {
    StackSpec {
        template: Template::Region,
        name: NAME.into(),
        region: REGION.into(),
        parameters: BTreeMap::from([("Env".to_string(), "dev".to_string())]),
    }
}

/// DescribeStacks answers with the stack in `status`.
fn stack(status: StackStatus) -> Rule {
    mock!(Client::describe_stacks)
        .match_requests(|i| i.stack_name() == Some(NAME))
        .then_output(move || {
            DescribeStacksOutput::builder()
                .stacks(Stack::builder().stack_name(NAME).stack_status(status.clone()).build())
                .build()
        })
}

/// DescribeStacks answers with the stack in `status`, released at image v7.
fn released_stack(status: StackStatus) -> Rule {
    mock!(Client::describe_stacks)
        .match_requests(|i| i.stack_name() == Some(NAME))
        .then_output(move || {
            let p = |k: &str, v: &str| StackParameter::builder().parameter_key(k).parameter_value(v).build();
            let stack = Stack::builder()
                .stack_name(NAME)
                .stack_status(status.clone())
                .parameters(p("Env", "dev"))
                .parameters(p("ImageTag", "v7"))
                .build();
            DescribeStacksOutput::builder().stacks(stack).build()
        })
}

/// CreateChangeSet of `kind` whose ImageTag parameter passes `image`.
fn create_change_set_with_image(kind: ChangeSetType, image: fn(Option<&Parameter>) -> bool) -> Rule {
    mock!(Client::create_change_set)
        .match_requests(move |i| {
            let tag = i.parameters().iter().find(|p| p.parameter_key() == Some("ImageTag"));
            i.change_set_type() == Some(&kind)
                && i.template_body() == Some("body")
                && i.use_previous_template().is_none()
                && i.parameters()
                    .iter()
                    .any(|p| p.parameter_key() == Some("Env") && p.parameter_value() == Some("dev"))
                && image(tag)
        })
        .then_output(|| CreateChangeSetOutput::builder().build())
}

/// DescribeStacks answers that the stack does not exist.
fn no_stack() -> Rule {
    mock!(Client::describe_stacks)
        .match_requests(|i| i.stack_name() == Some(NAME))
        .then_error(|| {
            DescribeStacksError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message(format!("Stack with id {NAME} does not exist"))
                    .build(),
            )
        })
}

/// One event: (logical id, resource type, status, reason, seconds before now).
type Ev = (&'static str, &'static str, &'static str, Option<&'static str>, i64);

/// One page of DescribeStackEvents (newest first), read with `token`,
/// pointing at `next`.
fn events(token: Option<&'static str>, page: Vec<Ev>, next: Option<&'static str>) -> Rule {
    let at = now();
    mock!(Client::describe_stack_events)
        .match_requests(move |i| i.stack_name() == Some(NAME) && i.next_token() == token)
        .then_output(move || {
            let mut out = DescribeStackEventsOutput::builder().set_next_token(next.map(str::to_owned));
            for (n, (logical, kind, status, reason, ago)) in page.iter().enumerate() {
                out = out.stack_events(
                    StackEvent::builder()
                        .event_id(format!("{logical}-{status}-{n}"))
                        .stack_name(NAME)
                        .logical_resource_id(*logical)
                        .resource_type(*kind)
                        .resource_status(ResourceStatus::from(*status))
                        .set_resource_status_reason(reason.map(str::to_owned))
                        .timestamp(DateTime::from_secs(at - ago))
                        .build(),
                );
            }
            out.build()
        })
}

fn no_events() -> Rule {
    events(None, vec![], None)
}

fn create_change_set(kind: ChangeSetType) -> Rule {
    mock!(Client::create_change_set)
        .match_requests(move |i| {
            i.stack_name() == Some(NAME)
                && i.change_set_type() == Some(&kind)
                && i.change_set_name().is_some_and(|n| n.starts_with("tandem-dev-"))
                && i.template_body() == Some("body")
                && i.parameters()
                    .iter()
                    .any(|p| p.parameter_key() == Some("Env") && p.parameter_value() == Some("dev"))
                && i.capabilities() == [Capability::CapabilityNamedIam]
                && i.role_arn().is_none()
                && i.tags()
                    .iter()
                    .any(|t| t.key() == Some("tandem:stack") && t.value() == Some("region"))
        })
        .then_output(|| CreateChangeSetOutput::builder().build())
}

fn change_set(status: ChangeSetStatus, reason: Option<&'static str>) -> Rule {
    mock!(Client::describe_change_set)
        .match_requests(|i| i.stack_name() == Some(NAME))
        .then_output(move || {
            DescribeChangeSetOutput::builder()
                .status(status.clone())
                .set_status_reason(reason.map(str::to_owned))
                .build()
        })
}

fn delete_change_set() -> Rule {
    mock!(Client::delete_change_set)
        .match_requests(|i| i.stack_name() == Some(NAME))
        .then_output(|| DeleteChangeSetOutput::builder().build())
}

fn delete_stack() -> Rule {
    mock!(Client::delete_stack)
        .match_requests(|i| i.stack_name() == Some(NAME) && i.role_arn().is_none())
        .then_output(|| DeleteStackOutput::builder().build())
}

fn execute_change_set() -> Rule {
    mock!(Client::execute_change_set)
        .match_requests(|i| i.stack_name() == Some(NAME))
        .then_output(|| ExecuteChangeSetOutput::builder().build())
}

macro_rules! cfn {
    ($($rule:expr),* $(,)?) => {
        mock_client!(aws_sdk_cloudformation, [$(&$rule),*])
    };
}

#[test]
fn the_change_set_type_follows_the_stack_status() {
    assert_eq!(start_for(None), Start::Create);
    assert_eq!(start_for(Some("REVIEW_IN_PROGRESS")), Start::Create);
    assert_eq!(start_for(Some("ROLLBACK_COMPLETE")), Start::DeleteThenCreate);
    for busy in [
        "CREATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "DELETE_IN_PROGRESS",
    ] {
        assert_eq!(start_for(Some(busy)), Start::Busy, "{busy}");
    }
    for settled in [
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
    ] {
        assert_eq!(start_for(Some(settled)), Start::Update, "{settled}");
    }
}

#[tokio::test]
async fn a_new_stack_gets_a_create_change_set() {
    let client = cfn![
        no_stack(),
        create_change_set(ChangeSetType::Create),
        change_set(ChangeSetStatus::CreatePending, None),
        change_set(ChangeSetStatus::CreateComplete, None),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let name = stacks
        .prepare(&spec(), Body::Text("body"), "dev")
        .await
        .unwrap()
        .unwrap();
    assert!(name.starts_with("tandem-dev-"), "{name}");
}

#[tokio::test]
async fn a_stored_template_goes_by_url_and_never_inline() {
    let url = "http://127.0.0.1:4566/bucket/templates/region/0123456789abcdef.yaml";
    let client = cfn![
        no_stack(),
        mock!(Client::create_change_set)
            .match_requests(move |i| i.template_url() == Some(url) && i.template_body().is_none())
            .then_output(|| CreateChangeSetOutput::builder().build()),
        change_set(ChangeSetStatus::CreateComplete, None),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert!(stacks.prepare(&spec(), Body::Url(url), "dev").await.unwrap().is_some());
}

#[tokio::test]
async fn an_empty_stack_left_by_a_change_set_gets_a_create_change_set() {
    let client = cfn![
        stack(StackStatus::ReviewInProgress),
        create_change_set(ChangeSetType::Create),
        change_set(ChangeSetStatus::CreateComplete, None),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert!(
        stacks
            .prepare(&spec(), Body::Text("body"), "dev")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_settled_stack_gets_an_update_change_set() {
    let client = cfn![
        stack(StackStatus::UpdateRollbackComplete),
        create_change_set(ChangeSetType::Update),
        change_set(ChangeSetStatus::CreateComplete, None),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert!(
        stacks
            .prepare(&spec(), Body::Text("body"), "dev")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn an_update_keeps_the_released_image() {
    let mut spec = spec();
    spec.parameters.insert("ImageTag".into(), "ignored".into());
    let create = create_change_set_with_image(ChangeSetType::Update, |tag| {
        tag.is_some_and(|p| p.use_previous_value() == Some(true) && p.parameter_value().is_none())
    });
    let client = cfn![
        released_stack(StackStatus::UpdateComplete),
        create,
        change_set(ChangeSetStatus::CreateComplete, None),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert!(
        stacks
            .prepare(&spec, Body::Text("body"), "dev")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn a_create_leaves_the_image_to_the_template_default() {
    let create = create_change_set_with_image(ChangeSetType::Create, |tag| tag.is_none());
    let client = cfn![no_stack(), create, change_set(ChangeSetStatus::CreateComplete, None),];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert!(
        stacks
            .prepare(&spec(), Body::Text("body"), "dev")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn an_update_of_a_stack_without_an_image_parameter_does_not_ask_for_its_previous_value() {
    let create = create_change_set_with_image(ChangeSetType::Update, |tag| tag.is_none());
    let client = cfn![
        stack(StackStatus::UpdateComplete),
        create,
        change_set(ChangeSetStatus::CreateComplete, None),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert!(
        stacks
            .prepare(&spec(), Body::Text("body"), "dev")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn describe_reads_status_and_parameters() {
    let client = cfn![released_stack(StackStatus::UpdateRollbackComplete), no_stack()];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let current = stacks.describe(NAME).await.unwrap().unwrap();
    assert_eq!(current.status, "UPDATE_ROLLBACK_COMPLETE");
    assert_eq!(current.parameters["ImageTag"], "v7");
    assert_eq!(current.parameters.len(), 2);
    assert_eq!(stacks.describe(NAME).await.unwrap(), None);
}

/// Counts its polls.
struct Count(usize);

impl Watch for Count {
    async fn poll(&mut self) {
        self.0 += 1;
    }
}

#[tokio::test]
async fn a_watched_execution_polls_each_time_and_returns_a_failure_as_its_end() {
    let client = cfn![
        execute_change_set(),
        stack(StackStatus::UpdateInProgress),
        no_events(),
        stack(StackStatus::UpdateRollbackComplete),
        events(
            None,
            vec![(
                "Deployment",
                "Custom::BlueGreenDeployment",
                "UPDATE_FAILED",
                Some("hook failed"),
                0
            )],
            None
        ),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let mut count = Count(0);
    let ended = stacks.execute_watching(NAME, "cs", &mut count).await.unwrap();
    assert_eq!(
        ended,
        Ended::Failed {
            status: "UPDATE_ROLLBACK_COMPLETE".into(),
            cause: Some("Deployment (Custom::BlueGreenDeployment): hook failed".into()),
        }
    );
    assert_eq!(count.0, 2, "once a poll, the last one included");
}

/// A stack left in ROLLBACK_COMPLETE by a failed first create is deleted,
/// then created again through a change set; `role`, when given, is the
/// service role that the delete and the change set must both name.
async fn recreate_after_a_failed_first_create(delete: Rule, create: Rule, role: Option<&str>) {
    let client = cfn![
        stack(StackStatus::RollbackComplete),
        delete,
        stack(StackStatus::DeleteInProgress),
        no_events(),
        no_stack(),
        create,
        change_set(ChangeSetStatus::CreateComplete, None),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO).acting_as(role);
    assert!(
        stacks
            .prepare(&spec(), Body::Text("body"), "dev")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_failed_first_create_is_deleted_before_the_create_change_set() {
    let delete = delete_stack();
    recreate_after_a_failed_first_create(delete.clone(), create_change_set(ChangeSetType::Create), None).await;
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn with_a_service_role_every_change_set_and_delete_names_it() {
    const ROLE: &str = "arn:aws:iam::123456789012:role/tandem-ci-dev-cloudformation";
    let delete = mock!(Client::delete_stack)
        .match_requests(|i| i.stack_name() == Some(NAME) && i.role_arn() == Some(ROLE))
        .then_output(|| DeleteStackOutput::builder().build());
    let create = mock!(Client::create_change_set)
        .match_requests(|i| i.stack_name() == Some(NAME) && i.role_arn() == Some(ROLE))
        .then_output(|| CreateChangeSetOutput::builder().build());
    recreate_after_a_failed_first_create(delete.clone(), create.clone(), Some(ROLE)).await;
    assert_eq!((delete.num_calls(), create.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_busy_stack_is_refused_without_a_change_set() {
    let client = cfn![stack(StackStatus::UpdateInProgress)];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let e = stacks.prepare(&spec(), Body::Text("body"), "dev").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "tandem-dev-region in us-east-2: the stack is busy (UPDATE_IN_PROGRESS); \
         wait for that operation to finish, then retry"
    );
}

#[tokio::test]
async fn no_changes_deletes_the_empty_change_set_and_says_none() {
    let discard = delete_change_set();
    let client = cfn![
        stack(StackStatus::UpdateComplete),
        create_change_set(ChangeSetType::Update),
        change_set(
            ChangeSetStatus::Failed,
            Some(
                "The submitted information didn't contain changes. Submit different information to create a change set."
            )
        ),
        discard,
        stack(StackStatus::UpdateComplete),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert_eq!(stacks.prepare(&spec(), Body::Text("body"), "dev").await.unwrap(), None);
    assert_eq!(discard.num_calls(), 1);
}

#[tokio::test]
async fn a_failed_create_change_set_removes_the_empty_stack_and_names_the_reason() {
    let remove = delete_stack();
    let client = cfn![
        no_stack(),
        create_change_set(ChangeSetType::Create),
        change_set(
            ChangeSetStatus::Failed,
            Some("Template error: unresolved resource Vpcc")
        ),
        delete_change_set(),
        stack(StackStatus::ReviewInProgress),
        remove,
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let e = stacks.prepare(&spec(), Body::Text("body"), "dev").await.unwrap_err();
    assert!(e.reason.contains("unresolved resource Vpcc"), "{e}");
    assert_eq!(remove.num_calls(), 1, "the REVIEW_IN_PROGRESS stack is deleted");
}

#[tokio::test]
async fn an_executed_change_set_settles_on_success() {
    let client = cfn![
        execute_change_set(),
        stack(StackStatus::UpdateInProgress),
        events(
            None,
            vec![(NAME, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", None, 0)],
            None
        ),
        stack(StackStatus::UpdateComplete),
        events(
            None,
            vec![(NAME, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", None, 0)],
            None
        ),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert_eq!(stacks.execute(NAME, "cs").await.unwrap(), "UPDATE_COMPLETE");
}

#[tokio::test]
async fn a_failure_names_the_first_failed_resource_from_every_page_of_this_operation() {
    // Newest first. The cause is on the second page; the third page (older
    // operations) is never read.
    let first = events(
        None,
        vec![
            (NAME, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", None, 0),
            (
                "Db",
                "AWS::RDS::DBInstance",
                "UPDATE_FAILED",
                Some("Resource update cancelled"),
                0,
            ),
        ],
        Some("t2"),
    );
    let second = events(
        Some("t2"),
        vec![
            ("Vpc", "AWS::EC2::VPC", "UPDATE_FAILED", Some("CIDR overlaps"), 1),
            (NAME, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", None, 1),
            (
                "Old",
                "AWS::EC2::Subnet",
                "CREATE_FAILED",
                Some("an older deploy"),
                3600,
            ),
        ],
        Some("t3"),
    );
    let client = cfn![
        execute_change_set(),
        stack(StackStatus::UpdateRollbackComplete),
        first,
        second
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let e = stacks.execute(NAME, "cs").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "tandem-dev-region in us-east-2: ended UPDATE_ROLLBACK_COMPLETE; first failure: \
         Vpc (AWS::EC2::VPC): CIDR overlaps; fix that cause, then run the command again"
    );
}

#[tokio::test]
async fn a_stack_deleted_during_execution_is_an_error() {
    let client = cfn![execute_change_set(), no_stack()];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let e = stacks.execute(NAME, "cs").await.unwrap_err();
    assert!(e.reason.contains("disappeared"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn delete_waits_until_the_stack_is_gone() {
    let client = cfn![
        delete_stack(),
        stack(StackStatus::DeleteInProgress),
        no_events(),
        stack(StackStatus::DeleteInProgress),
        no_events(),
        no_stack(),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::from_secs(3));
    stacks.delete(NAME).await.unwrap();
}

#[tokio::test]
async fn delete_complete_counts_as_gone() {
    let client = cfn![delete_stack(), stack(StackStatus::DeleteComplete), no_events()];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    stacks.delete(NAME).await.unwrap();
}

#[tokio::test]
async fn a_failed_delete_names_what_blocked_it() {
    let client = cfn![
        delete_stack(),
        stack(StackStatus::DeleteFailed),
        events(
            None,
            vec![
                (
                    NAME,
                    "AWS::CloudFormation::Stack",
                    "DELETE_FAILED",
                    Some("resources failed to delete"),
                    0
                ),
                (
                    "Bucket",
                    "AWS::S3::Bucket",
                    "DELETE_FAILED",
                    Some("The bucket you tried to delete is not empty"),
                    0
                ),
            ],
            None,
        ),
    ];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    let e = stacks.delete(NAME).await.unwrap_err();
    assert!(
        e.reason
            .contains("DELETE_FAILED; first failure: Bucket (AWS::S3::Bucket): The bucket you tried"),
        "{e}"
    );
}

#[tokio::test]
async fn describe_reads_status_and_outputs_and_reports_other_errors_readably() {
    let denied = mock!(Client::describe_stacks).then_error(|| {
        DescribeStacksError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("User is not authorized to perform: cloudformation:DescribeStacks")
                .build(),
        )
    });
    let client = cfn![stack(StackStatus::CreateComplete), no_stack(), denied];
    let stacks = Stacks::new(&client, REGION, Duration::ZERO);
    assert_eq!(stacks.describe(NAME).await.unwrap().unwrap().status, "CREATE_COMPLETE");
    assert_eq!(stacks.describe(NAME).await.unwrap(), None);
    let e = stacks.describe(NAME).await.unwrap_err().to_string();
    assert!(
        e.starts_with("tandem-dev-region in us-east-2: could not read the stack (AccessDenied: User is not authorized"),
        "{e}"
    );
    assert!(e.ends_with("then retry"), "{e}");
}
