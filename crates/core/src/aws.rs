//! AWS SDK configuration and clients.
//!
//! Load the configuration once per process ([`load_config`]) and build
//! clients from it in `main`, outside the handler. The standard endpoint
//! variables work unchanged: `AWS_ENDPOINT_URL` for every service and
//! `AWS_ENDPOINT_URL_<SERVICE>` for one, so the same binary runs on AWS and
//! on the local AWS.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::sync::Mutex;

/// The shared SDK configuration: credentials, region and endpoints from the
/// environment, with one HTTPS client (rustls on ring) for every service.
pub async fn load_config() -> SdkConfig {
    loader().load().await
}

/// The loader behind [`load_config`], for callers that override settings
/// (the CLI points it at the local AWS).
pub fn loader() -> aws_config::ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client)
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
            "{region:?} is not an AWS region name; use one such as \"us-east-2\""
        ))
    }
}

/// Clients of one service, one per region, each built on first use and
/// kept for the life of the process.
pub struct RegionalClients<C> {
    base: SdkConfig,
    make: fn(&SdkConfig) -> C,
    clients: Mutex<HashMap<String, C>>,
}

impl<C: Clone> RegionalClients<C> {
    /// `make` builds a client from a configuration, such as
    /// `aws_sdk_cloudformation::Client::new`.
    pub fn new(base: &SdkConfig, make: fn(&SdkConfig) -> C) -> Self {
        Self {
            base: base.clone(),
            make,
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

/// A one-line description of an SDK error: the service's error code and
/// message when there is one, otherwise the whole error chain.
pub fn error_text<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("ServiceError"),
            service.message().unwrap_or("(no message)")
        ),
        None => DisplayErrorContext(error).to_string(),
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
}
