//! Every branch of the approval's decisions.

use super::*;

const ARN: &str = "arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF";
const ARN2: &str = "arn:aws:ecs:us-east-2:1:service-deployment/tandem-dev/tandem-dev-app/Zk2m0Qp";

fn record(region: &str, state: ReleaseState, deployment: Option<&str>) -> ReleaseRecord {
    ReleaseRecord {
        release_id: "r-2".into(),
        region: region.into(),
        image: "v2".into(),
        task_definition: "arn:task-definition/tandem-dev-app:8".into(),
        previous_task_definition: None,
        deployment_id: deployment.map(str::to_owned),
        state,
        started_at: 1_795_680_000,
        finished_at: None,
        reason: None,
    }
}

fn hook(id: &str, target: &str, status: &str) -> HookDetail {
    HookDetail {
        hook_id: id.into(),
        target_type: target.into(),
        status: status.into(),
        expires_at: Some(1_795_681_200),
        timeout_action: Some("ROLLBACK".into()),
    }
}

fn deploying(region: &str, role: &'static str, arn: &str, hooks: Result<Vec<HookDetail>, String>) -> RegionSeen {
    RegionSeen {
        region: region.into(),
        role,
        seen: Seen::Deploying {
            record: record(region, ReleaseState::InProgress, Some(arn)),
            hooks,
        },
    }
}

fn settled(region: &str, role: &'static str, record: Option<ReleaseRecord>) -> RegionSeen {
    RegionSeen {
        region: region.into(),
        role,
        seen: Seen::Settled(record),
    }
}

fn waiting_primary() -> RegionSeen {
    deploying(
        "us-east-1",
        "primary",
        ARN,
        Ok(vec![
            hook("lambda-1", "AWS_LAMBDA", "SUCCEEDED"),
            hook("pause-1", "PAUSE", "AWAITING_ACTION"),
        ]),
    )
}

#[test]
fn the_flags_make_one_mode_or_say_what_to_pass() {
    assert_eq!(mode(Some("v2"), false, false, None), Ok(Mode::Release("v2".into())));
    assert_eq!(
        mode(None, true, false, None),
        Ok(Mode::Answer(Answer::Approve, DEFAULT_APPROVE_REASON.into()))
    );
    assert_eq!(
        mode(None, true, false, Some("  ")),
        Ok(Mode::Answer(Answer::Approve, DEFAULT_APPROVE_REASON.into())),
        "a blank reason is the default one"
    );
    assert_eq!(
        mode(None, true, false, Some(" canary graphs flat ")),
        Ok(Mode::Answer(Answer::Approve, "canary graphs flat".into()))
    );
    assert_eq!(
        mode(None, false, true, Some("login page broken on test listener")),
        Ok(Mode::Answer(
            Answer::Reject,
            "login page broken on test listener".into()
        ))
    );
    let refused = |image, approve, reject, reason| mode(image, approve, reject, reason).unwrap_err();
    assert!(refused(None, false, true, None).starts_with("--reject needs --reason"));
    assert!(refused(None, false, true, Some(" ")).starts_with("--reject needs --reason"));
    assert_eq!(refused(None, true, true, None), "give --approve or --reject, not both");
    assert_eq!(
        refused(Some("v2"), true, true, None),
        "give --approve or --reject, not both"
    );
    for (approve, reject) in [(true, false), (false, true)] {
        assert!(refused(Some("v2"), approve, reject, Some("x")).starts_with("--image starts a release"));
    }
    assert!(refused(None, false, false, None).starts_with("give --image <tag> to release, or --approve"));
    assert!(refused(Some("v2"), false, false, Some("why")).starts_with("--reason goes with --approve"));
}

#[test]
fn each_answer_sends_its_action() {
    assert_eq!(
        (Answer::Approve.action(), Answer::Approve.verb(), Answer::Approve.flag()),
        ("CONTINUE", "approved", "--approve")
    );
    assert_eq!(
        (Answer::Reject.action(), Answer::Reject.verb(), Answer::Reject.flag()),
        ("ROLLBACK", "rejected", "--reject")
    );
}

#[test]
fn only_an_ecs_release_in_progress_has_a_service_deployment_to_read() {
    assert!(is_service_deployment(ARN));
    assert!(!is_service_deployment("d-7HQK2M3TA"));
    assert!(!is_service_deployment(
        "arn:aws:ecs:us-east-1:1:service/tandem-dev/tandem-dev-app"
    ));
    let read = |state, deployment| {
        let r = record("us-east-1", state, deployment);
        deployment_to_read(Some(&r)).map(str::to_owned)
    };
    assert_eq!(read(ReleaseState::InProgress, Some(ARN)).as_deref(), Some(ARN));
    assert_eq!(read(ReleaseState::InProgress, Some("d-ABC")), None, "CodeDeploy");
    assert_eq!(read(ReleaseState::InProgress, None), None, "not started");
    for done in [ReleaseState::Succeeded, ReleaseState::Failed, ReleaseState::RolledBack] {
        assert_eq!(read(done, Some(ARN)), None, "{done:?}");
    }
    assert_eq!(deployment_to_read(None), None);
}

