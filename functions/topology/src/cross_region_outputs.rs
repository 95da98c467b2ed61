//! `Custom::CrossRegionOutputs`: the outputs of a stack in another region.
//!
//! CloudFormation's `Fn::ImportValue` works within one region only. This
//! resource reads `StackName`'s outputs in `Region` and returns them as
//! attributes: `!GetAtt PrimaryOutputs.DbArn`.
//!
//! | property | type | meaning |
//! | --- | --- | --- |
//! | `Region` | string | where the stack lives, such as `us-east-1` |
//! | `StackName` | string | its name or ARN |
//! | `OutputKeys` | list of strings, optional | only these outputs (each must exist); all when absent |
//!
//! Create and Update read the outputs (Update reads them again, so a
//! change of the source stack is picked up by any update of this resource);
//! Delete does nothing. A change of Region or StackName is a replacement.

use aws_sdk_cloudformation::Client;
use serde::Deserialize;
use serde_json::{Map, Value};
use tandem_core::aws::{RegionalClients, StackView, check_region, describe_stack, error_text};
use tandem_core::cfn::{CustomResource, HandlerError, Outcome, Request};
use tandem_core::text::quote;

/// The longest stack name CloudFormation allows.
pub const MAX_STACK_NAME: usize = 128;

/// The resource's properties.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Props {
    /// The source stack's region.
    pub region: String,
    /// The source stack's name or ARN.
    pub stack_name: String,
    /// The outputs to return; all of them when absent.
    #[serde(default)]
    pub output_keys: Option<Vec<String>>,
}

/// The pure decision: which data to return, or why none can be.
pub fn select_outputs(props: &Props, stack: Option<&StackView>) -> Result<Map<String, Value>, String> {
    let place = format!("stack {} in {}", quote(&props.stack_name), props.region);
    let Some(stack) = stack else {
        return Err(format!(
            "{place} does not exist: check StackName and Region, and deploy that stack first"
        ));
    };
    if matches!(
        stack.status.as_str(),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED"
    ) || stack.status.starts_with("DELETE_")
    {
        return Err(format!(
            "{place} is {}, so its outputs cannot be used: fix and redeploy it first",
            stack.status
        ));
    }
    let wanted: Vec<&String> = match &props.output_keys {
        Some(keys) => keys.iter().collect(),
        None => stack.outputs.keys().collect(),
    };
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|k| !stack.outputs.contains_key(k.as_str()))
        .map(|k| k.as_str())
        .collect();
    if !missing.is_empty() {
        let available: Vec<&str> = stack.outputs.keys().map(String::as_str).collect();
        return Err(format!(
            "{place} has no output {}; it has: {}",
            missing.join(", "),
            if available.is_empty() {
                "none".to_owned()
            } else {
                available.join(", ")
            }
        ));
    }
    Ok(wanted
        .into_iter()
        .map(|k| (k.clone(), Value::String(stack.outputs[k.as_str()].clone())))
        .collect())
}

/// Checks the properties beyond their types.
pub fn validate(props: &Props) -> Result<(), String> {
    check_region(&props.region).map_err(|e| format!("property `Region`: {e}"))?;
    check_stack_name(&props.stack_name).map_err(|e| format!("property `StackName`: {e}"))?;
    if let Some(keys) = &props.output_keys {
        if let Some(i) = keys.iter().position(|k| k.trim().is_empty()) {
            return Err(format!("property `OutputKeys[{i}]`: an output key cannot be empty"));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = keys.iter().find(|k| !seen.insert(k.as_str())) {
            return Err(format!("property `OutputKeys`: {} is listed twice", quote(dup)));
        }
    }
    Ok(())
}

/// A stack name (a letter, then letters, digits and hyphens, at most
/// [`MAX_STACK_NAME`]) or a stack ARN.
fn check_stack_name(name: &str) -> Result<(), String> {
    if name.starts_with("arn:") {
        return if name.contains(":stack/") && name.len() <= 2048 {
            Ok(())
        } else {
            Err(format!(
                "{} is not a stack ARN (arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>)",
                quote(name)
            ))
        };
    }
    let count = name.chars().count();
    if count == 0 || count > MAX_STACK_NAME {
        return Err(format!(
            "must name a stack in 1 to {MAX_STACK_NAME} characters (CloudFormation's limit), not {count}: \
             use the stack's name or ARN"
        ));
    }
    let mut chars = name.chars();
    let valid =
        chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(format!(
            "{} is not a stack name: a stack name starts with a letter and has only letters, digits and hyphens",
            quote(name)
        ));
    }
    Ok(())
}

/// The physical id: one per source, so that pointing at another stack is a
/// replacement.
pub fn physical_id(props: &Props) -> String {
    format!("cross-region-outputs:{}:{}", props.region, props.stack_name)
}

/// Serves `Custom::CrossRegionOutputs`.
pub struct CrossRegionOutputs {
    clients: RegionalClients<Client>,
}

