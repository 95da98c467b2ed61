//! Where an ECS service deployment stands, over every status and every
//! combination of the details a failure names.

use super::*;

const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF";

fn view(status: Status) -> DeploymentView {
    DeploymentView {
        status,
        status_reason: None,
        rollback_reason: None,
        triggered_alarms: Vec::new(),
        hooks: Vec::new(),
    }
}

fn hook(id: &str, status: &str) -> Hook {
    Hook {
        id: id.into(),
        target: "arn:aws:lambda:us-east-1:123456789012:function:tandem-dev-deploy-hook".into(),
        status: status.into(),
    }
}

fn failed(progress: Progress) -> String {
    match progress {
        Progress::Failed(reason) => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn every_status_parses_to_its_outcome_and_unknown_ones_keep_waiting() {
    let table = [
        ("PENDING", Status::Running),
        ("IN_PROGRESS", Status::Running),
        ("STOP_REQUESTED", Status::Running),
        ("ROLLBACK_REQUESTED", Status::Running),
        ("ROLLBACK_IN_PROGRESS", Status::Running),
        ("SUCCESSFUL", Status::Successful),
        ("STOPPED", Status::Stopped),
        ("ROLLBACK_SUCCESSFUL", Status::RolledBack),
        ("ROLLBACK_FAILED", Status::RollbackFailed),
        ("SOMETHING_NEW", Status::Running),
        ("", Status::Running),
        ("successful", Status::Running),
    ];
    for (text, status) in table {
        assert_eq!(Status::parse(text), status, "{text:?}");
    }
}

#[test]
fn every_status_of_a_known_deployment_has_one_progress_at_any_age() {
    let ended = [
        (Status::Stopped, "was stopped"),
        (Status::RolledBack, "was rolled back"),
        (Status::RollbackFailed, "failed, and so did its rollback"),
    ];
    for age in [Duration::ZERO, GRACE, GRACE * 10] {
        let look = |status| Look::Found(view(status));
        assert_eq!(progress(ARN, &look(Status::Running), age), Progress::Wait, "{age:?}");
        assert_eq!(
            progress(ARN, &look(Status::Successful), age),
            Progress::Succeeded,
            "{age:?}"
        );
        for (status, words) in ended {
            let reason = failed(progress(ARN, &look(status), age));
            assert!(
                reason.starts_with(&format!("ECS service deployment {ARN} {words}")),
                "{reason}"
            );
            assert!(reason.ends_with("fix the image, then release again"), "{reason}");
            let back = reason.contains("went back to) the previous task definition");
            assert_eq!(back, status != Status::RollbackFailed, "{reason}");
            assert_eq!(
                reason.contains("ECS could not roll back"),
                status == Status::RollbackFailed,
                "{reason}"
            );
        }
    }
}

#[test]
fn the_failure_sentence_has_the_codedeploy_one_s_tail() {
    let reason = failed(progress(ARN, &Look::Found(view(Status::Stopped)), GRACE));
    assert_eq!(
        reason,
        format!(
            "ECS service deployment {ARN} was stopped; traffic stays on (or went back to) the previous task \
             definition. See the hook decisions with `tandem status` and the deploy-hook's logs, fix the image, \
             then release again"
        )
    );
}

#[test]
fn a_failure_names_every_detail_it_has_in_one_sentence() {
    // (alarms, hooks, status reason, rollback reason) -> the phrases expected.
    let alarm_cases: [(&[&str], Option<&str>); 3] = [
        (&[], None),
        (&["tandem-dev-5xx"], Some("the alarm tandem-dev-5xx went off")),
        (
            &["tandem-dev-5xx", "tandem-dev-latency"],
            Some("the alarms tandem-dev-5xx, tandem-dev-latency went off"),
        ),
    ];
    let hook_cases: [(Vec<Hook>, Option<&str>); 5] = [
        (vec![], None),
        (vec![hook("h-1", "SUCCEEDED"), hook("h-2", "IN_PROGRESS")], None),
        (
            vec![hook("h-1", "SUCCEEDED"), hook("h-2", "FAILED")],
            Some(
                "the lifecycle hook h-2 (arn:aws:lambda:us-east-1:123456789012:function:tandem-dev-deploy-hook) failed",
            ),
        ),
        (vec![hook("h-3", "TIMED_OUT")], Some("the lifecycle hook h-3 (")),
        (vec![hook("h-4", "AWAITING_ACTION")], None),
    ];
    let reason_cases = [
        (None, None, vec![]),
        (Some("  "), None, vec![]),
        (
            Some("Service deployment rolled back because the lifecycle hook failed."),
            None,
            vec!["ECS says: Service deployment rolled back because the lifecycle hook failed."],
        ),
        (
            None,
            Some("alarm tandem-dev-5xx in ALARM"),
            vec!["rollback: alarm tandem-dev-5xx in ALARM"],
        ),
        (Some("same"), Some("same"), vec!["ECS says: same"]),
        (
            Some("stopped by a person"),
            Some("stop requested"),
            vec!["ECS says: stopped by a person", "rollback: stop requested"],
        ),
    ];
    for (alarms, alarm_phrase) in &alarm_cases {
        for (hooks, hook_phrase) in &hook_cases {
            for (status_reason, rollback_reason, reason_phrases) in &reason_cases {
                let look = Look::Found(DeploymentView {
                    status: Status::RolledBack,
                    status_reason: status_reason.map(str::to_owned),
                    rollback_reason: rollback_reason.map(str::to_owned),
                    triggered_alarms: alarms.iter().map(|a| (*a).to_owned()).collect(),
                    hooks: hooks.clone(),
                });
                let reason = failed(progress(ARN, &look, GRACE));
                let case = format!("{alarms:?} {hooks:?} {status_reason:?} {rollback_reason:?}: {reason}");
                let mut expected: Vec<&str> = Vec::new();
                expected.extend(alarm_phrase);
                expected.extend(hook_phrase);
                expected.extend(reason_phrases.iter().copied());
                for phrase in &expected {
                    assert!(reason.contains(phrase), "{case}");
                }
                assert_eq!(reason.contains("went off"), alarm_phrase.is_some(), "{case}");
                assert_eq!(reason.contains("lifecycle hook h-"), hook_phrase.is_some(), "{case}");
                let says = |prefix: &str| usize::from(reason_phrases.iter().any(|p| p.starts_with(prefix)));
                assert_eq!(reason.matches("ECS says: ").count(), says("ECS says: "), "{case}");
                assert_eq!(reason.matches("rollback: ").count(), says("rollback: "), "{case}");
                let details = format!("ECS service deployment {ARN} was rolled back: ");
                assert_eq!(reason.starts_with(&details), !expected.is_empty(), "{case}");
            }
        }
    }
}

#[test]
fn the_failed_hook_is_the_first_failed_or_timed_out_one() {
    assert_eq!(failed_hook(&[]), None);
    let hooks = [hook("a", "SUCCEEDED"), hook("b", "TIMED_OUT"), hook("c", "FAILED")];
    assert!(failed_hook(&hooks).unwrap().starts_with("the lifecycle hook b ("));
    let pause = Hook {
        id: "p-1".into(),
        target: "PAUSE".into(),
        status: "FAILED".into(),
    };
    assert_eq!(
        failed_hook(&[pause]).as_deref(),
        Some("the lifecycle hook p-1 (PAUSE) failed")
    );
}

#[test]
fn an_unknown_deployment_waits_through_the_grace_period_then_fails_naming_why() {
    let missing = Look::Unknown {
        failure: Some("MISSING: the service deployment does not exist".into()),
    };
    let silent = Look::Unknown { failure: None };
    for look in [&missing, &silent] {
        for age in [Duration::ZERO, Duration::from_secs(59)] {
            assert_eq!(progress(ARN, look, age), Progress::Wait, "{look:?} {age:?}");
        }
        for age in [GRACE, Duration::from_secs(3600)] {
            let reason = failed(progress(ARN, look, age));
            assert!(
                reason.starts_with(&format!(
                    "ECS does not know service deployment {ARN} {}s after the release started",
                    age.as_secs()
                )),
                "{reason}"
            );
            assert!(reason.ends_with("then release again"), "{reason}");
            let blames_local =
                reason.contains("local AWS (ministack)") && reason.contains("does not implement service deployments");
            assert_eq!(blames_local, look == &silent, "{reason}");
            assert_eq!(
                reason.contains("MISSING: the service deployment does not exist"),
                look == &missing,
                "{reason}"
            );
        }
    }
}

#[test]
fn the_grace_period_is_a_minute() {
    assert_eq!(GRACE, Duration::from_secs(60));
}
