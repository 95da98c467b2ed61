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
use std::collections::BTreeMap;
use tandem_core::aws::{RegionalClients, check_region, error_text};
use tandem_core::cfn::{CustomResource, HandlerError, Outcome, Request};

/// The resource's properties.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Props {
    /// The source stack's region.
    pub region: String,
    /// The source stack's name or ARN.
    pub stack_name: String,
    /// The outputs to return; all of them when absent.
    #[serde(default)]
    pub output_keys: Option<Vec<String>>,
}

/// What was observed of the source stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackView {
    /// Its status, such as `CREATE_COMPLETE`.
    pub status: String,
    /// Its outputs, key to value.
    pub outputs: BTreeMap<String, String>,
}

/// The pure decision: which data to return, or why none can be.
pub fn select_outputs(props: &Props, stack: Option<&StackView>) -> Result<Map<String, Value>, String> {
    let place = format!("stack {:?} in {}", props.stack_name, props.region);
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
    if props.stack_name.trim().is_empty() {
        return Err("property `StackName`: must name a stack (its name or ARN)".into());
    }
    if let Some(keys) = &props.output_keys {
        if let Some(i) = keys.iter().position(|k| k.trim().is_empty()) {
            return Err(format!("property `OutputKeys[{i}]`: an output key cannot be empty"));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = keys.iter().find(|k| !seen.insert(k.as_str())) {
            return Err(format!("property `OutputKeys`: {dup:?} is listed twice"));
        }
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
        let result = self
            .clients
            .get(&props.region)
            .describe_stacks()
            .stack_name(&props.stack_name)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            // CloudFormation reports a missing stack as a ValidationError.
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.meta().message())
                    .is_some_and(|m| m.contains("does not exist")) =>
            {
                return Ok(None);
            }
            Err(e) => {
                return Err(format!(
                    "could not read stack {:?} in {}: {}",
                    props.stack_name,
                    props.region,
                    error_text(&e)
                )
                .into());
            }
        };
        Ok(output.stacks().first().map(|stack| StackView {
            status: stack.stack_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
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
        }))
    }

    async fn read(&self, props: &Props) -> Result<Outcome, HandlerError> {
        validate(props)?;
        let stack = self.observe(props).await?;
        let data = select_outputs(props, stack.as_ref())?;
        tracing::info!(region = %props.region, stack = %props.stack_name, keys = ?data.keys().collect::<Vec<_>>(), "read outputs");
        Ok(Outcome::done_with(physical_id(props), data))
    }
}

impl CustomResource for CrossRegionOutputs {
    type Properties = Props;
    const RESOURCE_TYPE: &'static str = "Custom::CrossRegionOutputs";
    const KNOWN_PROPERTIES: &'static [&'static str] = &["Region", "StackName", "OutputKeys"];

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
            outputs: outputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
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
        let mut p = props(None);
        p.stack_name = " ".into();
        assert!(validate(&p).unwrap_err().starts_with("property `StackName`"));
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
}
