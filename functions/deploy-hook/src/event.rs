//! The two shapes of hook event: CodeDeploy's and Amazon ECS's.

use aws_lambda_events::event::codedeploy::CodeDeployLifecycleEvent;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An ECS-native blue/green lifecycle hook invocation (there is no
/// `aws_lambda_events` type for it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsHookEvent {
    /// Unique per hook invocation series.
    #[serde(default)]
    pub execution_id: String,
    /// Such as `POST_TEST_TRAFFIC_SHIFT`.
    #[serde(default)]
    pub lifecycle_stage: String,
    /// The service deployment.
    #[serde(default)]
    pub resource_arn: String,
    /// The service and the revision being deployed.
    #[serde(default)]
    pub execution_details: EcsExecutionDetails,
}

/// What ECS says of the deployment in a hook invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsExecutionDetails {
    /// The service.
    #[serde(default)]
    pub service_arn: String,
    /// The green service revision.
    #[serde(default)]
    pub target_service_revision_arn: String,
}

/// The stages ECS runs lifecycle hooks at (`DeploymentLifecycleHookStage`):
/// any other `lifecycleStage` is refused.
pub const ECS_HOOK_STAGES: &[&str] = &[
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
];

/// The stages whose hooks ECS runs again when it rolls a deployment back
/// (the ECS developer guide, "Lifecycle hooks for Amazon ECS service
/// deployments"). The documented event has no field that says whether an
/// invocation is part of a rollback, so at these stages every invocation
/// may be one.
pub const ECS_ROLLBACK_STAGES: &[&str] = &["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"];

impl EcsHookEvent {
    /// Whether this invocation may be part of a rollback: its stage is one
    /// that ECS runs again when it rolls back ([`ECS_ROLLBACK_STAGES`]).
    pub fn may_be_rollback(&self) -> bool {
        ECS_ROLLBACK_STAGES.contains(&self.lifecycle_stage.as_str())
    }
}

/// A hook invocation, by shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEvent {
    /// CodeDeploy's: answered with `PutLifecycleEventHookExecutionStatus`.
    CodeDeploy {
        /// The deployment.
        deployment_id: String,
        /// This hook's execution, to report on.
        execution_id: String,
    },
    /// Amazon ECS's: answered by the return value.
    Ecs(EcsHookEvent),
}

impl HookEvent {
    /// The key of this hook's audit entry: one per hook execution.
    pub fn audit_key(&self) -> String {
        match self {
            Self::CodeDeploy {
                deployment_id,
                execution_id,
            } => format!("{deployment_id}#{execution_id}"),
            Self::Ecs(e) => format!("ecs#{}#{}", e.execution_id, e.lifecycle_stage),
        }
    }
}

/// What the function takes, for the sentences that refuse an event.
pub const TAKES: &str = "CodeDeploy lifecycle hooks ({\"DeploymentId\", \"LifecycleEventHookExecutionId\"}) \
                         and ECS blue/green hooks ({\"executionDetails\", \"executionId\", \"resourceArn\", ...})";

/// An event this function cannot act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not a JSON object, or a payload that is no whole JSON value, with no
    /// hook ids to answer with: the sentence says what arrived.
    #[error(transparent)]
    Refused(#[from] tandem_core::event_fn::BadEvent),
    /// Neither shape, or no ids to answer with: nothing can be reported, so
    /// the invocation fails and Lambda's retries and dead-letter queue take it.
    #[error(
        "not a hook event ({0}): this function takes CodeDeploy lifecycle hooks \
         ({{\"DeploymentId\", \"LifecycleEventHookExecutionId\"}}) and ECS blue/green hooks ({{\"executionDetails\", ...}})"
    )]
    Unreadable(String),
}

/// Reads an event: CodeDeploy's when it has `DeploymentId`, ECS's when it
/// has `executionDetails` or `lifecycleStage`.
pub fn parse(event: &Value) -> Result<HookEvent, EventError> {
    tandem_core::event_fn::object(event, TAKES)?;
    if event.get("DeploymentId").is_some() || event.get("LifecycleEventHookExecutionId").is_some() {
        // Its only fields are the two ids (unknown ones are ignored), so an
        // event that fails to parse has no ids to answer with.
        let parsed: CodeDeployLifecycleEvent = read(event)?;
        return codedeploy_ids(
            Some(parsed.deployment_id),
            Some(parsed.lifecycle_event_hook_execution_id),
        );
    }
    if event.get("executionDetails").is_some() || event.get("lifecycleStage").is_some() {
        // serde would read a struct from an array, field by field in order.
        if event.get("executionDetails").is_some_and(Value::is_array) {
            return Err(EventError::Unreadable(
                "field `executionDetails`: invalid type: sequence, expected an object with serviceArn and \
                 targetServiceRevisionArn"
                    .into(),
            ));
        }
        return read(event).and_then(ecs_ids).map(HookEvent::Ecs);
    }
    Err(EventError::Unreadable(
        "it has neither DeploymentId nor executionDetails".into(),
    ))
}

