//! Tests of the exit-code rule, the one-screen text, and the JSON shape.

use super::*;

fn healthy() -> StatusReport {
    let stack = |name: &str, region: &str| StackStatus {
        name: name.into(),
        region: region.into(),
        status: Some("UPDATE_COMPLETE".into()),
        reason: None,
        outputs: BTreeMap::from([("AlbDnsName".to_owned(), "alb.example".to_owned())]),
    };
    StatusReport {
        schema: STATUS_SCHEMA,
        env: "dev".into(),
        roles: RolesView {
            primary: "us-east-1".into(),
            standby: "us-east-2".into(),
            source: "the state table".into(),
            configured_primary: "us-east-1".into(),
            epoch: 0,
        },
        stacks: vec![
            stack("tandem-dev-bootstrap", "us-east-1"),
            stack("tandem-dev-region", "us-east-1"),
        ],
        releases: vec![
            ReleaseView {
                region: "us-east-1".into(),
                image: Some("v7".into()),
                state: Some("succeeded"),
                release_id: Some("r-7".into()),
                deployment_id: Some("d-7".into()),
                started_at: Some(1_795_680_000),
                finished_at: Some(1_795_680_300),
                reason: None,
                waiting_for_approval: None,
            },
            ReleaseView::of("us-east-2", None),
        ],
        alarms: vec![],
        failover: vec![FailoverView {
            region: "us-east-2".into(),
            epoch: 0,
            writes: WritesView::of(&tandem_core::fence::WriteGate::Open { epoch: 0 }),
            probe: Some(ProbeView {
                failures: 0,
                last_at: 1_795_680_000,
                last_error: None,
            }),
            lock: None,
        }],
        decisions: vec![],
        unreadable: vec![],
        attention: vec![],
    }
}

fn lock(step: FailoverStep, error: Option<&str>) -> Option<LockView> {
    Some(LockView {
        step: step.as_str(),
        holder: "req-1".into(),
        lease_until: 1_795_680_900,
        reason: "the primary's /health failed 3 times".into(),
        error: error.map(str::to_owned),
    })
}

#[test]
fn a_settled_environment_needs_nobody() {
    let r = healthy();
    assert!(attention(&r).is_empty());
    let text = render(&r).join("\n");
    assert!(text.ends_with("needs a person: nothing"), "{text}");
    assert!(
        text.contains("us-east-1  v7 succeeded, started 2026-11-26 08:00:00 UTC"),
        "{text}"
    );
    assert!(text.contains("us-east-2  no release yet"), "{text}");
    assert!(text.contains("alarms in ALARM: none"), "{text}");
    assert!(text.contains("us-east-2 failover lock: free"), "{text}");
}

#[test]
fn a_stack_still_settling_needs_nobody_but_a_missing_or_failed_one_does() {
    let mut r = healthy();
    r.stacks[0].status = Some("UPDATE_IN_PROGRESS".into());
    assert!(attention(&r).is_empty());
    // A failed release's stack rolled back: it serves and updates as before.
    r.stacks[0].status = Some("UPDATE_ROLLBACK_COMPLETE".into());
    assert!(attention(&r).is_empty());
    r.stacks[0].status = None;
    r.stacks[1].status = Some("UPDATE_ROLLBACK_FAILED".into());
    r.stacks[1].reason = Some("DbInstance failed".into());
    let needs = attention(&r);
    assert_eq!(needs.len(), 2, "{needs:?}");
    assert!(needs[0].starts_with("tandem-dev-bootstrap (us-east-1) is not deployed: run make deploy ENV=dev"));
    assert!(
        needs[1].contains("is UPDATE_ROLLBACK_FAILED (DbInstance failed)"),
        "{}",
        needs[1]
    );
}

