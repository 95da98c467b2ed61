//! The standard endpoint variables reach every client built from
//! `tandem_core::aws::loader`: `AWS_ENDPOINT_URL` for every service,
//! `AWS_ENDPOINT_URL_<SERVICE>` for one, per-region clients included. So the
//! same binary runs on AWS and on the local AWS.
//!
//! The variables are process environment, and changing a running test
//! process's environment is unsafe; so each test runs an ignored child test
//! of this binary in a new process with the variables set. The child sends
//! one call through `capture_request`, which records the request instead of
//! sending it: its URI shows where the call went, and its signature the
//! region it was signed for, which is all the old loopback socket showed.

use aws_smithy_http_client::test_util::capture_request;
use std::process::Command;

/// Runs the ignored test `name` in a child process with `vars` set.
fn run_child(name: &str, vars: &[(&str, &str)]) {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"));
    child
        .args(["--ignored", "--exact", name, "--nocapture", "--test-threads=1"])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_LAMBDA")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    for (key, value) in vars {
        child.env(key, value);
    }
    let output = child.output().expect("run the child test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{name} failed:\n{text}");
    assert!(text.contains("1 passed"), "{name} did not run:\n{text}");
}

/// Sends Lambda `GetFunction` through a client for `region` built from the
/// loader, and returns (URI, Authorization header) of what it sent.
async fn probe(region: Option<&str>) -> (String, String) {
    let (http_client, captured) = capture_request(None);
    let config = tandem_core::aws::loader().http_client(http_client).load().await;
    let clients = tandem_core::aws::RegionalClients::new(&config, aws_sdk_lambda::Client::new);
    let client = match region {
        Some(region) => clients.get(region),
        None => aws_sdk_lambda::Client::new(&config),
    };
    // The captured answer is an empty 200, which is not a GetFunction
    // answer: what matters is where the call went.
    let _ = client.get_function().function_name("probe").send().await;
    let request = captured.expect_request();
    let authorization = request.headers().get("authorization").unwrap_or_default().to_owned();
    (request.uri().to_owned(), authorization)
}

#[test]
fn the_global_endpoint_variable_redirects_every_service() {
    run_child(
        "child_global_endpoint",
        &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_REGION", "us-east-2"),
        ],
    );
}

#[tokio::test]
#[ignore = "run by the_global_endpoint_variable_redirects_every_service, with the variables set"]
async fn child_global_endpoint() {
    let (uri, _) = probe(None).await;
    assert!(
        uri.starts_with("http://127.0.0.1:4566/2015-03-31/functions/probe"),
        "{uri}"
    );
}

#[test]
fn a_service_specific_endpoint_variable_redirects_that_service_in_every_region() {
    run_child(
        "child_service_endpoint",
        &[
            ("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:4599"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
}

#[tokio::test]
#[ignore = "run by a_service_specific_endpoint_variable_redirects_that_service_in_every_region, with the variables set"]
async fn child_service_endpoint() {
    let (uri, authorization) = probe(Some("us-east-2")).await;
    assert!(
        uri.starts_with("http://127.0.0.1:4599/2015-03-31/functions/probe"),
        "{uri}"
    );
    assert!(
        authorization
            .to_ascii_lowercase()
            .contains("/us-east-2/lambda/aws4_request"),
        "signed for the client's region: {authorization}"
    );
}

#[test]
fn without_endpoint_variables_calls_go_to_aws() {
    run_child("child_no_endpoint", &[("AWS_REGION", "us-east-2")]);
}

#[tokio::test]
#[ignore = "run by without_endpoint_variables_calls_go_to_aws, with the variables set"]
async fn child_no_endpoint() {
    let (uri, _) = probe(None).await;
    assert!(uri.starts_with("https://lambda.us-east-2.amazonaws.com/"), "{uri}");
}
