//! setSecret and testSecret against a real MariaDB (`scripts/mariadb.sh up`),
//! through the shell with a mocked Secrets Manager: the user's old password
//! stops working, the new one works, and a second setSecret changes nothing.
//!
//! The test makes a database user of its own (the shared test user may
//! CREATE USER; its own password never changes) and drops it at the end.
//! TLS is off here only because the test says so (`DbTls::Disabled`), as
//! in the app's tests: the local MariaDB serves plain TCP on loopback.

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_smithy_mocks::{Rule, mock};
use db_rotation::credentials::Credentials;
use db_rotation::db::{Database, DbTls, MariaDb};
use db_rotation::decide::Login;
use db_rotation::settings::{ALWAYS_EXCLUDED, Settings};
use db_rotation::shell::Rotation;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use serde_json::json;
use std::collections::HashMap;
use tandem_testing::mock_client;

const VARS: [&str; 4] = [
    "TANDEM_TEST_DB_HOST",
    "TANDEM_TEST_DB_PORT",
    "TANDEM_TEST_DB_USER",
    "TANDEM_TEST_DB_PASSWORD",
];

/// The test MariaDB's settings, from the variables or from the file
/// `scripts/mariadb.sh up` leaves; `None` (SKIPPED) without either, a panic
/// instead when `CI=true` or `TANDEM_REQUIRE_TOOLS=1`.
fn test_db(test: &str) -> Option<HashMap<&'static str, String>> {
    let mut vars: HashMap<&str, String> = VARS
        .iter()
        .filter_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    if vars.len() < VARS.len() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.local/mariadb/test.env");
        let text = std::fs::read_to_string(file).unwrap_or_default();
        vars = text
            .lines()
            .filter_map(|line| line.trim().trim_start_matches("export ").split_once('='))
            .filter_map(|(k, v)| {
                VARS.iter()
                    .find(|n| **n == k)
                    .map(|n| (*n, v.trim_matches(['\'', '"']).to_owned()))
            })
            .collect();
    }
    if vars.len() == VARS.len() {
        return Some(vars);
    }
    let required = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        || std::env::var("TANDEM_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let hint = "start it with `scripts/mariadb.sh up`, or set the TANDEM_TEST_DB_* variables \
                (`eval \"$(scripts/mariadb.sh env)\"`)";
    assert!(!required, "{test}: no test database, and it is required here: {hint}");
    eprintln!("SKIPPED {test}: no test database; {hint}");
    None
}

const SECRET: &str = "arn:aws:secretsmanager:us-east-1:1:secret:tandem-local/db-AbCd";
const TOKEN: &str = "tok-mariadb";
// The old password holds a quote and a backslash, which the secret's own
// passwords never do, to show that the statement escapes what it is given.
const OLD: &str = r"old-'quoted\-Passw0rd";
const NEW: &str = "new-Passw0rd-%;:x";

fn secret_json(host: &str, port: &str, user: &str, password: &str) -> String {
    json!({"username": user, "password": password, "host": host, "port": port.parse::<u16>().unwrap()}).to_string()
}

/// Secrets Manager mid-rotation: TOKEN AWSPENDING with `new`, AWSCURRENT with `old`.
fn secrets_manager(pending: &str, current: &str) -> Vec<Rule> {
    let describe = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(|| {
        DescribeSecretOutput::builder()
            .rotation_enabled(true)
            .version_ids_to_stages(TOKEN, vec!["AWSPENDING".into()])
            .version_ids_to_stages("old", vec!["AWSCURRENT".into()])
            .build()
    });
    let get = |stage: &'static str, text: String| {
        mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(move |i| i.version_stage() == Some(stage))
            .then_output(move || GetSecretValueOutput::builder().secret_string(text.clone()).build())
    };
    vec![
        describe,
        get("AWSPENDING", pending.to_owned()),
        get("AWSCURRENT", current.to_owned()),
    ]
}