/// The CodeDeploy hook that `DeploymentId` and `LifecycleEventHookExecutionId`
/// name, when both are there and not empty: what a report needs, even when
/// the rest of the event cannot be read.
pub fn codedeploy_ids(deployment_id: Option<String>, execution_id: Option<String>) -> Result<HookEvent, EventError> {
    match (deployment_id, execution_id) {
        (Some(deployment_id), Some(execution_id))
            if !deployment_id.trim().is_empty() && !execution_id.trim().is_empty() =>
        {
            Ok(HookEvent::CodeDeploy {
                deployment_id,
                execution_id,
            })
        }
        _ => Err(EventError::Unreadable(
            "DeploymentId or LifecycleEventHookExecutionId is missing or empty".into(),
        )),
    }
}

/// `event`, when it has the ids ECS names a hook by and a stage ECS runs
/// hooks at: without the ids the hook cannot be told apart or audited, and
/// an `IN_PROGRESS` answer would only make ECS call again with the same
/// event, for ever; without a known stage, what to check is unknown.
fn ecs_ids(event: EcsHookEvent) -> Result<EcsHookEvent, EventError> {
    for (field, value) in [
        ("executionId", &event.execution_id),
        ("resourceArn", &event.resource_arn),
        ("lifecycleStage", &event.lifecycle_stage),
    ] {
        if value.trim().is_empty() {
            return Err(EventError::Unreadable(format!(
                "the ECS hook event has no {field}, so it cannot be answered: ECS sends it with every hook"
            )));
        }
    }
    if !ECS_HOOK_STAGES.contains(&event.lifecycle_stage.as_str()) {
        return Err(EventError::Unreadable(format!(
            "the ECS hook event's lifecycleStage {} is not a stage ECS runs hooks at ({}): list only those \
             in the service's LifecycleStages",
            tandem_core::text::quote(&event.lifecycle_stage),
            ECS_HOOK_STAGES.join(", ")
        )));
    }
    Ok(event)
}

