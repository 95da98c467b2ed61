//! The resource under the ECS engine against mocked ECS and DynamoDB (the
//! local AWS implements no service deployments): every call's parameters
//! are asserted in its rule, and each client's calls come in the order of
//! its rules. No CodeDeploy rule anywhere: a CodeDeploy call fails the test.
//!
//! The rules are here; the tests of a release in `release.rs`, of a Delete
//! and of a deployment ECS does not know in `stop.rs`, of the app contract
//! and the properties in `contract.rs`.

mod contract;
mod release;
mod stop;

use super::mocked::{LIVE, NEW, put, register, release_query, request, resource, run_with, used};
use super::props::{ecs_fixture, raw_ecs_fixture};
use super::spec::{SPEC_TAG, TaskSpec};
use super::*;
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::operation::list_service_deployments::ListServiceDeploymentsOutput;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;
use aws_sdk_ecs::operation::stop_service_deployment::{StopServiceDeploymentError, StopServiceDeploymentOutput};
use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
use aws_sdk_ecs::types::{
    DeploymentLifecycleHookDetail, DeploymentLifecycleHookStatus, Failure, Rollback, Service, ServiceDeployment,
    ServiceDeploymentAlarms, ServiceDeploymentBrief, ServiceDeploymentStatus, StopServiceDeploymentStopType, Tag,
    TaskDefinition, TaskSet,
};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use tandem_core::cfn::check_properties;
use tandem_testing::state::{put_already_claimed, update_matching};

const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF";
const OLDER: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/tandem-dev/tandem-dev-app/older";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tandem-dev/api-AbCdEf";

/// The service under the ECS controller: `live` is its PRIMARY deployment's
/// task definition (a task set, which this controller never has, would be
/// the wrong one).
fn service(live: &'static str, desired: i32) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|i| i.cluster() == Some("tandem-dev") && i.services() == ["tandem-dev-app"])
        .then_output(move || {
            let deployment = |status: &str, td: &str| {
                aws_sdk_ecs::types::Deployment::builder()
                    .status(status)
                    .task_definition(td)
                    .build()
            };
            let service = Service::builder()
                .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/stale:1")
                .task_sets(
                    TaskSet::builder()
                        .status("PRIMARY")
                        .task_definition("arn:td:not-this")
                        .build(),
                )
                .deployments(deployment(
                    "ACTIVE",
                    "arn:aws:ecs:us-east-1:123456789012:task-definition/tandem-dev-app:5",
                ))
                .deployments(deployment("PRIMARY", live))
                .desired_count(desired)
                .build();
            DescribeServicesOutput::builder().services(service).build()
        })
}

/// The live task definition, tagged `fingerprint`.
fn live_tagged(fingerprint: &'static str) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|i| i.task_definition() == Some(LIVE))
        .then_output(move || {
            DescribeTaskDefinitionOutput::builder()
                .tags(Tag::builder().key(SPEC_TAG).value(fingerprint).build())
                .build()
        })
}

/// `UpdateService` to the new revision, setting the desired count only on a
/// first release (`scale_to`), answered with `current` as the service
/// deployment to follow.
fn update(scale_to: Option<i32>, current: Option<&'static str>) -> Rule {
    mock!(aws_sdk_ecs::Client::update_service)
        .match_requests(move |i| {
            assert_eq!((i.cluster(), i.service()), (Some("tandem-dev"), Some("tandem-dev-app")));
            assert_eq!(i.task_definition(), Some(NEW));
            assert_eq!(
                i.desired_count(),
                scale_to,
                "the desired count is sent on a first release only"
            );
            true
        })
        .then_output(move || {
            let mut service = Service::builder().service_name("tandem-dev-app");
            if let Some(arn) = current {
                service = service.current_service_deployment(arn);
            }
            UpdateServiceOutput::builder().service(service.build()).build()
        })
}

/// The service deployments in progress or pending: `listed` (ARN, created at).
fn list(listed: &'static [(&'static str, i64)]) -> Rule {
    mock!(aws_sdk_ecs::Client::list_service_deployments)
        .match_requests(|i| {
            assert_eq!((i.cluster(), i.service()), (Some("tandem-dev"), Some("tandem-dev-app")));
            assert_eq!(
                i.status(),
                [ServiceDeploymentStatus::InProgress, ServiceDeploymentStatus::Pending]
            );
            true
        })
        .then_output(move || {
            let mut out = ListServiceDeploymentsOutput::builder();
            for (arn, at) in listed {
                out = out.service_deployments(
                    ServiceDeploymentBrief::builder()
                        .service_deployment_arn(*arn)
                        .created_at(DateTime::from_secs(*at))
                        .status(ServiceDeploymentStatus::InProgress)
                        .build(),
                );
            }
            out.build()
        })
}

/// `DescribeServiceDeployments` of [`ARN`], answered with `deployment`
/// (built on [`ARN`]).
fn describe(deployment: fn(ServiceDeployment) -> ServiceDeployment) -> Rule {
    mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .match_requests(|i| i.service_deployment_arns() == [ARN])
        .then_output(move || {
            let base = ServiceDeployment::builder().service_deployment_arn(ARN).build();
            DescribeServiceDeploymentsOutput::builder()
                .service_deployments(deployment(base))
                .build()
        })
}

fn in_progress(mut d: ServiceDeployment) -> ServiceDeployment {
    d.status = Some(ServiceDeploymentStatus::InProgress);
    d
}

fn successful(mut d: ServiceDeployment) -> ServiceDeployment {
    d.status = Some(ServiceDeploymentStatus::Successful);
    d
}

/// The writes of a release that starts and follows [`ARN`], ending with `end`.
fn release_writes(end: [Rule; 2]) -> Vec<Rule> {
    let [finish, outcome] = end;
    vec![
        put("#start"),
        put("in-progress"),
        update_matching(ARN),
        put("registered arn:aws:ecs:us-east-1:123456789012:task-definition/tandem-dev-app:7; ECS UpdateService"),
        finish,
        outcome,
    ]
}

fn failed_end() -> [Rule; 2] {
    [update_matching("failed"), put("release failed")]
}

fn refs(rules: &[Rule]) -> Vec<&Rule> {
    rules.iter().collect()
}
