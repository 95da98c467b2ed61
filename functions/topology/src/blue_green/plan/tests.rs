//! The release decisions, over every combination of their inputs.

use super::*;

const WANTED: &str = "fp-wanted";

fn observed(live: Option<&str>, fingerprint: Option<&str>, desired: i32) -> Observed {
    Observed {
        live_task_definition: live.map(str::to_owned),
        live_fingerprint: fingerprint.map(str::to_owned),
        desired_count: desired,
    }
}

#[test]
fn every_start_situation_has_one_plan() {
    let lives = [None, Some("arn:td:6")];
    let fingerprints = [None, Some(WANTED), Some("fp-other")];
    for image in ["", "v2"] {
        for live in lives {
            for fingerprint in fingerprints {
                for desired_now in [0, 2] {
                    for desired_prop in [0, 3] {
                        let seen = observed(live, fingerprint, desired_now);
                        let plan = start(image, desired_prop, WANTED, &seen);
                        let expected = if image.is_empty() {
                            StartPlan::NothingToRelease
                        } else if live.is_some() && fingerprint == Some(WANTED) {
                            StartPlan::AlreadyLive {
                                task_definition: live.unwrap().to_owned(),
                            }
                        } else {
                            StartPlan::Release(ReleasePlan {
                                previous: live.map(str::to_owned),
                                scale_to: (desired_now == 0 && desired_prop > 0).then_some(desired_prop),
                                shift: if desired_now == 0 {
                                    TrafficShift::AllAtOnce
                                } else {
                                    TrafficShift::GroupDefault
                                },
                            })
                        };
                        assert_eq!(
                            plan, expected,
                            "{image:?} {live:?} {fingerprint:?} {desired_now} {desired_prop}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_stack_rollback_after_codedeploy_rolled_back_is_a_no_op() {
    // CodeDeploy put traffic back on :6; CloudFormation sends the old properties.
    let plan = start("v1", 2, "fp-v1", &observed(Some("arn:td:6"), Some("fp-v1"), 2));
    assert_eq!(
        plan,
        StartPlan::AlreadyLive {
            task_definition: "arn:td:6".into()
        }
    );
}

#[test]
fn the_first_release_scales_a_service_created_with_zero_tasks_and_shifts_all_at_once() {
    let plan = start("v1", 2, WANTED, &observed(Some("arn:td:placeholder"), None, 0));
    assert_eq!(
        plan,
        StartPlan::Release(ReleasePlan {
            previous: Some("arn:td:placeholder".into()),
            scale_to: Some(2),
            shift: TrafficShift::AllAtOnce,
        }),
        "nothing serves yet: all at once, not a canary onto no tasks"
    );
    let later = start("v2", 2, WANTED, &observed(Some("arn:td:7"), Some("fp-v1"), 5));
    assert_eq!(
        later,
        StartPlan::Release(ReleasePlan {
            previous: Some("arn:td:7".into()),
            scale_to: None,
            shift: TrafficShift::GroupDefault,
        }),
        "auto scaling owns the count after the first release, and later releases keep the canary"
    );
}

#[test]
fn statuses_parse_and_unknown_ones_keep_waiting() {
    for (text, status) in [
        ("Succeeded", Status::Succeeded),
        ("Failed", Status::Failed),
        ("Stopped", Status::Stopped),
        ("InProgress", Status::Running),
        ("Created", Status::Running),
        ("Queued", Status::Running),
        ("Ready", Status::Running),
        ("Baking", Status::Running),
        ("SomethingNew", Status::Running),
    ] {
        assert_eq!(Status::parse(text), status, "{text}");
    }
}

fn view(status: Status, error: Option<(&str, &str)>, hooks: &[(&str, &str, &str)]) -> DeploymentView {
    DeploymentView {
        status,
        error: error.map(|(c, m)| (c.to_owned(), m.to_owned())),
        hooks: hooks
            .iter()
            .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
            .collect(),
    }
}

#[test]
fn running_waits_and_success_succeeds() {
    assert_eq!(progress("d-1", &view(Status::Running, None, &[])), Progress::Wait);
    assert_eq!(
        progress("d-1", &view(Status::Succeeded, None, &[])),
        Progress::Succeeded
    );
}

#[test]
fn a_failure_names_the_deployment_the_failing_hook_and_codedeploys_error() {
    let hooks = [
        ("BeforeInstall", "Succeeded", ""),
        ("AfterAllowTestTraffic", "Failed", " /health answered 503 "),
        ("BeforeAllowTraffic", "Skipped", ""),
    ];
    let Progress::Failed(reason) = progress(
        "d-9",
        &view(
            Status::Failed,
            Some(("HOOK_EXECUTION_FAILURE", "The deployment failed because a hook failed.")),
            &hooks,
        ),
    ) else {
        panic!("a failed deployment must fail the release");
    };
    assert!(
        reason.starts_with(
            "CodeDeploy deployment d-9 failed: the AfterAllowTestTraffic hook failed (/health answered 503)"
        ),
        "{reason}"
    );
    assert!(
        reason.contains("CodeDeploy says HOOK_EXECUTION_FAILURE: The deployment failed because a hook failed."),
        "{reason}"
    );
    assert!(reason.contains("release again"), "{reason}");
}

#[test]
fn a_stop_without_details_still_reads_as_one_sentence() {
    let Progress::Failed(reason) = progress("d-2", &view(Status::Stopped, None, &[])) else {
        panic!("a stopped deployment must fail the release");
    };
    assert!(
        reason.starts_with("CodeDeploy deployment d-2 was stopped; traffic stays on"),
        "{reason}"
    );
    assert!(!reason.contains("hook failed"), "{reason}");
}

#[test]
fn the_failing_hook_is_the_first_failed_one() {
    let hooks = view(
        Status::Failed,
        None,
        &[("A", "Succeeded", ""), ("B", "Failed", ""), ("C", "Failed", "x")],
    )
    .hooks;
    assert_eq!(failed_hook(&hooks).as_deref(), Some("the B hook failed"));
    assert_eq!(failed_hook(&[]), None);
}

#[test]
fn only_an_all_at_once_shift_overrides_the_groups_configuration() {
    assert_eq!(
        TrafficShift::AllAtOnce.deployment_config_name(),
        Some("CodeDeployDefault.ECSAllAtOnce")
    );
    assert_eq!(TrafficShift::GroupDefault.deployment_config_name(), None);
}
