//! A CloudFormation stack as the CLI and the functions see it: its status
//! and outputs, from one `DescribeStacks`.

use super::errors::is_not_found;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use std::collections::BTreeMap;

/// What one `DescribeStacks` says of a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackView {
    /// Its status, such as `CREATE_COMPLETE`.
    pub status: String,
    /// Why it has that status, when CloudFormation says (a failed or rolled-back operation).
    pub reason: Option<String>,
    /// Its outputs, key to value.
    pub outputs: BTreeMap<String, String>,
    /// Its parameters, name to value (`****` for a `NoEcho` one).
    pub parameters: BTreeMap<String, String>,
}

/// Stack `name` (a name or ARN) through `client`; `None` when it does not exist.
pub async fn describe_stack(
    client: &Client,
    name: &str,
) -> Result<Option<StackView>, SdkError<DescribeStacksError, HttpResponse>> {
    match client.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks().first().map(|stack| StackView {
            status: stack.stack_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            reason: stack.stack_status_reason().map(str::to_owned),
            outputs: stack
                .outputs()
                .iter()
                .filter_map(|o| {
                    Some((
                        o.output_key()?.to_owned(),
                        o.output_value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
            parameters: stack
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_owned(),
                        p.parameter_value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
        })),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mock_client;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
    use aws_sdk_cloudformation::types::{Output, Parameter, Stack, StackStatus};
    use aws_smithy_mocks::mock;
    use aws_smithy_types::error::ErrorMetadata;

    #[tokio::test]
    async fn status_reason_outputs_and_parameters_of_an_existing_stack() {
        let rule = mock!(Client::describe_stacks)
            .match_requests(|input| input.stack_name() == Some("tandem-dev-region"))
            .then_output(|| {
                let stack = Stack::builder()
                    .stack_name("tandem-dev-region")
                    .stack_status(StackStatus::UpdateRollbackComplete)
                    .stack_status_reason("The following resource(s) failed to update: [Service].")
                    .outputs(Output::builder().output_key("DbArn").output_value("arn:db").build())
                    .outputs(Output::builder().output_key("Empty").build())
                    .parameters(
                        Parameter::builder()
                            .parameter_key("ImageTag")
                            .parameter_value("v7")
                            .build(),
                    )
                    .build();
                DescribeStacksOutput::builder().stacks(stack).build()
            });
        let client = mock_client!(aws_sdk_cloudformation, [&rule]);
        let view = describe_stack(&client, "tandem-dev-region").await.unwrap().unwrap();
        assert_eq!(view.status, "UPDATE_ROLLBACK_COMPLETE");
        assert_eq!(
            view.reason.as_deref(),
            Some("The following resource(s) failed to update: [Service].")
        );
        assert_eq!(view.outputs["DbArn"], "arn:db");
        assert_eq!(view.outputs["Empty"], "");
        assert_eq!(view.parameters["ImageTag"], "v7");
    }

    #[tokio::test]
    async fn a_missing_stack_is_none_and_other_errors_are_errors() {
        let missing = mock!(Client::describe_stacks).then_error(|| {
            DescribeStacksError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message("Stack with id gone does not exist")
                    .build(),
            )
        });
        let denied = mock!(Client::describe_stacks).then_error(|| {
            DescribeStacksError::generic(ErrorMetadata::builder().code("AccessDenied").message("no").build())
        });
        let client = mock_client!(aws_sdk_cloudformation, [&missing, &denied]);
        assert_eq!(describe_stack(&client, "gone").await.unwrap(), None);
        let e = describe_stack(&client, "secret").await.unwrap_err();
        assert_eq!(super::super::error_text(&e), "AccessDenied: no");
    }
}