#[test]
fn broken_stack_statuses_are_the_failed_ones_and_a_failed_create() {
    for status in [
        "CREATE_FAILED",
        "ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_FAILED",
        "DELETE_FAILED",
        "ROLLBACK_COMPLETE",
    ] {
        assert!(is_broken(status), "{status}");
    }
    for status in [
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "IMPORT_COMPLETE",
    ] {
        assert!(!is_broken(status), "{status}");
    }
}

#[test]
fn an_alarm_in_alarm_needs_a_person_and_says_where_to_look() {
    let mut r = healthy();
    r.alarms.push(AlarmView {
        region: "us-east-1".into(),
        name: "tandem-dev-5xx-rate".into(),
        reason: "Threshold Crossed".into(),
        since: Some(1_795_680_000),
    });
    let needs = attention(&r);
    assert_eq!(needs.len(), 1);
    assert!(needs[0].starts_with("alarm tandem-dev-5xx-rate in us-east-1 is firing (Threshold Crossed)"));
    assert!(needs[0].contains("tandem logs --env dev"), "{}", needs[0]);
    let text = render(&r).join("\n");
    assert!(text.contains("NEEDS A PERSON\n  - alarm tandem-dev-5xx-rate"), "{text}");
}

#[test]
fn a_held_or_failed_lock_needs_a_person_and_a_done_one_does_not() {
    for (step, error, says) in [
        (
            FailoverStep::Claimed,
            None,
            "a failover to us-east-2 is under way (step claimed",
        ),
        (FailoverStep::PromoteRequested, None, "step promote-requested"),
        (FailoverStep::SecretUpdated, None, "step secret-updated"),
        (
            FailoverStep::Failed,
            Some("PromoteReadReplica refused"),
            "the failover to us-east-2 failed (PromoteReadReplica refused)",
        ),
    ] {
        let mut r = healthy();
        r.failover[0].lock = lock(step, error);
        let needs = attention(&r);
        assert_eq!(needs.len(), 1, "{step:?}");
        assert!(needs[0].contains(says), "{step:?}: {}", needs[0]);
    }
    let mut r = healthy();
    r.failover[0].lock = lock(FailoverStep::Done, None);
    assert!(attention(&r).is_empty());
    r.failover[0].lock = lock(FailoverStep::Failed, Some("x"));
    assert!(
        render(&r)
            .join("\n")
            .contains("us-east-2 failover lock: step failed, held by req-1")
    );
}

#[test]
fn what_could_not_be_read_needs_a_person() {
    let mut r = healthy();
    r.unreadable.push("alarms in us-east-2 (AccessDenied: no)".into());
    assert_eq!(
        attention(&r),
        ["alarms in us-east-2 (AccessDenied: no): check the credentials and the region, then retry"]
    );
}

#[test]
fn decisions_read_with_region_decision_and_kind() {
    let mut r = healthy();
    r.decisions.push(crate::commands::audit::decide::AuditView {
        at: 60,
        time: "1970-01-01 00:01:00 UTC".into(),
        region: "us-east-2".into(),
        kind: "failover",
        key: "promotion#0".into(),
        decision: "Promote".into(),
        reason: "down".into(),
        action: "PromoteReadReplica".into(),
        outcome: "failed: refused".into(),
    });
    let text = render(&r).join("\n");
    assert!(
        text.contains("  1970-01-01 00:01:00 UTC us-east-2 Promote (failover): down -> failed: refused"),
        "{text}"
    );
}

#[test]
fn the_json_shape_is_the_documented_one() {
    let mut r = healthy();
    r.attention = attention(&r);
    let value = serde_json::to_value(&r).unwrap();
    let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "alarms",
            "attention",
            "decisions",
            "env",
            "failover",
            "releases",
            "roles",
            "schema",
            "stacks",
            "unreadable"
        ]
    );
    assert_eq!(value["schema"], "tandem.status/1");
    assert_eq!(value["stacks"][0]["outputs"]["AlbDnsName"], "alb.example");
    assert_eq!(value["releases"][1]["image"], serde_json::Value::Null);
    assert_eq!(value["releases"][0]["waiting_for_approval"], serde_json::Value::Null);
    assert_eq!(value["failover"][0]["lock"], serde_json::Value::Null);
}

