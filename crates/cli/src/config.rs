//! Per-environment settings, read from `config/<env>.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod app;
mod release;

pub(crate) use app::App;
pub(crate) use release::{EcsRelease, RegionRelease, ReleaseEngine};

/// The environments tandem knows.
pub(crate) const ENVS: &[&str] = &["dev", "prod", "local"];

/// How the functions are built for this environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FunctionBuild {
    /// For the local AWS: this machine's architecture, dev profile (shares the tests' build).
    HostDev,
    /// For AWS Lambda on Graviton: release profile, cross-compiled with cargo-lambda.
    Arm64Release,
}

/// One region's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionConfig {
    /// The VPC's /16; the two regions' must not overlap.
    pub(crate) vpc_cidr: String,
    /// ACM certificate for the ALB's 443 and 8443 listeners (empty only for
    /// `local`): it must cover `domain_name` and both regional names,
    /// `<region>.<domain_name>` (the probes and health checks use them).
    #[serde(default)]
    pub(crate) certificate_arn: String,
    /// The region's public `/health` for the failover probes; empty:
    /// `https://<region>.<domain_name>/health` on AWS, its ALB's on the local
    /// AWS (the local drill points it at the app on loopback).
    #[serde(default)]
    pub(crate) health_url: String,
}

/// One environment's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// `dev`, `prod` or `local`; must match the file name.
    pub(crate) env: String,
    /// The primary region when no failover has happened.
    pub(crate) primary_region: String,
    /// The standby region when no failover has happened.
    pub(crate) standby_region: String,
    /// An endpoint for every service (the local AWS); absent on AWS.
    #[serde(default)]
    pub(crate) endpoint_url: Option<String>,
    /// The service's DNS name.
    pub(crate) domain_name: String,
    /// An existing hosted zone for `domain_name`; empty creates one.
    #[serde(default)]
    pub(crate) hosted_zone_id: String,
    /// How the functions are built.
    pub(crate) function_build: FunctionBuild,
    /// Settings per region; both regions must be present.
    pub(crate) regions: BTreeMap<String, RegionConfig>,
    /// Extra parameters for the region stacks.
    #[serde(default)]
    pub(crate) region_parameters: BTreeMap<String, String>,
    /// An address the ops topic mails (alarms, rollbacks, failovers); empty for none.
    #[serde(default)]
    pub(crate) ops_email: String,
    /// A chat webhook's HTTPS URL that each region's `notify` function posts
    /// the ops topic's messages to; empty for none. [`WEBHOOK_ENV`] in the
    /// environment overrides it, which keeps the credential out of the file.
    #[serde(default)]
    pub(crate) ops_webhook_url: String,
    /// Which engine releases the service: `codedeploy` (the default) or `ecs`.
    #[serde(default)]
    pub(crate) release_engine: ReleaseEngine,
    /// How ECS-native blue/green moves traffic (`release_engine = "ecs"` only).
    #[serde(default)]
    pub(crate) ecs_release: EcsRelease,
    /// The app contract: health and smoke paths, port, size, variables, secrets.
    #[serde(default)]
    pub(crate) app: App,
}

/// The environment variable that overrides `ops_webhook_url` when set and
/// not empty: a CI secret, or the local end-to-end suite's receiver.
pub(crate) const WEBHOOK_ENV: &str = "TANDEM_OPS_WEBHOOK_URL";

/// The environment variable naming another directory to read `<env>.toml`
/// from, in place of the repository's `config/` (the ECS engine's
/// end-to-end suite deploys the local environment with its own copy).
pub(crate) const CONFIG_DIR_ENV: &str = "TANDEM_CONFIG_DIR";

/// A configuration that cannot be used, with the fix.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The environment name is not one tandem knows.
    #[error("unknown environment {0:?}: use one of dev, prod, local (ENV=local for the local AWS)")]
    UnknownEnv(String),
    /// The file is missing or unreadable.
    #[error("cannot read {path}: {reason}; create it (config/local.toml is an example)")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file does not parse, or a key is missing or unknown.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        reason: String,
    },
}

