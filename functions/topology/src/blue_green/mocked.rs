//! The resource against mocked ECS, CodeDeploy and DynamoDB (no emulator
//! implements CodeDeploy): every call's parameters are asserted in its rule,
//! and each client's calls come in the order of its rules.

use super::props::fixture;
use super::spec::{SPEC_TAG, TaskSpec, sha256_hex};
use super::*;
use aws_sdk_codedeploy::operation::batch_get_deployment_targets::BatchGetDeploymentTargetsOutput;
use aws_sdk_codedeploy::operation::create_deployment::{CreateDeploymentError, CreateDeploymentOutput};
use aws_sdk_codedeploy::operation::get_deployment::GetDeploymentOutput;
use aws_sdk_codedeploy::operation::list_deployment_targets::ListDeploymentTargetsOutput;
use aws_sdk_codedeploy::operation::stop_deployment::{StopDeploymentError, StopDeploymentOutput};
use aws_sdk_codedeploy::types::{
    DeploymentInfo, DeploymentStatus, DeploymentTarget, Diagnostics, EcsTarget, ErrorCode, ErrorInformation,
    LifecycleEvent, LifecycleEventStatus,
};
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;
use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
use aws_sdk_ecs::types::{Service, Tag, TaskDefinition, TaskSet};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use tandem_testing::mock_client;
use tandem_testing::state::update_matching;

pub(super) const REGION: &str = "us-east-1";
pub(super) const LIVE: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/tandem-dev-app:6";
pub(super) const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/tandem-dev-app:7";

pub(super) fn request(kind: &str) -> Request {
    serde_json::from_value(serde_json::json!({
        "RequestType": kind, "ResponseURL": "http://127.0.0.1:4566/x",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/tandem-dev-region/1",
        "RequestId": "req-1", "ResourceType": "Custom::BlueGreenDeployment", "LogicalResourceId": "Release",
        "PhysicalResourceId": "tandem-dev/tandem-dev-app",
    }))
    .unwrap()
}

fn wanted() -> String {
    TaskSpec::new(&fixture(), REGION).fingerprint()
}

/// The service, serving `live` (tagged `fingerprint`) with `desired` tasks.
pub(super) fn service(live: &'static str, desired: i32) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|i| i.cluster() == Some("tandem-dev") && i.services() == ["tandem-dev-app"])
        .then_output(move || {
            let primary = TaskSet::builder().status("PRIMARY").task_definition(live).build();
            let service = Service::builder()
                .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/stale:1")
                .task_sets(primary)
                .desired_count(desired)
                .build();
            DescribeServicesOutput::builder().services(service).build()
        })
}

pub(super) fn live_tagged(fingerprint: Option<String>) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|i| i.task_definition() == Some(LIVE) && !i.include().is_empty())
        .then_output(move || {
            let out = DescribeTaskDefinitionOutput::builder();
            match &fingerprint {
                Some(fp) => out.tags(Tag::builder().key(SPEC_TAG).value(fp).build()).build(),
                None => out.build(),
            }
        })
}

pub(super) fn register() -> Rule {
    mock!(aws_sdk_ecs::Client::register_task_definition)
        .match_requests(|i| {
            let c = &i.container_definitions()[0];
            assert_eq!(i.family(), Some("tandem-dev-app"));
            assert_eq!((i.cpu(), i.memory()), (Some("256"), Some("512")));
            assert_eq!(c.image(), Some("123456789012.images.example/tandem-dev-app:v1.2.3"));
            let env: Vec<_> = c
                .environment()
                .iter()
                .map(|kv| (kv.name().unwrap(), kv.value().unwrap()))
                .collect();
            assert!(env.contains(&("TANDEM_IMAGE_TAG", "v1.2.3")), "{env:?}");
            assert!(
                !env.iter().any(|(k, _)| *k == "TANDEM_REGION_ROLE"),
                "the role is not baked in"
            );
            assert_eq!(c.port_mappings()[0].container_port(), Some(8080));
            assert_eq!(c.readonly_root_filesystem(), Some(true));
            let tag = &i.tags()[0];
            assert_eq!((tag.key(), tag.value()), (Some(SPEC_TAG), Some(wanted().as_str())));
            true
        })
        .then_output(|| {
            let td = TaskDefinition::builder().task_definition_arn(NEW).build();
            RegisterTaskDefinitionOutput::builder().task_definition(td).build()
        })
}