#[test]
fn a_failover_leaves_disaster_recovery_disarmed_until_the_failback() {
    let mut r = healthy();
    r.roles.primary = "us-east-2".into();
    r.roles.standby = "us-east-1".into();
    let needs = attention(&r);
    assert_eq!(needs.len(), 1, "{needs:?}");
    assert!(
        needs[0].starts_with("disaster recovery is disarmed: us-east-2 is the primary")
            && needs[0].contains("tandem failback --env dev"),
        "{}",
        needs[0]
    );
}

#[test]
fn a_fenced_region_needs_a_person_and_shows_why() {
    let mut r = healthy();
    r.failover[0].writes = WritesView::of(&tandem_core::fence::WriteGate::Closed(
        "us-east-2 is fenced: us-east-1 became the primary at epoch 2 (x)".into(),
    ));
    let needs = attention(&r);
    assert!(
        needs
            .iter()
            .any(|n| n.starts_with("writes in us-east-2 are fenced: us-east-2 is fenced")),
        "{needs:?}"
    );
    assert!(
        render(&r)
            .iter()
            .any(|l| l.contains("us-east-2 writes: FENCED (epoch 0)"))
    );
}

#[test]
fn a_release_waiting_for_approval_needs_a_person_in_the_text_and_the_json() {
    let arn = "arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF";
    let mut r = healthy();
    r.releases[0].state = Some("in-progress");
    r.releases[0].finished_at = None;
    r.releases[0].deployment_id = Some(arn.into());
    r.releases[0].waiting_for_approval = Some(PausedHook {
        region: "us-east-1".into(),
        hook_id: "pause-1".into(),
        expires_at: Some(1_795_681_200),
        timeout_action: Some("ROLLBACK".into()),
        service_deployment_arn: arn.into(),
    });
    let needs = attention(&r);
    assert_eq!(
        needs,
        [
            "the release of v7 in us-east-1 waits for a person until 2026-11-26 08:20:00 UTC (then ECS rolls it back): \
          check the new tasks on the test listener, then tandem release --env dev --approve, or --reject --reason <why>"
        ]
    );
    let text = render(&r).join("\n");
    assert!(
        text.contains(&format!(
            "us-east-1  WAITING FOR APPROVAL until 2026-11-26 08:20:00 UTC (then ECS rolls it back): pause hook \
             pause-1 of {arn}"
        )),
        "{text}"
    );
    assert!(
        text.contains("NEEDS A PERSON\n  - the release of v7 in us-east-1 waits for a person"),
        "{text}"
    );
    r.attention = needs;
    let value = serde_json::to_value(&r).unwrap();
    assert_eq!(
        value["releases"][0]["waiting_for_approval"],
        serde_json::json!({
            "region": "us-east-1",
            "hook_id": "pause-1",
            "expires_at": 1_795_681_200,
            "timeout_action": "ROLLBACK",
            "service_deployment_arn": arn
        })
    );
    // A pause that goes on by itself says so; one with no expiry says nothing of it.
    let paused = r.releases[0].waiting_for_approval.as_mut().unwrap();
    paused.timeout_action = Some("CONTINUE".into());
    assert!(
        attention(&r)[0].contains("until 2026-11-26 08:20:00 UTC (then ECS moves production traffic on by itself):"),
        "{:?}",
        attention(&r)
    );
    r.releases[0].waiting_for_approval.as_mut().unwrap().expires_at = None;
    assert!(
        attention(&r)[0].contains("waits for a person: check the new tasks"),
        "{:?}",
        attention(&r)
    );
    // Without the pause, the same release in progress needs nobody.
    r.releases[0].waiting_for_approval = None;
    assert!(attention(&r).is_empty());
}