impl Config {
    /// Reads and checks `config/<env>.toml` under `root`.
    pub(crate) fn load(root: &Path, env: &str) -> Result<Self, ConfigError> {
        if !ENVS.contains(&env) {
            return Err(ConfigError::UnknownEnv(env.to_owned()));
        }
        let dir = std::env::var_os(CONFIG_DIR_ENV)
            .filter(|d| !d.is_empty())
            .map_or_else(|| root.join("config"), PathBuf::from);
        let path = dir.join(format!("{env}.toml"));
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, env)
            .and_then(|config| config.with_webhook(std::env::var(WEBHOOK_ENV).ok()))
            .map_err(|reason| ConfigError::Invalid { path, reason })
    }

    /// The configuration with `ops_webhook_url` set to `url` when it is
    /// given and not empty (the value of [`WEBHOOK_ENV`]), checked.
    pub(crate) fn with_webhook(mut self, url: Option<String>) -> Result<Self, String> {
        if let Some(url) = url.filter(|u| !u.is_empty()) {
            self.ops_webhook_url = url;
            check_ops_subscriptions(&self.ops_email, &self.ops_webhook_url)
                .map_err(|e| e.replace("ops_webhook_url", WEBHOOK_ENV))?;
        }
        Ok(self)
    }

    /// Parses and checks a configuration's text for `env`.
    pub(crate) fn parse(text: &str, env: &str) -> Result<Self, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))?;
        config.check(env)?;
        Ok(config)
    }

    fn check(&self, env: &str) -> Result<(), String> {
        if self.env != env {
            return Err(format!(
                "env = {:?}, but this is the file for {env:?}: set env = {env:?}",
                self.env
            ));
        }
        for (key, region) in [
            ("primary_region", &self.primary_region),
            ("standby_region", &self.standby_region),
        ] {
            tandem_core::aws::check_region(region).map_err(|e| format!("{key}: {e}"))?;
            if !self.regions.contains_key(region) {
                return Err(format!(
                    "{key} is {region}, but there is no [regions.{region}] table: add it"
                ));
            }
        }
        if self.primary_region == self.standby_region {
            return Err("primary_region and standby_region are the same: tandem needs two regions".into());
        }
        let cidrs: Vec<(&String, &String)> = self.regions.iter().map(|(r, c)| (r, &c.vpc_cidr)).collect();
        for (region, cidr) in &cidrs {
            if !is_slash16(cidr) {
                return Err(format!("regions.{region}.vpc_cidr = {cidr:?}: use a 10.x.0.0/16 block"));
            }
        }
        if cidrs.len() == 2 && cidrs[0].1 == cidrs[1].1 {
            return Err(format!(
                "both regions use vpc_cidr {:?}: overlapping VPCs cannot be peered; give each its own /16",
                cidrs[0].1
            ));
        }
        let is_local = self.env == "local";
        if is_local != self.endpoint_url.is_some() {
            return Err(if is_local {
                "endpoint_url is missing: the local environment must point at the local AWS".into()
            } else {
                "endpoint_url is set: only the local environment may override AWS endpoints".into()
            });
        }
        if !is_local {
            for (region, c) in &self.regions {
                if c.certificate_arn.is_empty() {
                    return Err(format!(
                        "regions.{region}.certificate_arn is empty: {} serves HTTPS; set it to an ACM certificate ARN in {region}",
                        self.env
                    ));
                }
            }
        }
        if self.region_parameters.contains_key(crate::plan::IMAGE_TAG) {
            return Err(format!(
                "region_parameters sets {}: the released image is set by make release, not the configuration; remove it",
                crate::plan::IMAGE_TAG
            ));
        }
        release::check(
            self.release_engine,
            &self.ecs_release,
            &self.app,
            &self.region_parameters,
            is_local,
        )?;
        if self.domain_name.trim().is_empty() {
            return Err("domain_name is empty: set the service's DNS name".into());
        }
        check_ops_subscriptions(&self.ops_email, &self.ops_webhook_url)
    }

    /// The release settings, as the region stacks take them.
    pub(crate) fn release(&self) -> RegionRelease<'_> {
        RegionRelease {
            engine: self.release_engine,
            ecs: &self.ecs_release,
            app: &self.app,
        }
    }

    /// Whether this environment is the local AWS.
    pub(crate) fn is_local(&self) -> bool {
        self.endpoint_url.is_some()
    }

    /// A stack's full name: `tandem-<env>-<part>`.
    pub(crate) fn stack_name(&self, part: &str) -> String {
        format!("tandem-{}-{part}", self.env)
    }

    /// The state table's name in each region: `tandem-<env>-state`, the
    /// `TableName` of `StateTable` in cfn/bootstrap.yaml.
    pub(crate) fn state_table(&self) -> String {
        tandem_core::state::StateTable::name_for(&self.env)
    }

    /// The service's ECR repository in each region: `tandem-<env>-app`, the
    /// `RepositoryName` of `Repository` in cfn/region.yaml.
    pub(crate) fn repository_name(&self) -> String {
        format!("tandem-{}-app", self.env)
    }
}

/// The ops topic's subscriptions: an address with one `@` and no spaces, and
/// an `https://` URL (SNS posts to nothing else that a chat service takes).
fn check_ops_subscriptions(email: &str, webhook: &str) -> Result<(), String> {
    let one_at = email.matches('@').count() == 1 && !email.starts_with('@') && !email.ends_with('@');
    if !email.is_empty() && (!one_at || email.contains(char::is_whitespace)) {
        return Err(format!(
            "ops_email = {email:?} is not a mail address: set it to one like ops@example.com, or to \"\" for none"
        ));
    }
    let https = webhook.strip_prefix("https://").is_some_and(|rest| !rest.is_empty());
    if !webhook.is_empty() && (!https || webhook.contains(char::is_whitespace)) {
        // The URL is the webhook's credential: the error does not repeat it.
        return Err(
            "ops_webhook_url is not an https:// URL: set it to the chat webhook's HTTPS address, or to \"\" for none"
                .into(),
        );
    }
    Ok(())
}

fn is_slash16(cidr: &str) -> bool {
    let Some((ip, "16")) = cidr.split_once('/') else {
        return false;
    };
    let octets: Vec<&str> = ip.split('.').collect();
    octets.len() == 4 && octets[0] == "10" && octets[1].parse::<u8>().is_ok() && octets[2] == "0" && octets[3] == "0"
}

#[cfg(test)]
mod tests;