#[test]
fn only_a_pause_hook_awaiting_action_waits_for_a_person() {
    let found = paused_hook(
        "us-east-1",
        ARN,
        &[
            hook("l-1", "AWS_LAMBDA", "AWAITING_ACTION"),
            hook("p-0", "PAUSE", "SUCCEEDED"),
            hook("p-1", "PAUSE", "AWAITING_ACTION"),
        ],
    );
    assert_eq!(
        found,
        Some(PausedHook {
            region: "us-east-1".into(),
            hook_id: "p-1".into(),
            expires_at: Some(1_795_681_200),
            timeout_action: Some("ROLLBACK".into()),
            service_deployment_arn: ARN.into(),
        })
    );
    for (target, status) in [
        ("PAUSE", "IN_PROGRESS"),
        ("PAUSE", "TIMED_OUT"),
        ("PAUSE", "FAILED"),
        ("AWS_LAMBDA", "AWAITING_ACTION"),
    ] {
        assert_eq!(
            paused_hook("us-east-1", ARN, &[hook("h", target, status)]),
            None,
            "{target} {status}"
        );
    }
    assert_eq!(paused_hook("us-east-1", ARN, &[]), None);
}

#[test]
fn approve_answers_the_primary_first_with_continue() {
    let regions = [
        waiting_primary(),
        deploying(
            "us-east-2",
            "standby",
            ARN2,
            Ok(vec![hook("pause-2", "PAUSE", "AWAITING_ACTION")]),
        ),
    ];
    let send = plan("dev", ReleaseEngine::Ecs, true, Answer::Approve, &regions).unwrap();
    assert_eq!(
        send,
        Send {
            region: "us-east-1".into(),
            role: "primary",
            release_id: "r-2".into(),
            image: "v2".into(),
            arn: ARN.into(),
            hook_id: "pause-1".into(),
            answer: Answer::Approve,
        }
    );
}

#[test]
fn reject_answers_the_standby_when_it_is_the_one_waiting_with_rollback() {
    let regions = [
        settled(
            "us-east-1",
            "primary",
            Some(record("us-east-1", ReleaseState::Succeeded, Some(ARN))),
        ),
        deploying(
            "us-east-2",
            "standby",
            ARN2,
            Ok(vec![hook("pause-2", "PAUSE", "AWAITING_ACTION")]),
        ),
    ];
    let send = plan("dev", ReleaseEngine::Ecs, true, Answer::Reject, &regions).unwrap();
    assert_eq!((send.region.as_str(), send.role), ("us-east-2", "standby"));
    assert_eq!((send.arn.as_str(), send.hook_id.as_str()), (ARN2, "pause-2"));
    assert_eq!(send.answer.action(), "ROLLBACK");
    // An unreadable primary does not hide the standby's pause.
    let regions = [
        RegionSeen {
            region: "us-east-1".into(),
            role: "primary",
            seen: Seen::Unreadable("its state table did not answer within 3 s".into()),
        },
        regions[1].clone(),
    ];
    assert_eq!(
        plan("dev", ReleaseEngine::Ecs, true, Answer::Reject, &regions)
            .unwrap()
            .region,
        "us-east-2"
    );
}

#[test]
fn codedeploy_and_approval_off_are_refused_before_anything_else() {
    let regions = [waiting_primary()];
    let e = plan("dev", ReleaseEngine::CodeDeploy, true, Answer::Approve, &regions).unwrap_err();
    assert_eq!(e, ApprovalError::NotEcs { env: "dev".into() });
    assert!(
        e.to_string().contains(
            "approval is an ECS-engine feature: set release_engine = \"ecs\" and [ecs_release] approval = true"
        ),
        "{e}"
    );
    let e = plan("dev", ReleaseEngine::Ecs, false, Answer::Reject, &regions).unwrap_err();
    assert_eq!(e, ApprovalError::ApprovalOff { env: "dev".into() });
    assert!(
        e.to_string()
            .contains("set [ecs_release] approval = true in config/dev.toml"),
        "{e}"
    );
}

