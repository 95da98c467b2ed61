//! Releases under the ECS engine: followed to success, rolled back by an
//! alarm or a hook, found by listing, not found at all, and redelivered.

use super::*;

#[tokio::test]
async fn an_ecs_release_updates_the_service_follows_its_deployment_and_records_success() {
    let ecs = [
        &service(LIVE, 2),
        &live_tagged("fp-old"),
        &register(),
        &update(None, Some(ARN)),
        &describe(in_progress),
        &describe(successful),
    ];
    let db = release_writes([
        update_matching(format!(
            "ECS service deployment {ARN} succeeded: all traffic is on {NEW}"
        )),
        put("released"),
    ]);
    let (outcome, waits) = run_with(&resource(&ecs, &[], &refs(&db)), ecs_fixture()).await;
    let Ok(Outcome::Done { data, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (data["TaskDefinitionArn"].as_str(), data["DeploymentId"].as_str()),
        (Some(NEW), Some(ARN))
    );
    assert_eq!(waits, 2, "one wait after the start, one after IN_PROGRESS");
    used(&[&ecs[..], &refs(&db)[..]].concat());
}

/// A service deployment rolled back with `details` added.
async fn rolled_back(details: fn(ServiceDeployment) -> ServiceDeployment) -> String {
    let ecs = [
        &service(LIVE, 2),
        &live_tagged("fp-old"),
        &register(),
        &update(None, Some(ARN)),
        &describe(details),
    ];
    let db = release_writes(failed_end());
    let (outcome, _) = run_with(&resource(&ecs, &[], &refs(&db)), ecs_fixture()).await;
    used(&[&ecs[..], &refs(&db)[..]].concat());
    outcome.unwrap_err()
}

#[tokio::test]
async fn a_deployment_rolled_back_by_an_alarm_fails_the_release_naming_the_alarm() {
    let reason = rolled_back(|mut d| {
        d.status = Some(ServiceDeploymentStatus::RollbackSuccessful);
        d.alarms = Some(
            ServiceDeploymentAlarms::builder()
                .alarm_names("tandem-dev-5xx")
                .alarm_names("tandem-dev-latency")
                .triggered_alarm_names("tandem-dev-5xx")
                .build(),
        );
        d.rollback = Some(
            Rollback::builder()
                .reason("CloudWatch alarm tandem-dev-5xx went into ALARM")
                .build(),
        );
        d
    })
    .await;
    assert!(
        reason.starts_with(&format!(
            "ECS service deployment {ARN} was rolled back: the alarm tandem-dev-5xx went off"
        )),
        "{reason}"
    );
    assert!(
        !reason.contains("tandem-dev-latency"),
        "only the triggered alarm: {reason}"
    );
    assert!(
        reason.contains("rollback: CloudWatch alarm tandem-dev-5xx went into ALARM"),
        "{reason}"
    );
    assert!(reason.ends_with("fix the image, then release again"), "{reason}");
}

#[tokio::test]
async fn a_deployment_rolled_back_by_a_hook_fails_the_release_naming_the_hook() {
    let reason = rolled_back(|mut d| {
        d.status = Some(ServiceDeploymentStatus::RollbackSuccessful);
        d.status_reason = Some("A lifecycle hook returned FAILED.".into());
        d.lifecycle_hook_details = Some(vec![
            DeploymentLifecycleHookDetail::builder()
                .hook_id("hook-post-test")
                .target_arn("arn:aws:lambda:us-east-1:123456789012:function:tandem-dev-deploy-hook")
                .status(DeploymentLifecycleHookStatus::Failed)
                .build(),
        ]);
        d
    })
    .await;
    assert!(
        reason.contains(
            "the lifecycle hook hook-post-test (arn:aws:lambda:us-east-1:123456789012:function:tandem-dev-deploy-hook) failed"
        ),
        "{reason}"
    );
    assert!(
        reason.contains("ECS says: A lifecycle hook returned FAILED."),
        "{reason}"
    );
    assert!(!reason.contains("went off"), "{reason}");
}

#[tokio::test]
async fn without_a_current_deployment_the_newest_listed_one_is_followed() {
    let ecs = [
        &service(LIVE, 2),
        &live_tagged("fp-old"),
        &register(),
        &update(None, None),
        &list(&[(OLDER, 1_795_680_000), (ARN, 1_795_680_060)]),
        &describe(successful),
    ];
    let mut db = release_writes([update_matching("succeeded"), put("released")]);
    db[3] = put("ECS UpdateService, ListServiceDeployments");
    let (outcome, _) = run_with(&resource(&ecs, &[], &refs(&db)), ecs_fixture()).await;
    let Ok(Outcome::Done { data, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(data["DeploymentId"], ARN, "the newest, not the first listed");
    used(&[&ecs[..], &refs(&db)[..]].concat());
}

#[tokio::test]
async fn no_deployment_to_follow_fails_cleanly_and_scales_a_first_release_back() {
    let scale_back = mock!(aws_sdk_ecs::Client::update_service)
        .match_requests(|i| i.desired_count() == Some(0) && i.task_definition().is_none())
        .then_output(|| UpdateServiceOutput::builder().build());
    let ecs = [
        &service(LIVE, 0),
        &live_tagged("fp-placeholder"),
        &register(),
        &update(Some(2), None),
        &list(&[]),
        &scale_back,
    ];
    let db = [
        put("#start"),
        put("in-progress"),
        update_matching("reports no service deployment to follow"),
        put("release failed"),
    ];
    let (outcome, waits) = run_with(&resource(&ecs, &[], &refs(&db)), ecs_fixture()).await;
    let reason = outcome.unwrap_err();
    assert_eq!(waits, 0);
    for needle in [
        "ECS accepted the UpdateService of tandem-dev-app",
        "reports no service deployment to follow",
        "the local AWS (ministack) answers so because it does not implement service deployments",
        "The service was scaled back to zero tasks, as before this first release",
    ] {
        assert!(reason.contains(needle), "{needle}: {reason}");
    }
    used(&[&ecs[..], &refs(&db)[..]].concat());
}

#[tokio::test]
async fn a_redelivery_follows_the_first_ecs_release_and_updates_nothing() {
    // No UpdateService rule before the describe: a second update fails the test.
    let ecs = [&service(LIVE, 2), &live_tagged("fp-old"), &describe(successful)];
    let claimed = put_already_claimed(tandem_core::state::AuditEntry::sort_key(
        AuditKind::Release,
        "req-1#start",
    ));
    let db = [
        &claimed,
        &release_query("req-1", "in-progress", Some(ARN), None),
        &update_matching("succeeded"),
        &put("released"),
    ];
    let resource = resource(&ecs, &[], &db);
    let req = request("Update");
    let first = resource
        .update(&req, "tandem-dev/tandem-dev-app", ecs_fixture(), None)
        .await
        .unwrap();
    let Outcome::InProgress { state, .. } = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        (state["deployment_id"].as_str(), state["engine"].as_str()),
        (Some(ARN), Some("ecs"))
    );
    let next = resource.poll(&req, ecs_fixture(), state).await;
    assert!(matches!(next, Ok(Outcome::Done { .. })), "{next:?}");
    used(&[&ecs[..], &db[..]].concat());
}
