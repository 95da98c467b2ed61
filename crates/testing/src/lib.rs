//! Test support for tandem's SDK shells.
//!
//! A shell that works across regions holds a
//! [`RegionalClients`](tandem_core::aws::RegionalClients). [`Script`] answers
//! every region's client from one list of `aws-smithy-mocks` rules, in one
//! order, and checks the region of each call:
//!
//! ```ignore
//! let script = Script::new("us-east-1");
//! script.expect("us-east-2", mock!(Client::accept_vpc_peering_connection)
//!     .match_requests(|i| i.vpc_peering_connection_id() == Some("pcx-1"))
//!     .then_output(|| AcceptVpcPeeringConnectionOutput::builder().build()));
//! let clients = regional_clients!(aws_sdk_ec2, script);
//! // ... run the shell ...
//! script.finished(); // every rule used, each in its region, in order
//! ```
//!
//! The rules run in `RuleMode::Sequential`: a call that is not the next one
//! expected (another operation, or parameters its matcher refuses) panics,
//! naming the call. Parameters are asserted in `match_requests`.
//!
//! [`standing`] writes the roles and fences the fence tests start from;
//! [`state`] has the rules that answer the state table's claims, updates and
//! release queries; [`settings`] the environment of a settings test.
//!
//! [`bad_events`] reads the corpus of malformed events each function is
//! tested against; [`arbitrary`] has the proptest strategies for the event
//! parsers.

#![warn(missing_docs)]

pub mod arbitrary;
pub mod bad_events;
pub mod settings;
pub mod standing;
pub mod state;

use aws_credential_types::Credentials;
use aws_smithy_mocks::Rule;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;
use aws_types::sdk_config::SharedCredentialsProvider;
use std::sync::{Arc, Mutex};

pub use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, create_mock_http_client, mock};
pub use tandem_core::aws::RegionalClients;

/// A raw HTTP answer with `status` and `body`, for a rule's
/// `then_http_response`: what a service sends that its model does not
/// describe (a field of the wrong type, say).
pub fn raw_response(status: u16, body: &'static str) -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    aws_smithy_runtime_api::http::Response::new(
        status.try_into().expect("an HTTP status code"),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

/// One call as a client made it: its region and operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The client's region.
    pub region: String,
    /// The operation, such as `CreateRoute`.
    pub operation: String,
}

#[derive(Debug, Default)]
struct Inner {
    /// (region, rule) per expected call, in order.
    expected: Vec<(String, Rule)>,
    made: Vec<Call>,
    /// The interceptor holding the rules, built on first use.
    responder: Option<SharedInterceptor>,
}

/// The expected calls of one test, across regions, and the calls made.
#[derive(Debug, Clone)]
pub struct Script {
    home: String,
    inner: Arc<Mutex<Inner>>,
}

impl Script {
    /// A script for clients whose base configuration is in `home`.
    pub fn new(home: &str) -> Self {
        Self {
            home: home.to_owned(),
            inner: Arc::default(),
        }
    }

    /// Expects the next call in `region`, answered by `rule`.
    pub fn expect(&self, region: &str, rule: Rule) -> &Self {
        let mut inner = self.lock();
        assert!(
            inner.responder.is_none(),
            "expect every call before building the clients"
        );
        inner.expected.push((region.to_owned(), rule));
        self
    }

    /// The base configuration: see [`test_config`].
    pub fn base_config(&self) -> SdkConfig {
        test_config(&self.home)
    }

    /// The interceptor that answers from the rules (shared by every client).
    pub fn responder(&self) -> SharedInterceptor {
        let mut inner = self.lock();
        if inner.responder.is_none() {
            let mut mock = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
            for (_, rule) in &inner.expected {
                mock = mock.with_rule(rule);
            }
            inner.responder = Some(SharedInterceptor::new(mock));
        }
        inner.responder.clone().unwrap_or_else(|| unreachable!())
    }

    /// The interceptor that records the calls of the client for `config`'s region.
    pub fn recorder(&self, config: &SdkConfig) -> impl Intercept + 'static {
        Recorder {
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            script: self.clone(),
        }
    }

    /// Every call made so far, after checking that each expected call came,
    /// in order, in its region.
    pub fn finished(&self) -> Vec<Call> {
        let inner = self.lock();
        let expected: Vec<&str> = inner.expected.iter().map(|(r, _)| r.as_str()).collect();
        let made: Vec<&str> = inner.made.iter().map(|c| c.region.as_str()).collect();
        assert_eq!(
            made, expected,
            "the regions of the calls made ({:?}) differ from the script",
            inner.made
        );
        let unused: Vec<usize> = (inner.expected.iter().enumerate())
            .filter(|(_, (_, rule))| rule.num_calls() == 0)
            .map(|(i, _)| i)
            .collect();
        assert!(unused.is_empty(), "expected calls that never came: rules {unused:?}");
        inner.made.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A configuration for mocked clients in `region`: test credentials, no
/// retries, and the mock HTTP client (nothing leaves the process). The SDK
/// crates' own `with_test_defaults` would do the same, but needs their
/// `test-util` feature, which pulls a second HTTP stack (hyper 0.14) into
/// every build.
pub fn test_config(region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST",
            "test-secret",
            None,
            None,
            "tandem-testing",
        )))
        .retry_config(RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .build()
}

/// Records the region and operation of each call.
#[derive(Debug)]
struct Recorder {
    region: String,
    script: Script,
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "tandem_testing::Recorder"
    }

    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        self.script.lock().made.push(Call {
            region: self.region.clone(),
            operation,
        });
        Ok(())
    }
}

/// Per-region clients of `$sdk` (a crate such as `aws_sdk_ec2`) answered by
/// the [`Script`] `$script`.
#[macro_export]
macro_rules! regional_clients {
    ($sdk:ident, $script:expr) => {{
        let script: $crate::Script = $script.clone();
        let base = script.base_config();
        $crate::RegionalClients::new(&base, move |config| {
            let conf = $sdk::config::Builder::from(config)
                .interceptor(script.recorder(config))
                .interceptor(script.responder())
                .http_client($crate::create_mock_http_client())
                .build();
            $sdk::Client::from_conf(conf)
        })
    }};
}

/// One client of `$sdk` (a crate such as `aws_sdk_s3`) in us-east-1 whose
/// calls are answered by `$rules` (an iterator of `&Rule`) in order, like
/// `aws_smithy_mocks::mock_client!` in `RuleMode::Sequential`, on
/// [`test_config`]. A third argument changes the client's configuration:
/// `|b| b.force_path_style(true)`.
#[macro_export]
macro_rules! mock_client {
    ($sdk:ident, $rules:expr) => {
        $crate::mock_client!($sdk, $rules, |b| b)
    };
    ($sdk:ident, $rules:expr, $configure:expr) => {{
        let mut responder = $crate::MockResponseInterceptor::new().rule_mode($crate::RuleMode::Sequential);
        for rule in $rules {
            responder = responder.with_rule(rule);
        }
        fn coerce<T: Fn($sdk::config::Builder) -> $sdk::config::Builder>(f: T) -> T {
            f
        }
        let base = $crate::test_config("us-east-1");
        let builder = $sdk::config::Builder::from(&base)
            .interceptor(responder)
            .http_client($crate::create_mock_http_client());
        $sdk::Client::from_conf(coerce($configure)(builder).build())
    }};
}
