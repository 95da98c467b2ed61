//! The shell against a mocked Secrets Manager and a scripted database: the
//! calls each step makes, in order, and what it does when a step repeats.

use super::*;
use crate::credentials::Password;
use crate::db::DbFuture;
use crate::db::DbTls;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::{GetSecretValueError, GetSecretValueOutput};
use aws_sdk_secretsmanager::operation::put_secret_value::PutSecretValueOutput;
use aws_sdk_secretsmanager::operation::update_secret_version_stage::UpdateSecretVersionStageOutput;
use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use std::sync::{Arc, Mutex};
use tandem_testing::mock_client;

const SECRET: &str = "arn:aws:secretsmanager:us-east-1:1:secret:tandem-dev/db-AbCd";
const TOKEN: &str = "tok-new";
const OLD: &str = "old-Passw0rd!";
const NEW: &str = "new-Passw0rd!";
const OLDER: &str = "older-Passw0rd!";

fn value(password: &str) -> String {
    json!({"username": "tandem_admin", "password": password, "host": "w.example", "port": 3306, "engine": "mysql"})
        .to_string()
}

/// A database whose user has one password, and what was done to it.
#[derive(Clone)]
struct FakeDb {
    password: Arc<Mutex<String>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl FakeDb {
    fn with(password: &str) -> Self {
        Self {
            password: Arc::new(Mutex::new(password.into())),
            calls: Arc::default(),
        }
    }

    fn works(&self, who: &Credentials) -> bool {
        *self.password.lock().unwrap() == who.password.expose()
    }

    fn refused(who: &Credentials, stage: &str) -> DbError {
        DbError::Refused {
            endpoint: who.endpoint(),
            user: who.username.clone(),
            stage: stage.into(),
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Database for FakeDb {
    fn log_in<'a>(&'a self, who: &'a Credentials) -> DbFuture<'a, Login> {
        let works = self.works(who);
        self.calls
            .lock()
            .unwrap()
            .push(format!("log in with {}", who.password.expose()));
        Box::pin(async move { Ok(if works { Login::Works } else { Login::Refused }) })
    }

    fn set_own_password<'a>(&'a self, who: &'a Credentials, stage: &'a str, new: &'a Password) -> DbFuture<'a, ()> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("set {} as {stage}", new.expose()));
        let result = if self.works(who) {
            *self.password.lock().unwrap() = new.expose().to_owned();
            Ok(())
        } else {
            Err(Self::refused(who, stage))
        };
        Box::pin(async move { result })
    }

    fn select_now<'a>(&'a self, who: &'a Credentials, stage: &'a str) -> DbFuture<'a, ()> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("select now with {}", who.password.expose()));
        let result = if self.works(who) {
            Ok(())
        } else {
            Err(Self::refused(who, stage))
        };
        Box::pin(async move { result })
    }
}

fn rotation(rules: &[Rule], db: &FakeDb) -> Rotation {
    Rotation::new(
        mock_client!(aws_sdk_secretsmanager, rules),
        Box::new(db.clone()),
        Settings {
            env: "dev".into(),
            region: "us-east-1".into(),
            exclude_characters: crate::settings::ALWAYS_EXCLUDED.into(),
            db_tls: DbTls::Disabled,
        },
    )
}

fn event(step: Step) -> Value {
    json!({"SecretId": SECRET, "ClientRequestToken": TOKEN, "Step": step.name()})
}

fn describe(versions: &'static [(&'static str, &'static [&'static str])]) -> Rule {
    mock!(aws_sdk_secretsmanager::Client::describe_secret)
        .match_requests(|i| i.secret_id() == Some(SECRET))
        .then_output(move || {
            let mut out = DescribeSecretOutput::builder().rotation_enabled(true);
            for (id, stages) in versions {
                out = out.version_ids_to_stages(*id, stages.iter().map(|s| (*s).to_owned()).collect());
            }
            out.build()
        })
}

/// The rotation in flight: the token AWSPENDING, `old` AWSCURRENT, `older` AWSPREVIOUS.
const IN_FLIGHT: &[(&str, &[&str])] = &[(TOKEN, &[PENDING]), ("old", &[CURRENT]), ("older", &[PREVIOUS])];

/// `GetSecretValue` of `stage` (the token's, for AWSPENDING) answering `password`, or not found.
fn get(stage: &'static str, password: Option<&'static str>) -> Rule {
    mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(move |i| {
            i.secret_id() == Some(SECRET)
                && i.version_stage() == Some(stage)
                && i.version_id() == (stage == PENDING).then_some(TOKEN)
        })
        .then_output(move || {
            GetSecretValueOutput::builder()
                .secret_string(value(password.unwrap_or("")))
                .build()
        })
}

fn not_found(stage: &'static str) -> Rule {
    mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(move |i| i.version_stage() == Some(stage))
        .then_error(|| {
            let meta = ErrorMetadata::builder().code("ResourceNotFoundException").build();
            GetSecretValueError::ResourceNotFoundException(ResourceNotFoundException::builder().meta(meta).build())
        })
}

