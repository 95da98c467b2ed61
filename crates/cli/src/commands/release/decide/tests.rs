//! Tests of the release's pure decisions.

use super::*;
use tandem_core::state::AuditKind;

fn record(id: &str, image: &str, state: ReleaseState) -> ReleaseRecord {
    ReleaseRecord {
        release_id: id.into(),
        region: "us-east-1".into(),
        image: image.into(),
        task_definition: "arn:aws:ecs:us-east-1:1:task-definition/tandem-dev-app:7".into(),
        previous_task_definition: Some("arn:aws:ecs:us-east-1:1:task-definition/tandem-dev-app:6".into()),
        deployment_id: None,
        state,
        started_at: 1_795_680_000,
        finished_at: None,
        reason: None,
    }
}

fn hook(key: &str, decision: &str) -> AuditEntry {
    AuditEntry {
        kind: AuditKind::Hook,
        key: key.into(),
        at: 1_795_680_100,
        decision: decision.into(),
        reason: "the green targets are healthy".into(),
        action: "PutLifecycleEventHookExecutionStatus".into(),
        outcome: "reported".into(),
        region: "us-east-1".into(),
    }
}

fn params(names: &[&str]) -> BTreeMap<String, String> {
    names.iter().map(|n| ((*n).to_owned(), "x".to_owned())).collect()
}

#[test]
fn valid_ecr_tags_pass() {
    for tag in ["v1", "_x", "1.2.3", "abc-DEF_9.z", &"a".repeat(128), "0"] {
        assert_eq!(check_tag(tag), Ok(()), "{tag}");
    }
}