/// A later release: the group's canary.
fn create_deployment() -> Rule {
    create_deployment_with(None)
}

/// `CreateDeployment`, naming deployment configuration `config` (`None`:
/// the group's own).
fn create_deployment_with(config: Option<&'static str>) -> Rule {
    mock!(aws_sdk_codedeploy::Client::create_deployment)
        .match_requests(move |i| {
            assert_eq!(i.deployment_config_name(), config, "the deployment configuration");
            assert_eq!(i.application_name(), Some("tandem-dev"));
            assert_eq!(i.deployment_group_name(), Some("tandem-dev-app"));
            let content = i.revision().unwrap().app_spec_content().unwrap();
            let text = content.content().unwrap();
            assert_eq!(content.sha256(), Some(sha256_hex(text).as_str()));
            assert!(text.contains(NEW) && text.contains("tandem-dev-deploy-hook"), "{text}");
            assert!(i.description().unwrap().contains("req-1"));
            true
        })
        .then_output(|| CreateDeploymentOutput::builder().deployment_id("d-NEW").build())
}

fn refused() -> Rule {
    mock!(aws_sdk_codedeploy::Client::create_deployment).then_error(|| {
        CreateDeploymentError::generic(ErrorMetadata::builder().code("InvalidRequest").message("").build())
    })
}

fn deployment(status: DeploymentStatus, error: Option<(ErrorCode, &'static str)>) -> Rule {
    mock!(aws_sdk_codedeploy::Client::get_deployment)
        .match_requests(|i| i.deployment_id() == Some("d-NEW"))
        .then_output(move || {
            let mut info = DeploymentInfo::builder().status(status.clone());
            if let Some((code, message)) = &error {
                info = info.error_information(ErrorInformation::builder().code(code.clone()).message(*message).build());
            }
            GetDeploymentOutput::builder().deployment_info(info.build()).build()
        })
}

fn targets_with_failed_hook() -> [Rule; 2] {
    let list = mock!(aws_sdk_codedeploy::Client::list_deployment_targets).then_output(|| {
        ListDeploymentTargetsOutput::builder()
            .target_ids("tandem-dev:tandem-dev-app")
            .build()
    });
    let details = mock!(aws_sdk_codedeploy::Client::batch_get_deployment_targets)
        .match_requests(|i| i.target_ids() == ["tandem-dev:tandem-dev-app"])
        .then_output(|| {
            let event = |name: &str, status| {
                LifecycleEvent::builder()
                    .lifecycle_event_name(name)
                    .status(status)
                    .diagnostics(Diagnostics::builder().message("/health answered 503").build())
                    .build()
            };
            let target = EcsTarget::builder()
                .lifecycle_events(event("BeforeInstall", LifecycleEventStatus::Succeeded))
                .lifecycle_events(event("AfterAllowTestTraffic", LifecycleEventStatus::Failed))
                .build();
            let target = DeploymentTarget::builder().ecs_target(target).build();
            BatchGetDeploymentTargetsOutput::builder()
                .deployment_targets(target)
                .build()
        });
    [list, details]
}

/// A state-table write whose item or values contain `needle`.
pub(super) fn put(needle: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |i| format!("{:?}", i.item()).contains(needle))
        .then_output(|| PutItemOutput::builder().build())
}

pub(super) fn resource(ecs: &[&Rule], codedeploy: &[&Rule], dynamodb: &[&Rule]) -> BlueGreenDeployment {
    BlueGreenDeployment::new(
        mock_client!(aws_sdk_ecs, ecs.iter().copied()),
        mock_client!(aws_sdk_codedeploy, codedeploy.iter().copied()),
        mock_client!(aws_sdk_dynamodb, dynamodb.iter().copied()),
        REGION,
    )
}

pub(super) fn used(rules: &[&Rule]) {
    for (i, rule) in rules.iter().enumerate() {
        assert_eq!(rule.num_calls(), 1, "rule {i} was not called exactly once");
    }
}