#[test]
fn nothing_waiting_says_what_each_region_last_released() {
    let cases = [
        (
            settled("us-east-1", "primary", None),
            "us-east-1 (primary): no release yet",
        ),
        (
            settled(
                "us-east-1",
                "primary",
                Some(record("us-east-1", ReleaseState::Succeeded, Some(ARN))),
            ),
            "us-east-1 (primary): release r-2 of v2 is succeeded",
        ),
        (
            settled(
                "us-east-1",
                "primary",
                Some(record("us-east-1", ReleaseState::RolledBack, Some(ARN))),
            ),
            "us-east-1 (primary): release r-2 of v2 is rolled-back",
        ),
        (
            settled(
                "us-east-1",
                "primary",
                Some(record("us-east-1", ReleaseState::InProgress, None)),
            ),
            "us-east-1 (primary): release r-2 of v2 is in-progress, with no deployment started yet",
        ),
        (
            settled(
                "us-east-1",
                "primary",
                Some(record("us-east-1", ReleaseState::InProgress, Some("d-ABC"))),
            ),
            "us-east-1 (primary): release r-2 of v2 is in-progress under CodeDeploy deployment d-ABC, which has no \
             approval step",
        ),
        (
            deploying("us-east-1", "primary", ARN, Ok(vec![hook("p", "PAUSE", "SUCCEEDED")])),
            "us-east-1 (primary): release r-2 of v2 is in-progress under service deployment \
             arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF, with no pause hook \
             awaiting action",
        ),
        (
            deploying("us-east-1", "primary", ARN, Err("AccessDeniedException: no".into())),
            "us-east-1 (primary): release r-2 of v2 is in-progress under service deployment \
             arn:aws:ecs:us-east-1:1:service-deployment/tandem-dev/tandem-dev-app/r9i43YFjvgF, whose hooks could not \
             be read (AccessDeniedException: no)",
        ),
        (
            RegionSeen {
                region: "us-east-1".into(),
                role: "primary",
                seen: Seen::Unreadable("its state table did not answer within 3 s".into()),
            },
            "us-east-1 (primary): could not be read (its state table did not answer within 3 s)",
        ),
    ];
    for (seen, line) in cases {
        assert_eq!(seen.describe(), line);
        let e = plan("dev", ReleaseEngine::Ecs, true, Answer::Approve, &[seen]).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "nothing in env dev waits for approval, so nothing was sent: {line}; "
            )),
            "{e}"
        );
    }
    let both = [
        settled("us-east-1", "primary", None),
        settled("us-east-2", "standby", None),
    ];
    let e = plan("dev", ReleaseEngine::Ecs, true, Answer::Approve, &both).unwrap_err();
    assert!(
        e.to_string()
            .contains("us-east-1 (primary): no release yet; us-east-2 (standby): no release yet; a release waits"),
        "{e}"
    );
}

#[test]
fn the_audit_entry_says_who_why_and_what_is_sent() {
    let send = plan("dev", ReleaseEngine::Ecs, true, Answer::Reject, &[waiting_primary()]).unwrap();
    let entry = send.audit_entry(
        "arn:aws:sts::1:assumed-role/dev/me",
        "login broken",
        1_795_680_500,
        "sending",
    );
    assert_eq!(
        entry,
        AuditEntry {
            kind: AuditKind::Release,
            key: "r-2#approval#pause-1".into(),
            at: 1_795_680_500,
            decision: "rejected".into(),
            reason: "rejected by arn:aws:sts::1:assumed-role/dev/me: login broken".into(),
            action: format!("ContinueServiceDeployment ROLLBACK of hook pause-1 of {ARN}"),
            outcome: "sending".into(),
            region: "us-east-1".into(),
        }
    );
}

#[test]
fn a_refused_call_names_the_region_the_arn_and_the_fix() {
    let send = plan("dev", ReleaseEngine::Ecs, true, Answer::Approve, &[waiting_primary()]).unwrap();
    let local = refused(
        "dev",
        &send,
        Some("InvalidAction"),
        "InvalidAction: Unknown ECS action: ContinueServiceDeployment",
    );
    assert_eq!(
        local,
        format!(
            "ECS refused ContinueServiceDeployment (CONTINUE of hook pause-1) for service deployment {ARN} in us-east-1 \
             (InvalidAction: Unknown ECS action: ContinueServiceDeployment): this endpoint has no ECS blue/green \
             deployments (the local AWS refuses the call): approve on AWS, or let the pause time out, which rolls back"
        )
    );
    for (code, fix) in [
        (Some("AccessDeniedException"), "grant it to this role"),
        (
            Some("ServiceDeploymentNotFoundException"),
            "the hook no longer waits (answered elsewhere, timed out, or the deployment ended): tandem status --env dev",
        ),
        (Some("InvalidParameterException"), "the hook no longer waits"),
        (Some("ClientException"), "the hook no longer waits"),
        (
            Some("ServerException"),
            "check the credentials and the network, then retry",
        ),
        (None, "check the credentials and the network, then retry"),
    ] {
        let sentence = refused("dev", &send, code, "said");
        assert!(sentence.starts_with("ECS refused ContinueServiceDeployment (CONTINUE of hook pause-1)"));
        assert!(sentence.contains(fix), "{code:?}: {sentence}");
        assert!(sentence.contains(ARN) && sentence.contains("us-east-1"), "{sentence}");
    }
}