#[tokio::test]
async fn create_puts_the_current_json_with_a_new_password_as_pending() {
    let put = Arc::new(Mutex::new(String::new()));
    let seen = put.clone();
    let rules = [
        describe(IN_FLIGHT),
        get(CURRENT, Some(OLD)),
        not_found(PENDING),
        mock!(aws_sdk_secretsmanager::Client::put_secret_value)
            .match_requests(move |i| {
                *seen.lock().unwrap() = i.secret_string().unwrap_or_default().to_owned();
                i.client_request_token() == Some(TOKEN) && i.version_stages() == [PENDING.to_owned()]
            })
            .then_output(|| PutSecretValueOutput::builder().build()),
    ];
    let db = FakeDb::with(OLD);
    let out = rotation(&rules, &db).handle(&event(Step::CreateSecret)).await.unwrap();
    assert_eq!(out["outcome"], "put a new password as AWSPENDING");
    let mut put: Value = serde_json::from_str(&put.lock().unwrap()).unwrap();
    let password = put["password"].take();
    let password = password.as_str().unwrap();
    assert_eq!(password.len(), 32);
    assert!(!password.contains(['"', '\'', '\\', '@', '/', ' ']), "{password}");
    let mut want: Value = serde_json::from_str(&value(OLD)).unwrap();
    want["password"] = Value::Null;
    assert_eq!(put, want, "the same JSON, the password aside");
    assert!(db.calls().is_empty(), "createSecret leaves the database alone");
}

#[tokio::test]
async fn create_again_finds_the_pending_value_and_puts_nothing() {
    // No PutSecretValue rule: a put would fail the test.
    let rules = [describe(IN_FLIGHT), get(CURRENT, Some(OLD)), get(PENDING, Some(NEW))];
    let out = rotation(&rules, &FakeDb::with(OLD))
        .handle(&event(Step::CreateSecret))
        .await
        .unwrap();
    assert_eq!(out["outcome"], "the AWSPENDING value exists already: nothing to do");
}

#[tokio::test]
async fn every_step_of_a_finished_rotation_does_nothing() {
    for step in Step::ALL {
        let rules = [describe(&[(TOKEN, &[CURRENT]), ("old", &[PREVIOUS])])];
        let db = FakeDb::with(NEW);
        let out = rotation(&rules, &db).handle(&event(step)).await.unwrap();
        assert_eq!(
            out["outcome"], "the version is AWSCURRENT already: nothing to do",
            "{step}"
        );
        assert!(db.calls().is_empty(), "{step}");
    }
}

#[tokio::test]
async fn a_token_that_is_not_pending_is_refused_naming_the_step() {
    for step in Step::ALL {
        let rules = [describe(&[(TOKEN, &[PREVIOUS]), ("old", &[CURRENT])])];
        let e = rotation(&rules, &FakeDb::with(OLD))
            .handle(&event(step))
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{step} of secret {SECRET} (version {TOKEN}) failed: ")),
            "{text}"
        );
        assert!(
            text.contains("not AWSPENDING") && text.contains("cancel-rotate-secret"),
            "{text}"
        );
        assert_eq!(format!("{e:?}"), text, "the log reads the sentence");
        assert_eq!(e.error_type(), "tandem.StepRefused");
    }
}

#[tokio::test]
async fn set_changes_the_password_with_the_current_one_then_finds_it_set() {
    let db = FakeDb::with(OLD);
    let rules = || [describe(IN_FLIGHT), get(PENDING, Some(NEW)), get(CURRENT, Some(OLD))];
    let out = rotation(&rules(), &db).handle(&event(Step::SetSecret)).await.unwrap();
    assert_eq!(
        out["outcome"],
        "set the password of tandem_admin@w.example:3306 to AWSPENDING's, logged in with AWSCURRENT's"
    );
    assert_eq!(*db.password.lock().unwrap(), NEW);
    assert_eq!(
        db.calls(),
        [
            format!("log in with {NEW}"),
            format!("log in with {OLD}"),
            format!("set {NEW} as AWSCURRENT")
        ]
    );
    // Again: the new password logs in, so nothing changes.
    let again = rotation(&rules(), &db).handle(&event(Step::SetSecret)).await.unwrap();
    assert_eq!(
        again["outcome"],
        "the AWSPENDING password logs in already: nothing to do"
    );
    assert_eq!(db.calls().len(), 4);
}

#[tokio::test]
async fn set_falls_back_to_the_previous_password() {
    let db = FakeDb::with(OLDER);
    let rules = [
        describe(IN_FLIGHT),
        get(PENDING, Some(NEW)),
        get(CURRENT, Some(OLD)),
        get(PREVIOUS, Some(OLDER)),
    ];
    let out = rotation(&rules, &db).handle(&event(Step::SetSecret)).await.unwrap();
    assert!(
        out["outcome"]
            .as_str()
            .unwrap()
            .ends_with("logged in with AWSPREVIOUS's"),
        "{out}"
    );
    assert_eq!(*db.password.lock().unwrap(), NEW);
}

