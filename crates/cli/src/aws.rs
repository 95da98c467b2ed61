//! The clients the CLI uses, one set per region, built once.

use crate::config::Config;
use aws_config::SdkConfig;
use aws_sdk_cloudformation::config::Credentials;
use std::collections::BTreeMap;
use tandem_core::aws::{config_for_region, error_text, loader};

/// The clients for one region.
pub struct Regional {
    /// CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// S3 (artifact uploads, emptying buckets).
    pub s3: aws_sdk_s3::Client,
    /// ECR (emptying repositories).
    pub ecr: aws_sdk_ecr::Client,
    /// DynamoDB (the state table: region roles).
    pub dynamodb: aws_sdk_dynamodb::Client,
}

/// Clients for both regions of an environment.
pub struct Aws {
    base: SdkConfig,
    regions: BTreeMap<String, Regional>,
}

impl Aws {
    /// Loads credentials and builds the clients. The local environment gets
    /// its endpoint and fixed test credentials, so it needs no AWS account.
    pub async fn connect(config: &Config) -> Self {
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
                // The local AWS serves buckets by path, not by host name.
                let s3 = aws_sdk_s3::config::Builder::from(&c)
                    .force_path_style(config.is_local())
                    .build();
                let clients = Regional {
                    cfn: aws_sdk_cloudformation::Client::new(&c),
                    s3: aws_sdk_s3::Client::from_conf(s3),
                    ecr: aws_sdk_ecr::Client::new(&c),
                    dynamodb: aws_sdk_dynamodb::Client::new(&c),
                };
                (region.clone(), clients)
            })
            .collect();
        Self { base, regions }
    }

    /// The clients for `region` (one of the configured regions).
    pub fn region(&self, region: &str) -> &Regional {
        &self.regions[region]
    }

    /// Fails with the fix when there are no usable credentials.
    pub async fn check_credentials(&self, env: &str) -> anyhow::Result<String> {
        let sts = aws_sdk_sts::Client::new(&self.base);
        match sts.get_caller_identity().send().await {
            Ok(identity) => Ok(identity.arn().unwrap_or("unknown identity").to_owned()),
            Err(e) => anyhow::bail!(
                "no usable AWS credentials for env {env}: export AWS_PROFILE (or AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY) for the target account; the SDK said: {}",
                error_text(&e)
            ),
        }
    }
}
