//! The decision table, over every combination of its inputs.

use super::*;

const NOW: u64 = 1_800_000_000;
const HERE: &str = "us-east-1";
const THERE: &str = "us-east-2";
/// This region's service deployment, as the ECS release records it.
const ARN: &str = "arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF";

fn codedeploy() -> Engine {
    Engine::CodeDeploy {
        application: "tandem-dev".into(),
        group: "tandem-dev-app".into(),
    }
}

fn ecs_engine() -> Engine {
    Engine::Ecs {
        cluster: "tandem-dev".into(),
        service: "tandem-dev-app".into(),
    }
}

fn scope() -> Scope {
    scope_of(codedeploy())
}

fn scope_of(engine: Engine) -> Scope {
    Scope {
        region: HERE.into(),
        alarm_prefix: "tandem-dev-".into(),
        engine,
        bake_window_secs: 1800,
    }
}

fn release(state: ReleaseState, deployment: Option<&str>, finished_ago: Option<u64>, previous: bool) -> ReleaseRecord {
    ReleaseRecord {
        release_id: "req-1".into(),
        region: HERE.into(),
        image: "v2".into(),
        task_definition: "arn:td:7".into(),
        previous_task_definition: previous.then(|| "arn:td:6".into()),
        deployment_id: deployment.map(str::to_owned),
        state,
        started_at: NOW - 4000,
        finished_at: finished_ago.map(|ago| NOW - ago),
        reason: None,
    }
}

fn alarm(name: &str, state: AlarmState) -> Incoming {
    Incoming::Alarm(AlarmChange {
        name: name.into(),
        state,
        reason: "Threshold Crossed".into(),
        changed_at: "2026-11-27T19:00:00.000+0000".into(),
    })
}

fn deployment(id: &str, state: DeploymentState, region: &str, group: &str) -> Incoming {
    Incoming::Deployment(DeploymentChange {
        deployment_id: id.into(),
        state,
        region: region.into(),
        engine: Engine::CodeDeploy {
            application: "tandem-dev".into(),
            group: group.into(),
        },
        at: Some(NOW),
    })
}

fn plan(event: &Incoming, release: Option<ReleaseRecord>) -> Plan {
    decide(event, &scope(), &Observed { release, now: NOW })
}

/// Every release situation the table distinguishes.
fn situations() -> Vec<(&'static str, Option<ReleaseRecord>)> {
    situations_with("d-1")
}

/// [`situations`], the deployment (where there is one) being `id`.
fn situations_with(id: &str) -> Vec<(&'static str, Option<ReleaseRecord>)> {
    vec![
        ("none", None),
        (
            "in progress",
            Some(release(ReleaseState::InProgress, Some(id), None, true)),
        ),
        ("starting", Some(release(ReleaseState::InProgress, None, None, true))),
        (
            "baking",
            Some(release(ReleaseState::Succeeded, Some(id), Some(600), true)),
        ),
        (
            "baking, first",
            Some(release(ReleaseState::Succeeded, Some(id), Some(600), false)),
        ),
        (
            "baked",
            Some(release(ReleaseState::Succeeded, Some(id), Some(1801), true)),
        ),
        (
            "rolled back",
            Some(release(ReleaseState::RolledBack, Some(id), Some(600), true)),
        ),
        ("failed", Some(release(ReleaseState::Failed, Some(id), Some(600), true))),
    ]
}

#[test]
fn every_alarm_situation_has_its_plan() {
    for (situation, record) in situations() {
        for state in [AlarmState::Alarm, AlarmState::Ok, AlarmState::InsufficientData] {
            let other = plan(&alarm("someone-else-5xx", state), record.clone());
            assert_eq!(other.name(), "Ignore", "{situation} {state:?}: another service's alarm");
            assert!(
                other.reason().contains("not one of this service's"),
                "{}",
                other.reason()
            );
            let ours = plan(&alarm("tandem-dev-5xx-rate", state), record.clone());
            let expected = match (state, situation) {
                (AlarmState::Ok | AlarmState::InsufficientData, _) => "Ignore",
                (_, "in progress") => "StopDeployment",
                (_, "baking") => "RedeployPrevious",
                (_, "rolled back") => "Ignore",
                _ => "Notify",
            };
            assert_eq!(ours.name(), expected, "{situation} {state:?}: {}", ours.reason());
        }
    }
}

#[test]
fn an_alarm_during_a_release_stops_its_deployment() {
    let record = release(ReleaseState::InProgress, Some("d-1"), None, true);
    let p = plan(&alarm("tandem-dev-5xx-rate", AlarmState::Alarm), Some(record.clone()));
    assert_eq!(
        p,
        Plan::Stop {
            engine: codedeploy(),
            deployment_id: "d-1".into(),
            release: record,
            reason: p.reason().to_owned()
        }
    );
    assert!(
        p.reason().contains("tandem-dev-5xx-rate") && p.reason().contains("v2"),
        "{}",
        p.reason()
    );
    assert_eq!(p.incident().as_deref(), Some("stop#d-1"));
}