#[test]
fn invalid_tags_are_named_with_the_rule() {
    for tag in ["", ".v1", "-v1", "v 1", "v1/x", "v1:latest", "ü", &"a".repeat(129)] {
        let e = check_tag(tag).unwrap_err().to_string();
        assert!(e.contains(&format!("{tag:?}")), "{e}");
        assert!(e.contains("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn the_primary_goes_first_whatever_the_configuration_says() {
    let roles = Roles {
        primary: "us-east-2".into(),
        standby: "us-east-1".into(),
    };
    assert_eq!(
        release_order(&roles),
        [("us-east-2", "primary"), ("us-east-1", "standby")]
    );
}

#[test]
fn a_settled_stack_with_an_image_tag_can_be_released() {
    let p = params(&["Env", "ImageTag", "Role"]);
    for status in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"] {
        let names = check_stack("s", "us-east-1", "dev", Some((status, &p))).unwrap();
        assert_eq!(names.len(), 3, "{status}");
    }
}

#[test]
fn a_missing_busy_broken_or_old_stack_is_refused_with_the_fix() {
    let p = params(&["Env", "ImageTag"]);
    let e = check_stack("tandem-dev-region", "us-east-1", "dev", None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tandem-dev-region does not exist in us-east-1: run make deploy ENV=dev first, then release"
    );
    let e = check_stack("s", "us-east-2", "dev", Some(("UPDATE_IN_PROGRESS", &p))).unwrap_err();
    assert!(e.to_string().contains("s in us-east-2 is UPDATE_IN_PROGRESS"), "{e}");
    assert!(e.to_string().contains("wait until"), "{e}");
    for broken in ["UPDATE_ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "DELETE_FAILED"] {
        let e = check_stack("s", "us-east-1", "dev", Some((broken, &p))).unwrap_err();
        assert!(e.to_string().contains("make deploy ENV=dev"), "{broken}: {e}");
    }
    let old = params(&["Env"]);
    let e = check_stack("s", "us-east-1", "dev", Some(("UPDATE_COMPLETE", &old))).unwrap_err();
    assert!(e.to_string().contains("no ImageTag parameter"), "{e}");
}

#[test]
fn only_a_new_record_for_this_tag_is_this_release() {
    let old = record("r-1", "v1", ReleaseState::Succeeded);
    assert!(!is_this_release(Some(&old), &old, "v1"), "the record from before");
    let again = ReleaseRecord {
        release_id: "r-2".into(),
        started_at: old.started_at + 60,
        ..old.clone()
    };
    assert!(
        is_this_release(Some(&old), &again, "v1"),
        "a re-release of a failed tag"
    );
    assert!(!is_this_release(Some(&old), &again, "v2"), "another image");
    assert!(is_this_release(None, &old, "v1"), "the first release");
}

#[test]
fn the_record_is_printed_when_it_changes_and_only_when_it_is_this_release() {
    let before = record("r-1", "v1", ReleaseState::Succeeded);
    let mut progress = Progress::new("dev", "us-east-1", "v2", Some(before.clone()));
    assert_eq!(progress.record_line(Some(&before)), None);
    assert_eq!(progress.record_line(None), None);
    let mut mine = record("r-2", "v2", ReleaseState::InProgress);
    mine.started_at += 60;
    let line = progress.record_line(Some(&mine)).unwrap();
    assert!(
        line.contains("us-east-1") && line.contains("release r-2: in-progress"),
        "{line}"
    );
    assert_eq!(progress.record_line(Some(&mine)), None, "printed once");
    mine.deployment_id = Some("d-ABC".into());
    let line = progress.record_line(Some(&mine)).unwrap();
    assert!(line.contains("deployment d-ABC"), "{line}");
    mine.state = ReleaseState::Failed;
    mine.reason = Some("AfterAllowTestTraffic failed".into());
    let line = progress.record_line(Some(&mine)).unwrap();
    assert!(
        line.contains("failed") && line.contains("(AfterAllowTestTraffic failed)"),
        "{line}"
    );
}

#[test]
fn each_hook_decision_is_printed_once() {
    let mut progress = Progress::new("dev", "us-east-1", "v2", None);
    let first = [hook("d-ABC#exec-1", "Succeeded")];
    assert_eq!(
        progress.hook_lines(&first),
        ["  us-east-1  hook d-ABC#exec-1: Succeeded (the green targets are healthy)"]
    );
    let both = [hook("d-ABC#exec-1", "Succeeded"), hook("d-ABC#exec-2", "Failed")];
    let lines = progress.hook_lines(&both);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("d-ABC#exec-2: Failed"), "{lines:?}");
    assert!(progress.hook_lines(&both).is_empty());
}

fn succeeded() -> Ended {
    Ended::Succeeded("UPDATE_COMPLETE".into())
}

fn rolled_back() -> Ended {
    Ended::Failed {
        status: "UPDATE_ROLLBACK_COMPLETE".into(),
        cause: Some(
            "Deployment (Custom::BlueGreenDeployment): CodeDeploy d-ABC failed at AfterAllowTestTraffic".into(),
        ),
    }
}

#[test]
fn a_region_is_done_when_the_stack_and_the_record_say_so() {
    let progress = Progress::new("dev", "us-east-1", "v2", None);
    let mut done = record("r-2", "v2", ReleaseState::Succeeded);
    done.deployment_id = Some("d-ABC".into());
    let line = judge(&progress, "primary", Some("us-east-2"), &succeeded(), Some(&done)).unwrap();
    assert_eq!(line, "us-east-1 (primary): released v2 through deployment d-ABC");
}

#[test]
fn a_succeeded_stack_without_a_final_record_still_counts_and_says_so() {
    let progress = Progress::new("dev", "us-east-1", "v2", None);
    let line = judge(&progress, "primary", None, &succeeded(), None).unwrap();
    assert!(
        line.contains("released v2") && line.contains("no release record"),
        "{line}"
    );
    let running = record("r-2", "v2", ReleaseState::InProgress);
    let line = judge(&progress, "primary", None, &succeeded(), Some(&running)).unwrap();
    assert!(line.contains("the release record says in-progress"), "{line}");
}

#[test]
fn a_succeeded_stack_with_a_failed_record_stops_the_release() {
    let progress = Progress::new("dev", "us-east-1", "v2", None);
    let failed = record("r-2", "v2", ReleaseState::RolledBack);
    let e = judge(&progress, "primary", Some("us-east-2"), &succeeded(), Some(&failed)).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("in doubt") && e.contains("rolled-back"), "{e}");
    assert!(e.ends_with("us-east-2 was not touched"), "{e}");
}

#[test]
fn a_failed_region_names_the_cause_the_record_and_the_untouched_standby() {
    let progress = Progress::new("dev", "us-east-1", "v2", None);
    let mut failed = record("r-2", "v2", ReleaseState::Failed);
    failed.reason = Some("the green targets never became healthy".into());
    let e = judge(&progress, "primary", Some("us-east-2"), &rolled_back(), Some(&failed))
        .unwrap_err()
        .to_string();
    for part in [
        "the release of v2 failed in us-east-1 (primary)",
        "ended UPDATE_ROLLBACK_COMPLETE",
        "first failure: Deployment (Custom::BlueGreenDeployment): CodeDeploy d-ABC failed at AfterAllowTestTraffic",
        "the release record says failed (the green targets never became healthy)",
        "tandem audit --env dev --kind hook",
        "tandem logs --env dev --function deploy-hook",
        "us-east-2 was not touched",
    ] {
        assert!(e.contains(part), "{part:?} not in {e}");
    }
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn a_failure_ignores_the_record_of_an_earlier_release() {
    let before = record("r-1", "v1", ReleaseState::Succeeded);
    let progress = Progress::new("dev", "us-east-2", "v2", Some(before.clone()));
    let e = judge(&progress, "standby", None, &rolled_back(), Some(&before))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no release record was written for it"), "{e}");
    assert!(!e.contains("not touched"), "the standby is last: {e}");
}
