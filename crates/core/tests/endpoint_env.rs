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
    let head = common::probe_lambda(&clients.get("us-east-2"), &seen).await;
    assert!(
        head.to_ascii_lowercase().contains("us-east-2/lambda/aws4_request"),
        "signed for the client's region: {head}"
    );
}
