//! The decision table under the ECS engine, every row; and each engine
//! ignoring the other's deployments.

use super::*;

fn ecs_plan(event: &Incoming, release: Option<ReleaseRecord>) -> Plan {
    decide(event, &scope_of(ecs_engine()), &Observed { release, now: NOW })
}

/// An ECS deployment change of `service` in `region`, `ago` seconds before now.
fn ecs_change(state: DeploymentState, region: &str, service: &str, ago: Option<u64>) -> Incoming {
    Incoming::Deployment(DeploymentChange {
        deployment_id: "ecs-svc/4627941837266483721".into(),
        state,
        region: region.into(),
        engine: Engine::Ecs {
            cluster: "tandem-dev".into(),
            service: service.into(),
        },
        at: ago.map(|ago| NOW - ago),
    })
}

#[test]
fn every_alarm_situation_has_its_plan_under_ecs() {
    for (situation, record) in situations_with(ARN) {
        for state in [AlarmState::Alarm, AlarmState::Ok, AlarmState::InsufficientData] {
            let other = ecs_plan(&alarm("someone-else-5xx", state), record.clone());
            assert_eq!(other.name(), "Ignore", "{situation} {state:?}: another service's alarm");
            let ours = ecs_plan(&alarm("tandem-dev-5xx-rate", state), record.clone());
            let expected = match (state, situation) {
                (AlarmState::Ok | AlarmState::InsufficientData, _) => "Ignore",
                (_, "in progress") => "StopServiceDeployment",
                (_, "baking") => "RedeployPrevious",
                (_, "rolled back") => "Ignore",
                _ => "Notify",
            };
            assert_eq!(ours.name(), expected, "{situation} {state:?}: {}", ours.reason());
            // The same situation under CodeDeploy takes the same decision,
            // bar the name of its stop call.
            let cd = plan(&alarm("tandem-dev-5xx-rate", state), record.clone());
            assert_eq!(
                cd.name().replace("StopDeployment", "StopServiceDeployment"),
                expected,
                "{situation} {state:?}"
            );
        }
    }
}

#[test]
fn an_alarm_during_an_ecs_release_stops_its_service_deployment_with_rollback() {
    let record = release(ReleaseState::InProgress, Some(ARN), None, true);
    let p = ecs_plan(&alarm("tandem-dev-5xx-rate", AlarmState::Alarm), Some(record.clone()));
    assert_eq!(
        p,
        Plan::Stop {
            engine: ecs_engine(),
            deployment_id: ARN.into(),
            release: record,
            reason: p.reason().to_owned()
        }
    );
    assert!(
        p.reason()
            .contains(&format!("stop service deployment {ARN} with ROLLBACK"))
            && p.reason()
                .contains("ECS returns traffic to the previous service revision"),
        "{}",
        p.reason()
    );
    assert!(!p.reason().contains("CodeDeploy"), "{}", p.reason());
    assert_eq!(p.incident(), Some(format!("stop#{ARN}")));
}

#[test]
fn an_alarm_before_the_service_deployment_exists_notifies_saying_so() {
    let starting = release(ReleaseState::InProgress, None, None, true);
    let p = ecs_plan(&alarm("tandem-dev-5xx-rate", AlarmState::Alarm), Some(starting));
    assert_eq!(p.name(), "Notify");
    assert!(
        p.reason().contains("before its service deployment existed") && !p.reason().contains("CodeDeploy"),
        "{}",
        p.reason()
    );
}

#[test]
fn an_alarm_in_the_bake_window_updates_the_service_to_the_previous_task_definition() {
    let record = release(ReleaseState::Succeeded, Some(ARN), Some(600), true);
    let p = ecs_plan(
        &alarm("tandem-dev-latency-p99", AlarmState::Alarm),
        Some(record.clone()),
    );
    assert_eq!(
        p,
        Plan::Redeploy {
            engine: ecs_engine(),
            task_definition: "arn:td:6".into(),
            release: record,
            reason: p.reason().to_owned()
        }
    );
    assert!(
        p.reason()
            .contains("update service tandem-dev/tandem-dev-app to the previous task definition arn:td:6"),
        "what is redeployed, and where: {}",
        p.reason()
    );
    assert!(
        p.reason().contains("alarm tandem-dev-latency-p99 fired") && p.reason().contains("600 s after v2"),
        "why: {}",
        p.reason()
    );
    assert_eq!(p.incident().as_deref(), Some("redeploy#req-1"));
}

