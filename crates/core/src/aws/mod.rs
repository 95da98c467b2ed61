//! AWS SDK configuration and clients.
//!
//! Load the configuration once per process ([`load_config`]) and build
//! clients from it in `main`, outside the handler. The standard endpoint
//! variables work unchanged: `AWS_ENDPOINT_URL` for every service and
//! `AWS_ENDPOINT_URL_<SERVICE>` for one, so the same binary runs on AWS and
//! on the local AWS.

mod errors;
mod service_deployments;
mod stacks;

pub use errors::{error_code, error_text, is_not_found, is_unreachable, is_unreadable_answer};
pub use service_deployments::{Described, describe_service_deployment};
pub use stacks::{StackView, describe_stack};

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one call to AWS may take, all retries included. A hung call
/// fails after this, naming the call, well before a custom resource's
/// `ServiceTimeout` or a Lambda deadline runs out.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one attempt may take; the SDK retries a timed-out attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The timeouts every client gets: see [`OPERATION_TIMEOUT`].
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The shared SDK configuration: credentials, region and endpoints from the
/// environment, with one HTTPS client (rustls on ring) for every service.
pub async fn load_config() -> SdkConfig {
    loader().load().await
}

/// The loader behind [`load_config`], for callers that override settings
/// (the CLI points it at the local AWS, and gives uploads longer timeouts).
pub fn loader() -> aws_config::ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(RootsAtFirstCall(http_client))
        .timeout_config(timeouts())
}

/// The SDK's HTTPS client, with the system's TLS roots read and parsed once,
/// at the first call.
///
/// As shipped, creating each service client builds a whole TLS connector
/// (every system root read and parsed) only to check that it can, and the
/// first call builds it again. A function that made five clients in `main`
/// paid that five times before its first event (`make bench` measured about
/// 2 ms each). Here the check is skipped: the one connector that every
/// client shares (they share this client and its timeouts) is built at the
/// first call, and a broken trust store is reported by that call.
#[derive(Debug)]
struct RootsAtFirstCall(SharedHttpClient);

impl HttpClient for RootsAtFirstCall {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The base configuration with its region replaced.
pub fn config_for_region(base: &SdkConfig, region: &str) -> SdkConfig {
    base.to_builder().region(Region::new(region.to_owned())).build()
}

/// Checks that `region` looks like an AWS region name (`us-east-2`), so that
/// a typo is reported as such rather than as a DNS failure.
pub fn check_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let plausible = parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if plausible {
        Ok(())
    } else {
        Err(format!(
            "{} is not an AWS region name; use one such as \"us-east-2\"",
            crate::text::quote(region)
        ))
    }
}

/// Builds a client from a configuration, such as `aws_sdk_ec2::Client::new`.
type MakeClient<C> = Arc<dyn Fn(&SdkConfig) -> C + Send + Sync>;

/// Clients of one service, one per region, each built on first use and
/// kept for the life of the process.
pub struct RegionalClients<C> {
    base: SdkConfig,
    make: MakeClient<C>,
    clients: Mutex<HashMap<String, C>>,
}

impl<C: Clone> RegionalClients<C> {
    /// `make` builds a client from a configuration, such as
    /// `aws_sdk_cloudformation::Client::new` (tests pass a closure that adds
    /// mock rules).
    pub fn new(base: &SdkConfig, make: impl Fn(&SdkConfig) -> C + Send + Sync + 'static) -> Self {
        Self {
            base: base.clone(),
            make: Arc::new(make),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `region`.
    pub fn get(&self, region: &str) -> C {
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| (self.make)(&config_for_region(&self.base, region)))
            .clone()
    }

    /// The region of the base configuration (this function's own region).
    pub fn home_region(&self) -> Option<&str> {
        self.base.region().map(Region::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked() {
        for good in [
            "us-east-1",
            "us-east-2",
            "eu-central-1",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(check_region(good).is_ok(), "{good}");
        }
        for bad in ["", "us-east", "US-EAST-1", "us east 1", "us-east-1a", "useast1"] {
            let e = check_region(bad).unwrap_err();
            assert!(e.contains("us-east-2"), "{e}");
        }
    }

    #[test]
    fn a_huge_region_value_is_quoted_short() {
        let e = check_region(&"x".repeat(200_000)).unwrap_err();
        assert!(e.len() < 300, "{} characters", e.len());
        assert!(e.ends_with("use one such as \"us-east-2\""), "{e}");
    }

    #[test]
    fn every_client_gets_bounded_timeouts() {
        let t = timeouts();
        assert_eq!(t.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert!(
            OPERATION_TIMEOUT <= Duration::from_secs(60),
            "a hung call fails within a minute"
        );
    }

    #[tokio::test]
    async fn regional_clients_are_built_once_per_region_with_that_region() {
        let base = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        let clients: RegionalClients<SdkConfig> = RegionalClients::new(&base, |c| c.clone());
        assert_eq!(clients.get("us-east-2").region().unwrap().as_ref(), "us-east-2");
        assert_eq!(clients.get("us-east-1").region().unwrap().as_ref(), "us-east-1");
        assert_eq!(clients.clients.lock().unwrap().len(), 2);
        clients.get("us-east-2");
        assert_eq!(clients.clients.lock().unwrap().len(), 2);
        assert_eq!(clients.home_region(), Some("us-east-1"));
    }

    /// Counts what the SDK asks of an HTTP client, answering every call `{}`.
    #[derive(Debug, Clone, Default)]
    struct Counting {
        validated: Arc<std::sync::atomic::AtomicUsize>,
        connectors: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.connectors.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            aws_smithy_http_client::test_util::infallible_client_fn(|_| {
                http::Response::builder().status(200).body("{}").unwrap_or_default()
            })
            .http_connector(settings, components)
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &aws_smithy_types::config_bag::ConfigBag,
        ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
            self.validated.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
    }

    fn config_with(http: impl HttpClient + 'static) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                aws_sdk_dynamodb::config::Credentials::new("AKIDTEST", "secret", None, None, "test"),
            ))
            .http_client(http)
            .build()
    }

    #[tokio::test]
    async fn clients_build_no_connector_until_the_first_call() {
        use std::sync::atomic::Ordering::SeqCst;
        // As shipped, each client checks its HTTP client when it is built
        // (for the HTTPS client, a whole TLS connector with every root).
        let plain = Counting::default();
        let config = config_with(SharedHttpClient::new(plain.clone()));
        let _ = (
            aws_sdk_dynamodb::Client::new(&config),
            aws_sdk_cloudformation::Client::new(&config),
        );
        assert_eq!(plain.validated.load(SeqCst), 2);

        let counting = Counting::default();
        let config = config_with(RootsAtFirstCall(SharedHttpClient::new(counting.clone())));
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let cloudformation = aws_sdk_cloudformation::Client::new(&config);
        assert_eq!(
            counting.validated.load(SeqCst),
            0,
            "a client checked its connector when built"
        );
        assert_eq!(
            counting.connectors.load(SeqCst),
            0,
            "a connector was built before any call"
        );
        dynamodb.list_tables().send().await.unwrap();
        let _ = cloudformation.list_stacks().send().await;
        dynamodb.list_tables().send().await.unwrap();
        assert_eq!(counting.validated.load(SeqCst), 0);
        assert!(counting.connectors.load(SeqCst) >= 1);
    }
}