impl CrossRegionOutputs {
    /// Reads through `clients`, one CloudFormation client per region.
    pub fn new(clients: RegionalClients<Client>) -> Self {
        Self { clients }
    }

    async fn observe(&self, props: &Props) -> Result<Option<StackView>, HandlerError> {
        let client = self.clients.get(&props.region);
        describe_stack(&client, &props.stack_name).await.map_err(|e| {
            format!(
                "could not read stack {} in {}: {}",
                quote(&props.stack_name),
                props.region,
                error_text(&e)
            )
            .into()
        })
    }

    async fn read(&self, props: &Props) -> Result<Outcome, HandlerError> {
        let stack = self.observe(props).await?;
        let data = select_outputs(props, stack.as_ref())?;
        tracing::info!(region = %props.region, stack = %props.stack_name, keys = ?data.keys().collect::<Vec<_>>(), "read outputs");
        Ok(Outcome::done_with(physical_id(props), data))
    }
}

impl CustomResource for CrossRegionOutputs {
    type Properties = Props;
    const RESOURCE_TYPE: &'static str = "Custom::CrossRegionOutputs";

    fn validate(props: &Props) -> Result<(), String> {
        validate(props)
    }

    async fn create(&self, _: &Request, props: Props) -> Result<Outcome, HandlerError> {
        self.read(&props).await
    }

    async fn update(&self, _: &Request, _: &str, props: Props, _: Option<Props>) -> Result<Outcome, HandlerError> {
        self.read(&props).await
    }

