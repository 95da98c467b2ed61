//! `AWS_ENDPOINT_URL` reaches every client built from `load_config`: the
//! same binary runs on AWS and on the local AWS. Its own test binary: it
//! sets process environment variables.

mod common;

#[tokio::test]
async fn the_global_endpoint_variable_redirects_every_service() {
    let (url, seen) = common::record_one_request();
    common::set_env(&[("AWS_ENDPOINT_URL", url.as_str()), ("AWS_REGION", "us-east-2")]);
    let config = tandem_core::aws::load_config().await;
    common::probe_lambda(&aws_sdk_lambda::Client::new(&config), &seen).await;
}