#[tokio::test]
async fn set_with_no_working_password_says_so_without_any_password() {
    let db = FakeDb::with("changed-by-hand");
    let rules = [
        describe(IN_FLIGHT),
        get(PENDING, Some(NEW)),
        get(CURRENT, Some(OLD)),
        get(PREVIOUS, Some(OLDER)),
    ];
    let e = rotation(&rules, &db).handle(&event(Step::SetSecret)).await.unwrap_err();
    assert_eq!(e.error_type(), "tandem.NoPasswordWorks");
    let e = e.to_string();
    assert!(e.starts_with("setSecret of secret"), "{e}");
    assert!(
        e.contains("(AWSPENDING, AWSCURRENT, AWSPREVIOUS)") && e.contains("put-secret-value"),
        "{e}"
    );
    for password in [NEW, OLD, OLDER, "changed-by-hand"] {
        assert!(!e.contains(password), "{e}");
    }
    assert_eq!(*db.password.lock().unwrap(), "changed-by-hand");
}

#[tokio::test]
async fn set_refuses_a_pending_value_for_another_user() {
    let rules = [
        describe(IN_FLIGHT),
        mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(|i| i.version_stage() == Some(PENDING))
            .then_output(|| {
                let other = json!({"username": "someone", "password": NEW, "host": "w.example", "port": 3306});
                GetSecretValueOutput::builder().secret_string(other.to_string()).build()
            }),
        get(CURRENT, Some(OLD)),
    ];
    let db = FakeDb::with(OLD);
    let e = rotation(&rules, &db).handle(&event(Step::SetSecret)).await.unwrap_err();
    assert_eq!(e.error_type(), "tandem.SecretValue");
    let e = e.to_string();
    assert!(
        e.contains("AWSPENDING names someone@w.example:3306 but AWSCURRENT names tandem_admin@"),
        "{e}"
    );
    assert!(db.calls().is_empty());
}

#[tokio::test]
async fn test_logs_in_with_the_pending_password() {
    let rules = || [describe(IN_FLIGHT), get(PENDING, Some(NEW))];
    let db = FakeDb::with(NEW);
    rotation(&rules(), &db).handle(&event(Step::TestSecret)).await.unwrap();
    assert_eq!(db.calls(), [format!("select now with {NEW}")]);
    let e = rotation(&rules(), &FakeDb::with(OLD))
        .handle(&event(Step::TestSecret))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "tandem.Database");
    let e = e.to_string();
    assert!(
        e.starts_with("testSecret of secret") && e.contains("refused the AWSPENDING password"),
        "{e}"
    );
}

fn move_current(from: Option<&'static str>) -> Rule {
    mock!(aws_sdk_secretsmanager::Client::update_secret_version_stage)
        .match_requests(move |i| {
            i.secret_id() == Some(SECRET)
                && i.version_stage() == Some(CURRENT)
                && i.move_to_version_id() == Some(TOKEN)
                && i.remove_from_version_id() == from
        })
        .then_output(|| UpdateSecretVersionStageOutput::builder().build())
}

#[tokio::test]
async fn finish_moves_current_from_the_version_that_has_it() {
    let rules = [describe(IN_FLIGHT), move_current(Some("old"))];
    let out = rotation(&rules, &FakeDb::with(NEW))
        .handle(&event(Step::FinishSecret))
        .await
        .unwrap();
    assert_eq!(out["outcome"], "moved AWSCURRENT from old to tok-new");
    assert_eq!(rules[1].num_calls(), 1);
    let rules = [describe(&[(TOKEN, &[PENDING])]), move_current(None)];
    rotation(&rules, &FakeDb::with(NEW))
        .handle(&event(Step::FinishSecret))
        .await
        .unwrap();
    assert_eq!(rules[1].num_calls(), 1);
}

#[tokio::test]
async fn a_failed_call_names_it_and_the_step() {
    let rules = [mock!(aws_sdk_secretsmanager::Client::describe_secret).then_error(|| {
        aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not allowed")
                .build(),
        )
    })];
    // Through the seam, as the runtime calls it: errorType tandem.SecretsManager.
    let payload = tandem_core::payload::Payload::from_slice(event(Step::FinishSecret).to_string().as_bytes());
    let call = Call {
        request_id: "req-1".into(),
        remaining: std::time::Duration::from_secs(60),
    };
    let e = tandem_core::event_fn::invoke(&rotation(&rules, &FakeDb::with(OLD)), &payload, &call)
        .await
        .unwrap_err();
    assert_eq!(
        tandem_core::event_fn::diagnostic(&e).error_type,
        "tandem.SecretsManager"
    );
    let e = e.to_string();
    assert!(
        e.starts_with("finishSecret of secret") && e.contains("DescribeSecret failed"),
        "{e}"
    );
    assert!(e.contains("AccessDeniedException"), "{e}");
}