#[test]
fn an_alarm_in_the_bake_window_returns_to_the_previous_task_definition() {
    let record = release(ReleaseState::Succeeded, Some("d-1"), Some(1800), true);
    let p = plan(&alarm("tandem-dev-latency-p99", AlarmState::Alarm), Some(record));
    let Plan::Redeploy {
        task_definition,
        engine,
        ..
    } = &p
    else {
        panic!("{p:?}")
    };
    assert_eq!(task_definition, "arn:td:6");
    assert_eq!(engine, &codedeploy(), "through CodeDeploy");
    assert_eq!(
        p.incident().as_deref(),
        Some("redeploy#req-1"),
        "one redeploy per release, whatever alarm"
    );
    let late = plan(
        &alarm("tandem-dev-latency-p99", AlarmState::Alarm),
        Some(release(ReleaseState::Succeeded, Some("d-1"), Some(1801), true)),
    );
    assert_eq!(late.name(), "Notify", "one second past the window");
    assert!(
        late.reason().contains("past the 1800 s bake window"),
        "{}",
        late.reason()
    );
}

#[test]
fn two_alarms_of_one_incident_claim_the_same_action() {
    let record = release(ReleaseState::InProgress, Some("d-1"), None, true);
    let a = plan(&alarm("tandem-dev-5xx-rate", AlarmState::Alarm), Some(record.clone()));
    let b = plan(
        &alarm("tandem-dev-unhealthy-hosts", AlarmState::Alarm),
        Some(record.clone()),
    );
    let forwarded = plan(
        &deployment("d-9", DeploymentState::Failure, THERE, "tandem-dev-app"),
        Some(record),
    );
    assert_eq!(a.incident(), b.incident());
    assert_eq!(a.incident(), forwarded.incident());
    assert_eq!(Plan::Notify { reason: "x".into() }.incident(), None);
}

#[test]
fn every_deployment_change_has_its_plan() {
    let states = [
        DeploymentState::Failure,
        DeploymentState::Stop,
        DeploymentState::Success,
        DeploymentState::Other("START".into()),
    ];
    for (situation, record) in situations() {
        for state in &states {
            for region in [HERE, THERE] {
                for id in ["d-1", "d-9"] {
                    let foreign = plan(&deployment(id, state.clone(), region, "other-group"), record.clone());
                    assert_eq!(foreign.name(), "Ignore", "another group's deployment");
                    let p = plan(&deployment(id, state.clone(), region, "tandem-dev-app"), record.clone());
                    let ended = matches!(state, DeploymentState::Failure | DeploymentState::Stop);
                    let running = matches!(situation, "in progress");
                    let expected = match (ended, region == HERE, running, id) {
                        (false, ..) => "Ignore",
                        (true, true, true, "d-1") => "MarkFailed",
                        (true, true, ..) => "Ignore",
                        (true, false, true, _) => "StopDeployment",
                        (true, false, false, _) => "Ignore",
                    };
                    assert_eq!(
                        p.name(),
                        expected,
                        "{situation} {state:?} {region} {id}: {}",
                        p.reason()
                    );
                }
            }
        }
    }
}

#[test]
fn a_failure_in_the_other_region_stops_the_release_here_and_says_where() {
    let record = release(ReleaseState::InProgress, Some("d-1"), None, true);
    let p = plan(
        &deployment("d-9", DeploymentState::Failure, THERE, "tandem-dev-app"),
        Some(record),
    );
    let Plan::Stop { deployment_id, .. } = &p else {
        panic!("{p:?}")
    };
    assert_eq!(deployment_id, "d-1", "this region's deployment, not the failed one");
    assert!(
        p.reason().contains("failed in us-east-2") && p.reason().contains("in us-east-1"),
        "{}",
        p.reason()
    );
}

#[test]
fn the_traffic_fence_alarm_never_rolls_a_release_back() {
    let in_progress = Observed {
        release: Some(release(ReleaseState::InProgress, Some("d-1"), None, true)),
        now: NOW,
    };
    let fenced = alarm(&tandem_core::fence::alarm_name("dev"), AlarmState::Alarm);
    let Plan::Ignore { reason } = decide(&fenced, &scope(), &in_progress) else {
        panic!("the fence alarm must be ignored")
    };
    assert!(reason.contains("traffic fence"), "{reason}");
    // Any other alarm of the service still stops it.
    assert!(matches!(
        decide(&alarm("tandem-dev-5xx", AlarmState::Alarm), &scope(), &in_progress),
        Plan::Stop { .. }
    ));
}

mod ecs;
