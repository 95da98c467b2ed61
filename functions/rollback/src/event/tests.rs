//! Every sample in `events/` parses to what it says, and broken events are
//! refused naming what is wrong.

use super::*;

fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn alarm(name: &str) -> AlarmChange {
    match parse(&sample(name)).unwrap() {
        Incoming::Alarm(a) => a,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn an_eventbridge_alarm_change_parses_even_for_metric_math() {
    let a = alarm("rollback-alarm-eventbridge.json");
    assert_eq!((a.name.as_str(), a.state), ("tandem-local-5xx-rate", AlarmState::Alarm));
    assert_eq!(a.changed_at, "2026-11-27T19:00:00.000+0000");
    assert!(a.reason.starts_with("Threshold Crossed"));
}

#[test]
fn an_alarm_through_sns_parses() {
    let a = alarm("rollback-alarm-sns.json");
    assert_eq!(
        (a.name.as_str(), a.state),
        ("tandem-local-unhealthy-hosts", AlarmState::Alarm)
    );
    assert_eq!(a.changed_at, "2026-11-27T19:01:00.000+0000");
}

#[test]
fn a_direct_alarm_action_parses() {
    let a = alarm("rollback-alarm-action.json");
    assert_eq!(
        (a.name.as_str(), a.state),
        ("tandem-local-latency-p99", AlarmState::Alarm)
    );
    assert!(a.changed_at.starts_with("2026-11-27T19:02:00"), "{}", a.changed_at);
}

#[test]
fn codedeploy_state_changes_parse_with_their_region() {
    for (name, region, id) in [
        ("rollback-codedeploy-failure.json", "us-east-1", "d-7HQK2M3TA"),
        ("rollback-codedeploy-forwarded-failure.json", "us-east-2", "d-2XRT9P4QB"),
    ] {
        let Incoming::Deployment(d) = parse(&sample(name)).unwrap() else {
            panic!("{name}")
        };
        assert_eq!((d.region.as_str(), d.deployment_id.as_str()), (region, id), "{name}");
        assert_eq!(d.state, DeploymentState::Failure);
        assert_eq!(
            d.engine,
            crate::engine::Engine::CodeDeploy {
                application: "tandem-local".into(),
                group: "tandem-local-app".into()
            }
        );
        assert_eq!(d.at, Some(1_795_806_180), "{name}: the event's time");
    }
}

#[test]
fn the_states_of_an_alarm_are_read_in_every_shape() {
    for (text, state) in [
        ("OK", AlarmState::Ok),
        ("INSUFFICIENT_DATA", AlarmState::InsufficientData),
    ] {
        let mut bridged = sample("rollback-alarm-eventbridge.json");
        bridged["detail"]["state"]["value"] = text.into();
        assert_eq!(
            parse(&bridged).map(|i| matches!(i, Incoming::Alarm(a) if a.state == state)),
            Ok(true)
        );
        let mut action = sample("rollback-alarm-action.json");
        action["alarmData"]["state"]["value"] = text.into();
        assert_eq!(
            parse(&action).map(|i| matches!(i, Incoming::Alarm(a) if a.state == state)),
            Ok(true)
        );
    }
}

#[test]
fn broken_events_are_refused_naming_the_problem() {
    let mut bad_state = sample("rollback-alarm-eventbridge.json");
    bad_state["detail"]["state"]["value"] = "ON_FIRE".into();
    let mut other_type = sample("rollback-alarm-eventbridge.json");
    other_type["detail-type"] = "EC2 Instance State-change Notification".into();
    let mut broken_sns = sample("rollback-alarm-sns.json");
    broken_sns["Records"][0]["Sns"]["Message"] = "not json".into();
    let mut no_deployment = sample("rollback-codedeploy-failure.json");
    no_deployment["detail"].as_object_mut().unwrap().remove("deploymentId");
    let cases = [
        (bad_state, "\"ON_FIRE\""),
        (other_type, "are not for this function"),
        (broken_sns, "the alarm in the SNS message could not be read"),
        (no_deployment, "deploymentId"),
        (serde_json::json!({"Records": []}), "it has no records"),
        (serde_json::json!([1, 2]), "the event is an array, not a JSON object"),
        (serde_json::json!(null), "the event is null, not a JSON object"),
        (
            serde_json::json!({"alarmData": 5}),
            "the alarm action could not be read",
        ),
    ];
    for (event, needle) in cases {
        let err = parse(&event).unwrap_err().to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn an_alarm_name_longer_than_cloudwatch_allows_is_refused() {
    let mut eventbridge = sample("rollback-alarm-eventbridge.json");
    eventbridge["detail"]["alarmName"] = format!("tandem-local-{}", "x".repeat(243)).into();
    let err = parse(&eventbridge).unwrap_err().to_string();
    assert!(
        err.contains("is 256 characters long; CloudWatch allows at most 255"),
        "{err}"
    );
    eventbridge["detail"]["alarmName"] = format!("tandem-local-{}", "x".repeat(242)).into();
    assert!(parse(&eventbridge).is_ok(), "255 characters is CloudWatch's own limit");
    let mut action = sample("rollback-alarm-action.json");
    action["alarmData"]["alarmName"] = "x".repeat(5_000_000).into();
    let err = parse(&action).unwrap_err().to_string();
    assert!(
        err.contains("is 5000000 characters long"),
        "{}",
        &err[..200.min(err.len())]
    );
    assert!(err.len() < 400, "the name is quoted short: {} characters", err.len());
}

#[test]
fn an_alarm_from_another_region_is_refused_naming_it() {
    let mut eventbridge = sample("rollback-alarm-eventbridge.json");
    assert!(parse_in(&eventbridge, "us-east-1").is_ok());
    eventbridge["region"] = "us-east-2".into();
    let err = parse_in(&eventbridge, "us-east-1").unwrap_err().to_string();
    assert!(err.contains("fired in \"us-east-2\", not in us-east-1"), "{err}");
    let sns = sample("rollback-alarm-sns.json");
    assert_eq!(alarm_region(&sns).as_deref(), Some("us-east-1"));
    let err = parse_in(&sns, "eu-west-1").unwrap_err().to_string();
    assert!(err.contains("fired in \"us-east-1\", not in eu-west-1"), "{err}");
    // A deployment from the other region is the cross-region stop, not refused.
    let forwarded = sample("rollback-codedeploy-forwarded-failure.json");
    assert!(parse_in(&forwarded, "us-east-1").is_ok());
    assert!(parse_in(&forwarded, "us-east-2").is_ok());
}
