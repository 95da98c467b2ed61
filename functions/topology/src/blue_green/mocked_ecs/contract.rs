//! The app contract in the registered container, an old poll state, and the
//! properties refused before any call.

use super::*;

#[tokio::test]
async fn the_app_contract_reaches_the_registered_container() {
    let mut props = ecs_fixture();
    props.extra_environment.insert("FEATURE".into(), "on".into());
    props.secrets.insert("API_KEY".into(), SECRET.into());
    let wanted = TaskSpec::new(&props, "us-east-1").fingerprint();
    let register = mock!(aws_sdk_ecs::Client::register_task_definition)
        .match_requests(move |i| {
            let c = &i.container_definitions()[0];
            let env: Vec<_> = (c.environment().iter())
                .map(|kv| (kv.name().unwrap(), kv.value().unwrap()))
                .collect();
            assert_eq!(
                env,
                [
                    ("FEATURE", "on"),
                    ("PORT", "8080"),
                    ("TANDEM_ENV", "dev"),
                    ("TANDEM_IMAGE_TAG", "v1.2.3")
                ]
            );
            let secrets: Vec<_> = (c.secrets().iter()).map(|s| (s.name(), s.value_from())).collect();
            assert_eq!(secrets, [("API_KEY", SECRET)]);
            assert_eq!(i.tags()[0].value(), Some(wanted.as_str()));
            true
        })
        .then_output(|| {
            let td = TaskDefinition::builder().task_definition_arn(NEW).build();
            RegisterTaskDefinitionOutput::builder().task_definition(td).build()
        });
    let ecs = [
        &service(LIVE, 2),
        &live_tagged("fp-old"),
        &register,
        &update(None, Some(ARN)),
        &describe(successful),
    ];
    let db = release_writes([update_matching("succeeded"), put("released")]);
    let (outcome, _) = run_with(&resource(&ecs, &[], &refs(&db)), props).await;
    assert!(matches!(outcome, Ok(Outcome::Done { .. })), "{outcome:?}");
    used(&[&ecs[..], &refs(&db)[..]].concat());
}

#[tokio::test]
async fn without_the_app_contract_the_container_has_no_secrets_and_only_its_variables() {
    let register = mock!(aws_sdk_ecs::Client::register_task_definition)
        .match_requests(|i| {
            let c = &i.container_definitions()[0];
            let names: Vec<_> = c.environment().iter().map(|kv| kv.name().unwrap()).collect();
            assert_eq!(names, ["PORT", "TANDEM_ENV", "TANDEM_IMAGE_TAG"]);
            assert!(c.secrets().is_empty(), "{:?}", c.secrets());
            true
        })
        .then_output(|| {
            let td = TaskDefinition::builder().task_definition_arn(NEW).build();
            RegisterTaskDefinitionOutput::builder().task_definition(td).build()
        });
    let ecs = [
        &service(LIVE, 2),
        &live_tagged("fp-old"),
        &register,
        &update(None, Some(ARN)),
        &describe(successful),
    ];
    let db = release_writes([update_matching("succeeded"), put("released")]);
    let (outcome, _) = run_with(&resource(&ecs, &[], &refs(&db)), ecs_fixture()).await;
    assert!(matches!(outcome, Ok(Outcome::Done { .. })), "{outcome:?}");
    used(&[&ecs[..], &refs(&db)[..]].concat());
}

#[test]
fn a_poll_state_written_before_there_were_two_engines_is_codedeploy_s() {
    let old = serde_json::json!({
        "deployment_id": "d-OLD", "release_id": "req-1", "started_at": 1_795_680_000u64,
        "image": "v1", "task_definition": NEW, "scaled_up": true,
    });
    let state: Deploying = serde_json::from_value(old).unwrap();
    assert_eq!(state.engine, Engine::CodeDeploy);
    let written = serde_json::to_value(Deploying {
        engine: Engine::Ecs,
        ..state
    })
    .unwrap();
    assert_eq!(written["engine"], "ecs");
}

#[test]
fn bad_engine_extra_environment_or_secrets_are_refused_before_any_call() {
    let cases = [
        ("Engine", serde_json::json!("rolling"), "property `Engine`"),
        (
            "ExtraEnvironment",
            serde_json::json!(["NO_EQUALS"]),
            "property `ExtraEnvironment`",
        ),
        (
            "ExtraEnvironment",
            serde_json::json!(["PORT=1"]),
            "property `ExtraEnvironment` sets PORT",
        ),
        (
            "Secrets",
            serde_json::json!(["DB=arn:aws:ssm:us-east-1:123456789012:parameter/db"]),
            "property `Secrets`",
        ),
    ];
    for (key, value, needle) in cases {
        let mut raw = raw_ecs_fixture();
        raw[key] = value.clone();
        let err = check_properties::<BlueGreenDeployment>(raw.as_object().unwrap()).unwrap_err();
        assert!(err.to_string().contains(needle), "{key}={value}: {err}");
    }
    assert!(check_properties::<BlueGreenDeployment>(raw_ecs_fixture().as_object().unwrap()).is_ok());
}
