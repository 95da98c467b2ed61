//! ECS deployment state changes: the sample, every event name, the service
//! from its ARN, forwarded ones, and broken shapes refused naming the fault.

use super::*;
use crate::event::{Incoming, parse, parse_in};

fn sample() -> Value {
    let path = format!(
        "{}/../../events/rollback-ecs-deployment-failed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn change(event: &Value) -> DeploymentChange {
    match parse(event) {
        Ok(Incoming::Deployment(d)) => d,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_sample_is_a_failure_of_the_local_service_in_its_region() {
    let d = change(&sample());
    assert_eq!(d.deployment_id, "ecs-svc/4627941837266483721");
    assert_eq!(d.state, DeploymentState::Failure);
    assert_eq!(d.region, "us-east-1");
    assert_eq!(
        d.engine,
        Engine::Ecs {
            cluster: "tandem-local".into(),
            service: "tandem-local-app".into()
        }
    );
    // 2026-11-27T19:03:00Z
    assert_eq!(d.at, Some(1_795_806_180));
}

#[test]
fn every_event_name_has_its_state() {
    for (name, expected) in [
        ("SERVICE_DEPLOYMENT_FAILED", DeploymentState::Failure),
        ("SERVICE_DEPLOYMENT_COMPLETED", DeploymentState::Success),
        (
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            DeploymentState::Other("SERVICE_DEPLOYMENT_IN_PROGRESS".into()),
        ),
        ("SOMETHING_NEW", DeploymentState::Other("SOMETHING_NEW".into())),
    ] {
        let mut event = sample();
        event["detail"]["eventName"] = name.into();
        assert_eq!(change(&event).state, expected, "{name}");
    }
}

#[test]
fn a_failure_forwarded_from_the_other_region_keeps_its_region() {
    let mut event = sample();
    event["region"] = "us-east-2".into();
    event["resources"][0] = "arn:aws:ecs:us-east-2:000000000000:service/tandem-local/tandem-local-app".into();
    assert_eq!(change(&event).region, "us-east-2");
    // Not refused as an alarm of another region would be: it is the cross-region halt.
    assert!(parse_in(&event, "us-east-1").is_ok());
    // Without the envelope's region, the service ARN's says where.
    event.as_object_mut().unwrap().remove("region");
    assert_eq!(change(&event).region, "us-east-2");
}

#[test]
fn a_service_arn_gives_its_cluster_service_and_region() {
    assert_eq!(
        service_arn("arn:aws:ecs:us-east-1:1:service/tandem-dev/tandem-dev-app"),
        Some(("tandem-dev".into(), "tandem-dev-app".into(), "us-east-1".into()))
    );
    assert_eq!(
        service_arn("arn:aws-cn:ecs:cn-north-1:1:service/c/s"),
        Some(("c".into(), "s".into(), "cn-north-1".into()))
    );
    for bad in [
        "arn:aws:ecs:us-east-1:1:service/tandem-dev-app",
        "arn:aws:ecs:us-east-1:1:service/c/s/extra",
        "arn:aws:ecs:us-east-1:1:service//s",
        "arn:aws:ecs:us-east-1:1:service/c/",
        "arn:aws:ecs:us-east-1:1:cluster/tandem-dev",
        "arn:aws:ecs:us-east-1:1:service-deployment/c/s/x",
        "arn:aws:codedeploy:us-east-1:1:service/c/s",
        "nra:aws:ecs:us-east-1:1:service/c/s",
        "arn:aws:ecs",
        "",
    ] {
        assert_eq!(service_arn(bad), None, "{bad}");
    }
}

#[test]
fn broken_ecs_events_are_refused_naming_the_fault() {
    let without = |pointer: &str, key: &str| {
        let mut event = sample();
        event.pointer_mut(pointer).unwrap().as_object_mut().unwrap().remove(key);
        event
    };
    let with = |pointer: &str, value: Value| {
        let mut event = sample();
        *event.pointer_mut(pointer).unwrap() = value;
        event
    };
    let mut no_region = without("", "region");
    no_region["resources"][0] = "arn:aws:ecs::0:service/tandem-local/tandem-local-app".into();
    let cases = [
        (without("/detail", "deploymentId"), "field `deploymentId`"),
        (without("/detail", "eventName"), "eventName"),
        (
            with("/detail/deploymentId", 42.into()),
            "field `deploymentId`: invalid type",
        ),
        (
            with("/detail", "failed".into()),
            "the ECS deployment state change could not be read",
        ),
        (without("", "resources"), "its resources name no service"),
        (
            with("/resources", serde_json::json!([])),
            "its resources name no service",
        ),
        (
            with("/resources/0", 7.into()),
            "the EventBridge event could not be read",
        ),
        (
            with(
                "/resources/0",
                "arn:aws:ecs:us-east-1:0:service/tandem-local-app".into(),
            ),
            "which is not a service ARN",
        ),
        (with("/resources/0", "x".repeat(100_000).into()), "(100000 characters)"),
        (no_region, "it names no region"),
    ];
    for (event, needle) in cases {
        let err = parse(&event).unwrap_err().to_string();
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(err.len() < 600, "one short sentence: {} characters", err.len());
    }
}