/// `event` as a `T`, or why not, naming the field at fault.
fn read<T: DeserializeOwned>(event: &Value) -> Result<T, EventError> {
    serde_path_to_error::deserialize(event).map_err(|e| {
        let why = tandem_core::text::shorten_values(&e.inner().to_string());
        EventError::Unreadable(match e.path().to_string().as_str() {
            "." => why,
            path => format!("field `{path}`: {why}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_codedeploy_hook_is_read_with_its_ids() {
        let e = parse(&json!({"DeploymentId": "d-ABC", "LifecycleEventHookExecutionId": "exec-1"})).unwrap();
        assert_eq!(
            e,
            HookEvent::CodeDeploy {
                deployment_id: "d-ABC".into(),
                execution_id: "exec-1".into()
            }
        );
        assert_eq!(e.audit_key(), "d-ABC#exec-1");
    }

    #[test]
    fn an_ecs_hook_is_read_by_its_shape() {
        let e = parse(&json!({
            "executionId": "x-1", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "resourceArn": "arn:aws:ecs:us-east-1:1:service-deployment/c/s/1",
            "executionDetails": {"serviceArn": "arn:aws:ecs:us-east-1:1:service/c/s", "targetServiceRevisionArn": "arn:rev",
                                 "testTrafficWeights": {}, "productionTrafficWeights": {}}
        }))
        .unwrap();
        let HookEvent::Ecs(ecs) = &e else { panic!("{e:?}") };
        assert_eq!(ecs.lifecycle_stage, "POST_TEST_TRAFFIC_SHIFT");
        assert_eq!(ecs.execution_details.target_service_revision_arn, "arn:rev");
        assert_eq!(e.audit_key(), "ecs#x-1#POST_TEST_TRAFFIC_SHIFT");
    }

    #[test]
    fn unknown_fields_are_ignored_and_a_wrong_type_is_unreadable() {
        let e = parse(&json!({"DeploymentId": "d-ABC", "LifecycleEventHookExecutionId": "exec-1", "extra": 1}));
        // Unknown fields are ignored; only a wrong type makes it malformed.
        assert!(e.is_ok());
        let e = parse(&json!({"DeploymentId": "d-ABC", "LifecycleEventHookExecutionId": 7})).unwrap_err();
        assert!(matches!(e, EventError::Unreadable(_)), "{e:?}");
    }

    #[test]
    fn events_without_ids_cannot_be_answered_and_say_what_is_taken() {
        for bad in [
            json!({}),
            json!({"hello": "world"}),
            json!({"DeploymentId": ""}),
            json!({"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"}),
        ] {
            let e = parse(&bad).unwrap_err();
            assert!(matches!(e, EventError::Unreadable(_)), "{bad}: {e:?}");
            assert!(
                e.to_string().contains("this function takes CodeDeploy lifecycle hooks"),
                "{e}"
            );
        }
    }

    #[test]
    fn anything_but_an_object_is_refused_saying_what_arrived() {
        for (bad, kind) in [
            (json!([1, 2]), "an array"),
            (json!(null), "null"),
            (json!(7), "a number"),
        ] {
            let e = parse(&bad).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("the event is {kind}, not a JSON object")),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn an_ecs_hook_without_its_ids_is_refused_naming_the_field() {
        let whole = json!({
            "executionId": "x-1", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "resourceArn": "arn:aws:ecs:us-east-1:1:service-deployment/c/s/1",
            "executionDetails": {"serviceArn": "arn:aws:ecs:us-east-1:1:service/c/s"}
        });
        assert!(parse(&whole).is_ok());
        for field in ["executionId", "resourceArn", "lifecycleStage"] {
            let mut missing = whole.clone();
            missing.as_object_mut().unwrap().remove(field);
            let e = parse(&missing).unwrap_err().to_string();
            assert!(e.contains(&format!("the ECS hook event has no {field}")), "{e}");
            let mut blank = whole.clone();
            blank[field] = " ".into();
            assert!(parse(&blank).is_err(), "{field} blank");
        }
    }

    #[test]
    fn an_ecs_hook_at_a_stage_ecs_has_no_hook_for_is_refused_naming_the_stages() {
        let at = |stage: Value| {
            parse(&json!({
                "executionId": "x-1", "lifecycleStage": stage,
                "resourceArn": "arn:aws:ecs:us-east-1:1:service-deployment/c/s/1",
                "executionDetails": {"serviceArn": "arn:aws:ecs:us-east-1:1:service/c/s"}
            }))
        };
        for stage in ECS_HOOK_STAGES {
            assert!(at(json!(stage)).is_ok(), "{stage}");
        }
        for bad in ["SCALE_UP", "BAKE_TIME", "post_test_traffic_shift", "AfterAllowTraffic"] {
            let e = at(json!(bad)).unwrap_err().to_string();
            assert!(
                e.contains(&format!("lifecycleStage \"{bad}\" is not a stage ECS runs hooks at")),
                "{e}"
            );
            assert!(
                e.contains("POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT"),
                "{e}"
            );
        }
        let e = at(json!(["POST_TEST_TRAFFIC_SHIFT"])).unwrap_err().to_string();
        assert!(e.contains("field `lifecycleStage`: invalid type: sequence"), "{e}");
    }

    #[test]
    fn execution_details_of_the_wrong_type_are_refused_naming_the_field() {
        for (details, kind) in [
            (json!("arn:aws:ecs:us-east-1:1:service/c/s"), "string"),
            (json!(["arn:aws:ecs:us-east-1:1:service/c/s"]), "sequence"),
            (json!(7), "integer"),
            (json!(null), "null"),
            (json!({"serviceArn": 7}), "integer"),
        ] {
            let e = parse(&json!({
                "executionId": "x-1", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
                "resourceArn": "arn:aws:ecs:us-east-1:1:service-deployment/c/s/1",
                "executionDetails": details
            }))
            .unwrap_err()
            .to_string();
            assert!(e.contains("field `executionDetails"), "{details}: {e}");
            assert!(e.contains(&format!("invalid type: {kind}")), "{details}: {e}");
        }
    }

    #[test]
    fn only_the_traffic_shift_stages_may_be_rollbacks() {
        let event = |stage: &str| EcsHookEvent {
            execution_id: "x-1".into(),
            lifecycle_stage: stage.into(),
            resource_arn: "arn:d".into(),
            execution_details: EcsExecutionDetails::default(),
        };
        let rollbacks: Vec<&str> = ECS_HOOK_STAGES
            .iter()
            .copied()
            .filter(|s| event(s).may_be_rollback())
            .collect();
        assert_eq!(rollbacks, ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"]);
    }
}