fn rotation(rules: &[Rule]) -> Rotation {
    Rotation::new(
        mock_client!(aws_sdk_secretsmanager, rules),
        Box::new(MariaDb::new(DbTls::Disabled)),
        Settings {
            env: "local".into(),
            region: "us-east-1".into(),
            exclude_characters: ALWAYS_EXCLUDED.into(),
            db_tls: DbTls::Disabled,
        },
    )
}

fn event(step: &str) -> serde_json::Value {
    json!({"SecretId": SECRET, "ClientRequestToken": TOKEN, "Step": step})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_secret_changes_the_users_own_password_and_test_secret_logs_in_with_it() {
    let Some(db) = test_db("set_secret_changes_the_users_own_password_and_test_secret_logs_in_with_it") else {
        return;
    };
    let (host, port) = (db["TANDEM_TEST_DB_HOST"].clone(), db["TANDEM_TEST_DB_PORT"].clone());
    let opts = OptsBuilder::default()
        .ip_or_hostname(host.clone())
        .tcp_port(port.parse().unwrap())
        .user(Some(db["TANDEM_TEST_DB_USER"].clone()))
        .pass(Some(db["TANDEM_TEST_DB_PASSWORD"].clone()))
        .prefer_socket(false);
    let mut admin = Conn::new(opts).await.expect("the test user logs in");
    let user = format!("tandem_dbrot_{}", std::process::id());
    let account = format!("'{user}'@'{host}'");
    admin
        .query_drop(format!("DROP USER IF EXISTS {account}"))
        .await
        .unwrap();
    admin
        // `IDENTIFIED BY ?` is no prepared statement MariaDB takes (1064): an escaped literal.
        .query_drop(format!(
            "CREATE USER {account} IDENTIFIED BY {}",
            mysql_async::Value::from(OLD).as_sql(false)
        ))
        .await
        .unwrap_or_else(|e| panic!("the test user may not CREATE USER ({e}): run `scripts/mariadb.sh up` again"));

    let pending = secret_json(&host, &port, &user, NEW);
    let current = secret_json(&host, &port, &user, OLD);
    let maria = MariaDb::new(DbTls::Disabled);
    let old = Credentials::parse(&current).unwrap();
    let new = Credentials::parse(&pending).unwrap();
    assert_eq!(
        maria.log_in(&old).await.unwrap(),
        Login::Works,
        "the user starts with the old password"
    );
    assert_eq!(maria.log_in(&new).await.unwrap(), Login::Refused);

    let out = rotation(&secrets_manager(&pending, &current))
        .handle(&event("setSecret"))
        .await;
    let out = out.unwrap_or_else(|e| panic!("setSecret: {e}"));
    assert!(
        out["outcome"].as_str().unwrap().contains("logged in with AWSCURRENT's"),
        "{out}"
    );
    assert_eq!(
        maria.log_in(&old).await.unwrap(),
        Login::Refused,
        "the old password stops working"
    );
    assert_eq!(maria.log_in(&new).await.unwrap(), Login::Works, "the new one works");

    let out = rotation(&secrets_manager(&pending, &current)[..2])
        .handle(&event("testSecret"))
        .await;
    assert_eq!(out.unwrap_or_else(|e| panic!("testSecret: {e}"))["step"], "testSecret");

    // Again: AWSPENDING logs in, so nothing is changed.
    let out = rotation(&secrets_manager(&pending, &current))
        .handle(&event("setSecret"))
        .await
        .unwrap();
    assert_eq!(out["outcome"], "the AWSPENDING password logs in already: nothing to do");
    assert_eq!(maria.log_in(&new).await.unwrap(), Login::Works);

    // testSecret with a password the database does not have fails, naming it.
    let wrong = secret_json(&host, &port, &user, "not-the-password");
    let e = rotation(&secrets_manager(&wrong, &current)[..2])
        .handle(&event("testSecret"))
        .await
        .unwrap_err();
    let e = e.to_string();
    assert!(
        e.starts_with("testSecret of secret") && e.contains("refused the AWSPENDING password"),
        "{e}"
    );
    assert!(!e.contains("not-the-password") && !e.contains(NEW), "{e}");

    admin
        .query_drop(format!("DROP USER IF EXISTS {account}"))
        .await
        .unwrap();
    let _ = admin.disconnect().await;
}
