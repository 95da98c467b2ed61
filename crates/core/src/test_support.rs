//! Mocked SDK clients for tandem-core's own tests (tandem-testing's
//! `mock_client!` is not available here: that crate depends on this one).

/// One client of `$sdk` answered by `$rules` (`&[&Rule]`) in order.
macro_rules! mock_client {
    ($sdk:ident, $rules:expr) => {{
        let mut responder =
            aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(aws_smithy_mocks::RuleMode::Sequential);
        for rule in $rules {
            responder = responder.with_rule(rule);
        }
        let conf = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .credentials_provider($sdk::config::Credentials::new(
                "AKIDTEST",
                "test-secret",
                None,
                None,
                "tests",
            ))
            .interceptor(responder)
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .build();
        $sdk::Client::from_conf(conf)
    }};
}

pub(crate) use mock_client;