    async fn delete(&self, _: &Request, physical_id: &str, _: Props) -> Result<Outcome, HandlerError> {
        // Reading created nothing, so there is nothing to remove.
        Ok(Outcome::done(physical_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(keys: Option<&[&str]>) -> Props {
        Props {
            region: "us-east-1".into(),
            stack_name: "tandem-dev-region".into(),
            output_keys: keys.map(|k| k.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn stack(status: &str, outputs: &[(&str, &str)]) -> StackView {
        StackView {
            status: status.into(),
            reason: None,
            outputs: outputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            parameters: Default::default(),
        }
    }

    #[test]
    fn all_outputs_when_no_keys_are_given() {
        let data = select_outputs(&props(None), Some(&stack("CREATE_COMPLETE", &[("A", "1"), ("B", "2")]))).unwrap();
        assert_eq!(Value::Object(data), serde_json::json!({"A": "1", "B": "2"}));
    }

    #[test]
    fn only_the_named_outputs_when_keys_are_given() {
        let data = select_outputs(
            &props(Some(&["B"])),
            Some(&stack("UPDATE_COMPLETE", &[("A", "1"), ("B", "2")])),
        )
        .unwrap();
        assert_eq!(Value::Object(data), serde_json::json!({"B": "2"}));
    }

    #[test]
    fn a_missing_stack_names_the_stack_and_the_region() {
        let e = select_outputs(&props(None), None).unwrap_err();
        assert!(e.contains("\"tandem-dev-region\" in us-east-1 does not exist"), "{e}");
    }

    #[test]
    fn missing_outputs_are_named_with_the_available_ones() {
        let e = select_outputs(
            &props(Some(&["DbArn", "A", "VpcId"])),
            Some(&stack("CREATE_COMPLETE", &[("A", "1")])),
        )
        .unwrap_err();
        assert!(e.contains("has no output DbArn, VpcId; it has: A"), "{e}");
        let e = select_outputs(&props(Some(&["A"])), Some(&stack("CREATE_COMPLETE", &[]))).unwrap_err();
        assert!(e.ends_with("it has: none"), "{e}");
    }

    #[test]
    fn unusable_stack_states_are_refused_with_the_state() {
        for status in [
            "ROLLBACK_COMPLETE",
            "ROLLBACK_FAILED",
            "CREATE_FAILED",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE",
        ] {
            let e = select_outputs(&props(None), Some(&stack(status, &[("A", "1")]))).unwrap_err();
            assert!(e.contains(status), "{e}");
        }
        for status in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "UPDATE_IN_PROGRESS",
        ] {
            assert!(
                select_outputs(&props(None), Some(&stack(status, &[("A", "1")]))).is_ok(),
                "{status}"
            );
        }
    }

    #[test]
    fn properties_are_checked_with_the_field_named() {
        let mut p = props(None);
        p.region = "us-east".into();
        assert!(validate(&p).unwrap_err().starts_with("property `Region`"));
        for bad in [" ", "", "1stack", "has space", "under_score"] {
            let mut p = props(None);
            p.stack_name = bad.into();
            assert!(validate(&p).unwrap_err().starts_with("property `StackName`"), "{bad:?}");
        }
        let mut p = props(None);
        p.stack_name = "s".repeat(MAX_STACK_NAME);
        assert!(validate(&p).is_ok());
        p.stack_name = "s".repeat(200_000);
        let e = validate(&p).unwrap_err();
        assert!(e.contains("1 to 128 characters") && e.contains("not 200000"), "{e}");
        assert!(e.len() < 200, "the value is not quoted whole: {} characters", e.len());
        p.stack_name = "arn:aws:cloudformation:us-east-1:123456789012:stack/tandem-dev-region/1f2e".into();
        assert!(validate(&p).is_ok());
        p.stack_name = "arn:aws:s3:::bucket".into();
        assert!(validate(&p).unwrap_err().contains("not a stack ARN"));
        assert!(
            validate(&props(Some(&["A", ""])))
                .unwrap_err()
                .starts_with("property `OutputKeys[1]`")
        );
        assert!(
            validate(&props(Some(&["A", "A"])))
                .unwrap_err()
                .contains("listed twice")
        );
        assert!(validate(&props(Some(&["A", "B"]))).is_ok());
    }

    #[test]
    fn the_physical_id_changes_with_the_source_only() {
        let a = physical_id(&props(None));
        assert_eq!(a, physical_id(&props(Some(&["A"]))));
        let mut other = props(None);
        other.region = "us-east-2".into();
        assert_ne!(a, physical_id(&other));
    }

    #[test]
    fn string_properties_parse_from_cloudformation_json() {
        let raw =
            serde_json::json!({"Region": "us-east-2", "StackName": "s", "OutputKeys": ["A"], "ServiceToken": "arn"});
        let p: Props = tandem_core::cfn::props::parse(raw.as_object().unwrap()).unwrap();
        assert_eq!(p.output_keys.unwrap(), vec!["A".to_string()]);
    }

    mod shell {
        //! The shell against mocked CloudFormation: the read goes to the
        //! stack's region, and what comes back becomes the answer.

        use super::*;
        use aws_sdk_cloudformation::operation::describe_stacks::{DescribeStacksError, DescribeStacksOutput};
        use aws_sdk_cloudformation::types::{Output, Stack, StackStatus};
        use aws_smithy_types::error::ErrorMetadata;
        use tandem_testing::{Script, mock, regional_clients};

        fn request() -> Request {
            serde_json::from_value(serde_json::json!({
                "RequestType": "Create", "ResponseURL": "http://127.0.0.1:4566/x", "RequestId": "r-1",
                "StackId": "arn:aws:cloudformation:us-east-2:000000000000:stack/tandem-dev-region/1",
                "ResourceType": "Custom::CrossRegionOutputs", "LogicalResourceId": "PrimaryOutputs",
            }))
            .unwrap()
        }

        fn describe(answer: Result<Stack, (&'static str, &'static str)>) -> aws_smithy_mocks::Rule {
            let rule = mock!(Client::describe_stacks).match_requests(|input| {
                assert_eq!(input.stack_name(), Some("tandem-dev-region"));
                true
            });
            match answer {
                Ok(stack) => rule.then_output(move || DescribeStacksOutput::builder().stacks(stack.clone()).build()),
                Err((code, message)) => rule.then_error(move || {
                    DescribeStacksError::generic(ErrorMetadata::builder().code(code).message(message).build())
                }),
            }
        }

        #[tokio::test]
        async fn create_reads_the_outputs_in_the_source_region() {
            let script = Script::new("us-east-2");
            let stack = Stack::builder()
                .stack_name("tandem-dev-region")
                .stack_status(StackStatus::CreateComplete)
                .outputs(Output::builder().output_key("DbArn").output_value("arn:db").build())
                .build();
            script.expect("us-east-1", describe(Ok(stack)));
            let resource = CrossRegionOutputs::new(regional_clients!(aws_sdk_cloudformation, script));
            let outcome = resource.create(&request(), props(Some(&["DbArn"]))).await.unwrap();
            let mut data = Map::new();
            data.insert("DbArn".into(), Value::String("arn:db".into()));
            assert_eq!(
                outcome,
                Outcome::done_with("cross-region-outputs:us-east-1:tandem-dev-region", data)
            );
            script.finished();
        }

        #[tokio::test]
        async fn a_missing_stack_and_a_refused_read_fail_naming_the_stack_and_region() {
            let script = Script::new("us-east-2");
            script
                .expect(
                    "us-east-1",
                    describe(Err((
                        "ValidationError",
                        "Stack with id tandem-dev-region does not exist",
                    ))),
                )
                .expect(
                    "us-east-1",
                    describe(Err((
                        "AccessDenied",
                        "not authorized to perform: cloudformation:DescribeStacks",
                    ))),
                );
            let resource = CrossRegionOutputs::new(regional_clients!(aws_sdk_cloudformation, script));
            let missing = resource.create(&request(), props(None)).await.unwrap_err().to_string();
            assert!(
                missing.starts_with("stack \"tandem-dev-region\" in us-east-1 does not exist: "),
                "{missing}"
            );
            let denied = resource.create(&request(), props(None)).await.unwrap_err().to_string();
            assert_eq!(
                denied,
                "could not read stack \"tandem-dev-region\" in us-east-1: AccessDenied: \
                 not authorized to perform: cloudformation:DescribeStacks"
            );
            script.finished();
        }
    }
}
