//! The clients the CLI uses, one set per region, built once.

use crate::config::Config;
use crate::identity::Who;
use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_cloudformation::config::Credentials;
use std::collections::BTreeMap;
use std::time::Duration;
use tandem_core::aws::{CONNECT_TIMEOUT, config_for_region, error_text, loader};

/// How long one S3 call may take, all retries included.
pub(crate) const S3_OPERATION_TIMEOUT: Duration = Duration::from_secs(300);
/// How long one S3 attempt may take.
pub(crate) const S3_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The S3 client's timeouts, longer than the core defaults the other clients keep.
pub(crate) fn s3_timeouts() -> TimeoutConfig {
    // A function zip of tens of MB over a slow uplink takes longer than the
    // core's 20 s per attempt, and a timed-out upload would only start again.
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(S3_ATTEMPT_TIMEOUT)
        .operation_timeout(S3_OPERATION_TIMEOUT)
        .build()
}

/// The S3 client for one region's configuration: the longer [`s3_timeouts`],
/// and path-style addressing when `path_style` (the local AWS serves buckets
/// by path, not by host name).
pub(crate) fn s3_client(config: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .timeout_config(s3_timeouts())
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// The clients for one region.
pub(crate) struct Regional {
    /// CloudFormation.
    pub(crate) cfn: aws_sdk_cloudformation::Client,
    /// S3 (artifact uploads, emptying buckets).
    pub(crate) s3: aws_sdk_s3::Client,
    /// ECR (emptying repositories).
    pub(crate) ecr: aws_sdk_ecr::Client,
    /// DynamoDB (the state table: region roles).
    pub(crate) dynamodb: aws_sdk_dynamodb::Client,
    /// Lambda (`tandem failover` and the drill invoke the failover function).
    pub(crate) lambda: aws_sdk_lambda::Client,
    /// RDS and CloudWatch (the local drill's stand-in replica and its lag).
    pub(crate) rds: aws_sdk_rds::Client,
    /// CloudWatch (the alarms `tandem status` shows).
    pub(crate) cloudwatch: aws_sdk_cloudwatch::Client,
    /// CloudWatch Logs (`tandem logs`).
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    /// Secrets Manager (a failback points each region's secret at the writer).
    pub(crate) secrets: aws_sdk_secretsmanager::Client,
    /// SQS (whether a deleted stack left its dead-letter queue).
    pub(crate) sqs: aws_sdk_sqs::Client,
    /// ECS (an ECS-engine release's service deployment: `tandem release
    /// --approve | --reject` and `tandem status`).
    pub(crate) ecs: aws_sdk_ecs::Client,
}

/// How long one invocation of a function may take: a failover function's
/// probe round and its promotion steps run for minutes.
pub(crate) const INVOKE_TIMEOUT: Duration = Duration::from_secs(900);

/// The Lambda client for one region's configuration, with [`INVOKE_TIMEOUT`]
/// and no retry (an invocation that timed out may still be running).
pub(crate) fn lambda_client(config: &SdkConfig) -> aws_sdk_lambda::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(INVOKE_TIMEOUT)
        .operation_timeout(INVOKE_TIMEOUT)
        .build();
    let lambda = aws_sdk_lambda::config::Builder::from(config)
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_lambda::Client::from_conf(lambda)
}

/// Clients for both regions of an environment.
pub(crate) struct Aws {
    base: SdkConfig,
    regions: BTreeMap<String, Regional>,
}

impl Aws {
    /// Loads credentials and builds the clients. The local environment gets
    /// its endpoint and fixed test credentials, so it needs no AWS account.
    pub(crate) async fn connect(config: &Config) -> Self {
        let mut loader = loader().region(aws_config::Region::new(config.primary_region.clone()));
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url).credentials_provider(Credentials::new(
                "test",
                "test",
                None,
                None,
                "tandem-local",
            ));
        }
        let base = loader.load().await;
        let regions = config
            .regions
            .keys()
            .map(|region| {
                let c = config_for_region(&base, region);
                let clients = Regional {
                    cfn: aws_sdk_cloudformation::Client::new(&c),
                    s3: s3_client(&c, config.is_local()),
                    ecr: aws_sdk_ecr::Client::new(&c),
                    dynamodb: aws_sdk_dynamodb::Client::new(&c),
                    lambda: lambda_client(&c),
                    rds: aws_sdk_rds::Client::new(&c),
                    cloudwatch: aws_sdk_cloudwatch::Client::new(&c),
                    logs: aws_sdk_cloudwatchlogs::Client::new(&c),
                    secrets: aws_sdk_secretsmanager::Client::new(&c),
                    sqs: aws_sdk_sqs::Client::new(&c),
                    ecs: aws_sdk_ecs::Client::new(&c),
                };
                (region.clone(), clients)
            })
            .collect();
        Self { base, regions }
    }

    /// The configuration every client was built from (its credentials sign requests).
    pub(crate) fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// The clients for `region` (one of the configured regions).
    pub(crate) fn region(&self, region: &str) -> &Regional {
        &self.regions[region]
    }

    /// Who the credentials are, or a failure naming where they came from
    /// (`source`, [`crate::identity::credentials_source`]) and the fix.
    pub(crate) async fn check_credentials(&self, env: &str, region: &str, source: &str) -> anyhow::Result<Who> {
        // The region's own STS endpoint: the global one lives in us-east-1.
        let sts = aws_sdk_sts::Client::new(&config_for_region(&self.base, region));
        match sts.get_caller_identity().send().await {
            Ok(identity) => Ok(Who {
                account: identity.account().unwrap_or("unknown").to_owned(),
                arn: identity.arn().unwrap_or("unknown identity").to_owned(),
                source: source.to_owned(),
            }),
            Err(e) => anyhow::bail!(crate::identity::no_credentials(env, region, source, &error_text(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, Region};

    fn base() -> SdkConfig {
        SdkConfig::builder()
            .region(Region::new("us-east-2"))
            .behavior_version(BehaviorVersion::latest())
            .timeout_config(tandem_core::aws::timeouts())
            .build()
    }

    #[test]
    fn s3_gets_minutes_for_uploads_and_keeps_the_connect_timeout() {
        let client = s3_client(&base(), true);
        let t = client.config().timeout_config().expect("a timeout config");
        assert_eq!(t.operation_timeout(), Some(S3_OPERATION_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(S3_ATTEMPT_TIMEOUT));
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(client.config().region().map(|r| r.as_ref()), Some("us-east-2"));
    }
}