#[test]
fn every_ecs_deployment_change_has_its_plan() {
    let states = [
        DeploymentState::Failure,
        DeploymentState::Success,
        DeploymentState::Other("SERVICE_DEPLOYMENT_IN_PROGRESS".into()),
    ];
    // Before the release started (4000 s ago), after it, or no time at all.
    let times = [Some(5000), Some(60), None];
    for (situation, record) in situations_with(ARN) {
        for state in &states {
            for region in [HERE, THERE] {
                for ago in times {
                    let foreign = ecs_plan(&ecs_change(state.clone(), region, "other-app", ago), record.clone());
                    assert_eq!(foreign.name(), "Ignore", "another service's deployment");
                    assert!(foreign.reason().contains("not this service's"), "{}", foreign.reason());
                    let p = ecs_plan(
                        &ecs_change(state.clone(), region, "tandem-dev-app", ago),
                        record.clone(),
                    );
                    let failed = *state == DeploymentState::Failure;
                    let running = situation == "in progress";
                    let older = ago == Some(5000);
                    let expected = match (failed, region == HERE, running, older) {
                        (false, ..) => "Ignore",
                        (true, true, true, false) => "MarkFailed",
                        (true, true, ..) => "Ignore",
                        (true, false, true, _) => "StopServiceDeployment",
                        (true, false, false, _) => "Ignore",
                    };
                    assert_eq!(
                        p.name(),
                        expected,
                        "{situation} {state:?} {region} {ago:?}: {}",
                        p.reason()
                    );
                }
            }
        }
    }
}

#[test]
fn a_failure_here_names_the_release_and_its_service_deployment() {
    let record = release(ReleaseState::InProgress, Some(ARN), None, true);
    let p = ecs_plan(
        &ecs_change(DeploymentState::Failure, HERE, "tandem-dev-app", Some(60)),
        Some(record.clone()),
    );
    assert_eq!(
        p,
        Plan::MarkFailed {
            release: record.clone(),
            reason: p.reason().to_owned()
        }
    );
    assert!(
        p.reason().contains("ecs-svc/4627941837266483721")
            && p.reason().contains("failed in us-east-1")
            && p.reason().contains(ARN),
        "{}",
        p.reason()
    );
    let stale = ecs_plan(
        &ecs_change(DeploymentState::Failure, HERE, "tandem-dev-app", Some(4001)),
        Some(record),
    );
    assert!(
        stale.reason().contains("before the release of v2 started"),
        "{}",
        stale.reason()
    );
    let starting = ecs_plan(
        &ecs_change(DeploymentState::Failure, HERE, "tandem-dev-app", Some(60)),
        Some(release(ReleaseState::InProgress, None, None, true)),
    );
    assert_eq!(starting.name(), "Ignore");
    assert!(
        starting
            .reason()
            .contains("before the release of v2 recorded its service deployment"),
        "{}",
        starting.reason()
    );
}

#[test]
fn a_failure_in_the_other_region_stops_the_service_deployment_here_as_the_alarm_would() {
    let record = release(ReleaseState::InProgress, Some(ARN), None, true);
    let forwarded = ecs_plan(
        &ecs_change(DeploymentState::Failure, THERE, "tandem-dev-app", Some(30)),
        Some(record.clone()),
    );
    let Plan::Stop {
        deployment_id, engine, ..
    } = &forwarded
    else {
        panic!("{forwarded:?}")
    };
    assert_eq!(
        (deployment_id.as_str(), engine),
        (ARN, &ecs_engine()),
        "this region's ARN"
    );
    assert!(
        forwarded.reason().contains("failed in us-east-2")
            && forwarded
                .reason()
                .contains(&format!("stop service deployment {ARN} with ROLLBACK in us-east-1")),
        "{}",
        forwarded.reason()
    );
    let alarmed = ecs_plan(&alarm("tandem-dev-5xx-rate", AlarmState::Alarm), Some(record));
    assert_eq!(forwarded.incident(), alarmed.incident(), "one action per incident");
}

#[test]
fn each_engine_ignores_the_other_engines_deployments() {
    let ecs_record = release(ReleaseState::InProgress, Some(ARN), None, true);
    let cd_record = release(ReleaseState::InProgress, Some("d-1"), None, true);
    for region in [HERE, THERE] {
        let cd_failure = deployment("d-1", DeploymentState::Failure, region, "tandem-dev-app");
        let p = ecs_plan(&cd_failure, Some(ecs_record.clone()));
        assert_eq!(p.name(), "Ignore", "{region}: {}", p.reason());
        assert!(
            p.reason()
                .contains("is of tandem-dev/tandem-dev-app, not this service's ECS service tandem-dev/tandem-dev-app"),
            "{}",
            p.reason()
        );
        let ecs_failure = ecs_change(DeploymentState::Failure, region, "tandem-dev-app", Some(60));
        let p = plan(&ecs_failure, Some(cd_record.clone()));
        assert_eq!(p.name(), "Ignore", "{region}: {}", p.reason());
    }
}