/// Starts an Update and polls like the runner until it ends; returns the
/// outcome (or the FAILED reason) and how many times it waited.
async fn run(resource: &BlueGreenDeployment) -> (Result<Outcome, String>, usize) {
    run_with(resource, fixture()).await
}

/// [`run`] with properties `props`.
pub(super) async fn run_with(resource: &BlueGreenDeployment, props: Props) -> (Result<Outcome, String>, usize) {
    let req = request("Update");
    let mut step = resource
        .update(&req, "tandem-dev/tandem-dev-app", props.clone(), None)
        .await;
    let mut waits = 0;
    loop {
        match step {
            Ok(Outcome::InProgress { state, physical_id, .. }) => {
                assert_eq!(physical_id.as_deref(), Some("tandem-dev/tandem-dev-app"));
                waits += 1;
                step = resource.poll(&req, props.clone(), state).await;
            }
            other => return (other.map_err(|e| e.to_string()), waits),
        }
    }
}

#[tokio::test]
async fn a_release_registers_deploys_follows_and_records_success() {
    let ecs = [&service(LIVE, 2), &live_tagged(Some("fp-old".into())), &register()];
    let cd = [
        &create_deployment(),
        &deployment(DeploymentStatus::InProgress, None),
        &deployment(DeploymentStatus::Succeeded, None),
    ];
    let db = [
        &put("#start"),
        &put("in-progress"),
        &update_matching("d-NEW"),
        &put("started d-NEW"),
        &update_matching("succeeded"),
        &put("released"),
    ];
    let (outcome, waits) = run(&resource(&ecs, &cd, &db)).await;
    let Ok(Outcome::Done { physical_id, data, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(physical_id, "tandem-dev/tandem-dev-app");
    assert_eq!(
        (data["TaskDefinitionArn"].as_str(), data["DeploymentId"].as_str()),
        (Some(NEW), Some("d-NEW"))
    );
    assert_eq!(waits, 2, "one wait after the start, one after InProgress");
    used(&[&ecs[..], &cd[..], &db[..]].concat());
}

#[tokio::test]
async fn the_no_op_update_of_a_stack_rollback_touches_nothing() {
    let ecs = [&service(LIVE, 2), &live_tagged(Some(wanted()))];
    let (outcome, waits) = run(&resource(&ecs, &[], &[])).await;
    let Ok(Outcome::Done { data, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(data["TaskDefinitionArn"], LIVE);
    assert_eq!(waits, 0);
    used(&ecs);
}

#[tokio::test]
async fn no_image_yet_means_no_call_at_all() {
    let mut props = fixture();
    props.image_tag.clear();
    let resource = resource(&[], &[], &[]);
    let outcome = resource.create(&request("Create"), props).await.unwrap();
    assert_eq!(outcome, done(&fixture(), "", ""));
}

#[tokio::test]
async fn the_first_release_scales_a_zero_task_service_before_deploying() {
    let scale = mock!(aws_sdk_ecs::Client::update_service)
        .match_requests(|i| i.desired_count() == Some(2) && i.service() == Some("tandem-dev-app"))
        .then_output(|| UpdateServiceOutput::builder().build());
    let ecs = [&service(LIVE, 0), &live_tagged(None), &register(), &scale];
    let all_at_once = create_deployment_with(Some("CodeDeployDefault.ECSAllAtOnce"));
    let cd = [&all_at_once, &deployment(DeploymentStatus::Succeeded, None)];
    let db = [
        &put("#start"),
        &put("in-progress"),
        &update_matching("d-NEW"),
        &put("started"),
        &update_matching("succeeded"),
        &put("released"),
    ];
    let (outcome, _) = run(&resource(&ecs, &cd, &db)).await;
    assert!(matches!(outcome, Ok(Outcome::Done { .. })), "{outcome:?}");
    used(&[&ecs[..], &cd[..], &db[..]].concat());
}

#[tokio::test]
async fn a_failed_first_release_scales_the_service_back_to_zero() {
    let scale = |to: i32| {
        mock!(aws_sdk_ecs::Client::update_service)
            .match_requests(move |i| i.desired_count() == Some(to))
            .then_output(|| UpdateServiceOutput::builder().build())
    };
    let (up, down) = (scale(2), scale(0));
    let ecs = [&service(LIVE, 0), &live_tagged(None), &register(), &up, &down];
    let list = mock!(aws_sdk_codedeploy::Client::list_deployment_targets)
        .then_output(|| ListDeploymentTargetsOutput::builder().build());
    let all_at_once = create_deployment_with(Some("CodeDeployDefault.ECSAllAtOnce"));
    let cd = [&all_at_once, &deployment(DeploymentStatus::Failed, None), &list];
    let db = [
        &put("#start"),
        &put("in-progress"),
        &update_matching("d-NEW"),
        &put("started"),
        &update_matching("failed"),
        &put("release failed"),
    ];
    let (outcome, _) = run(&resource(&ecs, &cd, &db)).await;
    let reason = outcome.unwrap_err();
    assert!(reason.contains("scaled back to zero tasks"), "{reason}");
    used(&[&ecs[..], &cd[..], &db[..]].concat());
}

#[tokio::test]
async fn a_refused_deployment_fails_naming_codedeploy_and_records_it() {
    let ecs = [&service(LIVE, 2), &live_tagged(None), &register()];
    let cd = [&refused()];
    let db = [
        &put("#start"),
        &put("in-progress"),
        &update_matching("failed"),
        &put("release failed"),
    ];
    let (outcome, _) = run(&resource(&ecs, &cd, &db)).await;
    let reason = outcome.unwrap_err();
    assert!(
        reason.starts_with("CodeDeploy CreateDeployment in tandem-dev/tandem-dev-app was refused"),
        "{reason}"
    );
    assert!(reason.contains("release again"), "{reason}");
    used(&[&ecs[..], &cd[..], &db[..]].concat());
}

#[tokio::test]
async fn a_deployment_that_fails_mid_way_names_the_failing_hook() {
    let ecs = [&service(LIVE, 2), &live_tagged(None), &register()];
    let [list, details] = targets_with_failed_hook();
    let failed = deployment(
        DeploymentStatus::Failed,
        Some((ErrorCode::HookExecutionFailure, "A lifecycle hook failed.")),
    );
    let cd = [
        &create_deployment(),
        &deployment(DeploymentStatus::InProgress, None),
        &failed,
        &list,
        &details,
    ];
    let db = [
        &put("#start"),
        &put("in-progress"),
        &update_matching("d-NEW"),
        &put("started"),
        &update_matching("failed"),
        &put("release failed"),
    ];
    let (outcome, _) = run(&resource(&ecs, &cd, &db)).await;
    let reason = outcome.unwrap_err();
    assert!(
        reason.starts_with(
            "CodeDeploy deployment d-NEW failed: the AfterAllowTestTraffic hook failed (/health answered 503)"
        ),
        "{reason}"
    );
    assert!(reason.contains("HOOK_EXECUTION_FAILURE"), "{reason}");
    used(&[&ecs[..], &cd[..], &db[..]].concat());
}

#[tokio::test]
async fn a_deployment_stopped_mid_way_fails_the_release() {
    let ecs = [&service(LIVE, 2), &live_tagged(None), &register()];
    let list = mock!(aws_sdk_codedeploy::Client::list_deployment_targets)
        .then_output(|| ListDeploymentTargetsOutput::builder().build());
    let cd = [
        &create_deployment(),
        &deployment(DeploymentStatus::Stopped, None),
        &list,
    ];
    let db = [
        &put("#start"),
        &put("in-progress"),
        &update_matching("d-NEW"),
        &put("started"),
        &update_matching("failed"),
        &put("release failed"),
    ];
    let (outcome, _) = run(&resource(&ecs, &cd, &db)).await;
    assert!(
        outcome
            .unwrap_err()
            .starts_with("CodeDeploy deployment d-NEW was stopped;")
    );
    used(&[&ecs[..], &cd[..], &db[..]].concat());
}

/// The state table's answer to "the newest release in us-east-1": release
/// `id` of image v1 in `state`, with its deployment and reason when given.
pub(super) fn release_query(
    id: &'static str,
    state: &'static str,
    deployment: Option<&'static str>,
    reason: Option<&'static str>,
) -> Rule {
    mock!(aws_sdk_dynamodb::Client::query).then_output(move || {
        let mut item = std::collections::HashMap::from([
            ("pk".to_owned(), AttributeValue::S("release#us-east-1".into())),
            ("sk".to_owned(), AttributeValue::S(format!("0001795680000#{id}"))),
            ("release_id".to_owned(), AttributeValue::S(id.into())),
            ("region".to_owned(), AttributeValue::S(REGION.into())),
            ("image".to_owned(), AttributeValue::S("v1".into())),
            ("task_definition".to_owned(), AttributeValue::S(NEW.into())),
            ("state".to_owned(), AttributeValue::S(state.into())),
            ("started_at".to_owned(), AttributeValue::N("1795680000".into())),
        ]);
        for (key, value) in [("deployment_id", deployment), ("reason", reason)] {
            if let Some(v) = value {
                item.insert(key.into(), AttributeValue::S(v.into()));
            }
        }
        QueryOutput::builder().items(item).build()
    })
}

/// An earlier release, `req-0`, in `state`.
fn last_release(state: &'static str, deployment: Option<&'static str>) -> Rule {
    release_query("req-0", state, deployment, None)
}

#[tokio::test]
async fn delete_stops_the_release_in_flight_and_records_it() {
    let stop = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|i| i.deployment_id() == Some("d-OLD") && i.auto_rollback_enabled() == Some(true))
        .then_output(|| StopDeploymentOutput::builder().build());
    let db = [
        &last_release("in-progress", Some("d-OLD")),
        &update_matching("failed"),
        &put("release failed"),
    ];
    let resource = resource(&[], &[&stop], &db);
    let outcome = resource
        .delete(&request("Delete"), "tandem-dev/tandem-dev-app", fixture())
        .await;
    assert!(matches!(outcome, Ok(Outcome::Done { .. })), "{outcome:?}");
    used(&[&stop, db[0], db[1], db[2]]);
}

#[tokio::test]
async fn delete_of_a_finished_release_or_an_ended_deployment_only_succeeds() {
    let db = [&last_release("succeeded", Some("d-OLD"))];
    let outcome = resource(&[], &[], &db)
        .delete(&request("Delete"), "tandem-dev/tandem-dev-app", fixture())
        .await;
    assert!(matches!(outcome, Ok(Outcome::Done { .. })), "{outcome:?}");
    let ended = mock!(aws_sdk_codedeploy::Client::stop_deployment).then_error(|| {
        StopDeploymentError::generic(
            ErrorMetadata::builder()
                .code("DeploymentAlreadyCompletedException")
                .build(),
        )
    });
    let db = [
        &last_release("in-progress", Some("d-OLD")),
        &update_matching("failed"),
        &put("release failed"),
    ];
    let outcome = resource(&[], &[&ended], &db)
        .delete(&request("Delete"), "tandem-dev/tandem-dev-app", fixture())
        .await;
    assert!(matches!(outcome, Ok(Outcome::Done { .. })), "{outcome:?}");
    used(&[&ended, db[0], db[1], db[2]]);
}

#[tokio::test]
async fn a_service_the_sdk_cannot_read_is_named_as_such_not_as_a_missing_cluster() {
    // What the local AWS answered once: a number kept as the template's string.
    let unreadable = mock!(aws_sdk_ecs::Client::describe_services).then_http_response(|| {
        tandem_testing::raw_response(
            200,
            r#"{"services":[{"serviceName":"tandem-dev-app","deploymentConfiguration":{"bakeTimeInMinutes":"15"}}]}"#,
        )
    });
    let (outcome, _) = run(&resource(&[&unreadable], &[], &[])).await;
    let why = outcome.unwrap_err();
    assert!(why.contains("could not be read"), "{why}");
    assert!(why.contains("aws ecs describe-services"), "{why}");
    assert!(!why.contains("check that the cluster exists"), "{why}");
}
