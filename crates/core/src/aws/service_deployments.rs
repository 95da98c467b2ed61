//! One ECS service deployment (ECS-native blue/green), as
//! `DescribeServiceDeployments` answers for its ARN: the release resource
//! follows it, the rollback function asks whether it ended, and the CLI
//! reads its pause hooks. Each caller words the answer for its own reader.

use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsError;
use aws_sdk_ecs::types::{Failure, ServiceDeployment};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// What ECS says of one service deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Described {
    /// It describes it.
    Found(Box<ServiceDeployment>),
    /// It does not: its failure entry for the ARN, when it gives one (the
    /// local AWS gives neither).
    Missing(Option<Failure>),
}

/// `DescribeServiceDeployments` of `arn`, picked out of the answer by ARN.
pub async fn describe_service_deployment(
    ecs: &aws_sdk_ecs::Client,
    arn: &str,
) -> Result<Described, SdkError<DescribeServiceDeploymentsError, HttpResponse>> {
    let out = (ecs.describe_service_deployments())
        .service_deployment_arns(arn)
        .send()
        .await?;
    if let Some(found) = (out.service_deployments().iter()).find(|d| d.service_deployment_arn() == Some(arn)) {
        return Ok(Described::Found(Box::new(found.clone())));
    }
    let failure = (out.failures().iter()).find(|f| f.arn().is_none_or(|a| a == arn));
    Ok(Described::Missing(failure.cloned()))
}
