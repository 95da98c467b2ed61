//! A Delete that stops the ECS release in flight (or cannot), and a service
//! deployment that ECS does not know.

use super::*;

fn stop(answer: Result<(), &'static str>) -> Rule {
    let rule = mock!(aws_sdk_ecs::Client::stop_service_deployment).match_requests(|i| {
        i.service_deployment_arn() == Some(ARN) && i.stop_type() == Some(&StopServiceDeploymentStopType::Rollback)
    });
    match answer {
        Ok(()) => rule.then_output(|| {
            StopServiceDeploymentOutput::builder()
                .service_deployment_arn(ARN)
                .build()
        }),
        Err(code) => rule.then_error(move || {
            let message = match code {
                "InvalidAction" => "Unknown ECS action: StopServiceDeployment",
                _ => "The service deployment is in a terminal state.",
            };
            StopServiceDeploymentError::generic(ErrorMetadata::builder().code(code).message(message).build())
        }),
    }
}

async fn delete(ecs: &[&Rule], db: &[&Rule]) -> Result<Outcome, String> {
    resource(ecs, &[], db)
        .delete(&request("Delete"), "tandem-dev/tandem-dev-app", ecs_fixture())
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn delete_rolls_back_the_release_in_flight_with_its_recorded_deployment() {
    for answer in [Ok(()), Err("ConflictException")] {
        let stop = stop(answer);
        let db = [
            &release_query("req-0", "in-progress", Some(ARN), None),
            &update_matching("CloudFormation deleted its resource"),
            &put("release failed"),
        ];
        let outcome = delete(&[&stop], &db).await;
        let Ok(Outcome::Done { data, .. }) = outcome else {
            panic!("{answer:?}: {outcome:?}")
        };
        assert_eq!(
            data["DeploymentId"], ARN,
            "{answer:?}: an ended deployment counts as stopped"
        );
        used(&[&stop, db[0], db[1], db[2]]);
    }
}

#[tokio::test]
async fn delete_when_the_local_aws_refuses_the_stop_answers_one_audited_sentence() {
    let stop = stop(Err("InvalidAction"));
    let audited = put("req-0#stop#req-1");
    let db = [&release_query("req-0", "in-progress", Some(ARN), None), &audited];
    let reason = delete(&[&stop], &db).await.unwrap_err();
    assert!(
        reason.starts_with(&format!(
            "ECS StopServiceDeployment of {ARN} was refused (InvalidAction: Unknown ECS action: StopServiceDeployment)"
        )),
        "{reason}"
    );
    for needle in [
        "the local AWS, ministack, does not implement service deployments",
        "stop it in the ECS console or with `aws ecs stop-service-deployment",
        "then retry",
    ] {
        assert!(reason.contains(needle), "{needle}: {reason}");
    }
    assert!(
        !reason.contains('\n') && !reason.contains("Error {"),
        "one sentence: {reason}"
    );
    used(&[&stop, db[0], db[1]]);
}

#[tokio::test]
async fn a_deployment_that_ecs_does_not_know_is_waited_for_then_fails_the_release() {
    let unknown = || {
        mock!(aws_sdk_ecs::Client::describe_service_deployments).then_output(|| {
            DescribeServiceDeploymentsOutput::builder()
                .failures(Failure::builder().arn(ARN).reason("MISSING").build())
                .build()
        })
    };
    let state = |started_at: u64| {
        serde_json::json!({
            "deployment_id": ARN, "release_id": "req-1", "started_at": started_at,
            "image": "v1.2.3", "task_definition": NEW, "engine": "ecs",
        })
    };
    let young = unknown();
    let outcome = resource(&[&young], &[], &[])
        .poll(&request("Update"), ecs_fixture(), state(unix_now()))
        .await;
    assert!(
        matches!(outcome, Ok(Outcome::InProgress { .. })),
        "within the grace period: {outcome:?}"
    );
    let old = unknown();
    let db = [
        &update_matching("ECS does not know service deployment"),
        &put("release failed"),
    ];
    let reason = resource(&[&old], &[], &db)
        .poll(&request("Update"), ecs_fixture(), state(unix_now() - 120))
        .await
        .unwrap_err()
        .to_string();
    assert!(reason.contains("(ECS says MISSING)"), "{reason}");
    used(&[&young, &old, db[0], db[1]]);
}
