//! `AWS_ENDPOINT_URL_<SERVICE>` reaches clients built from `load_config`,
//! per-region clients included. Its own test binary: it sets process
//! environment variables.

mod common;

#[tokio::test]
async fn a_service_specific_endpoint_variable_redirects_that_service_in_every_region() {
    let (url, seen) = common::record_one_request();
    common::set_env(&[("AWS_ENDPOINT_URL_LAMBDA", url.as_str()), ("AWS_REGION", "us-east-1")]);
    let config = tandem_core::aws::load_config().await;
    let clients = tandem_core::aws::RegionalClients::new(&config, aws_sdk_lambda::Client::new);
    // The answer is not a Lambda response, so the call fails; what matters is where it went.
    let _ = clients
        .get("us-east-2")
        .get_function()
        .function_name("probe")
        .send()
        .await;
    let head = seen
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the client called the endpoint");
    assert!(head.starts_with("GET /2015-03-31/functions/probe"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("us-east-2/lambda/aws4_request"),
        "signed for the client's region: {head}"
    );
}
