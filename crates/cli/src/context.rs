//! What every command starts from: the configuration, the clients, and the
//! current region roles.

use crate::aws::Aws;
use crate::config::Config;
use crate::plan::Roles;
use crate::reach::{REACH_TIMEOUT, Reach, credentials_region, unreachable_sentence};
use crate::roles;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tandem_core::state::{RolesRecord, StateTable};

/// A command's starting point.
pub(crate) struct Context {
    /// The repository root (holds `cfn/` and `config/`).
    pub(crate) root: PathBuf,
    /// The environment's settings.
    pub(crate) config: Config,
    /// Clients for both regions.
    pub(crate) aws: Aws,
    /// The region roles now.
    pub(crate) roles: Roles,
    /// Where the roles came from: the state table, or the configuration.
    pub(crate) roles_source: &'static str,
    /// How often to poll CloudFormation.
    pub(crate) poll: Duration,
    /// The regions that did not answer the first read, with why; the
    /// command acts on the others only ([`crate::reach`]).
    pub(crate) unreachable: BTreeMap<String, String>,
    /// The service role CloudFormation acts as, from
    /// [`CLOUDFORMATION_ROLE_VARIABLE`]; `None`: the caller's credentials.
    pub(crate) cloudformation_role: Option<String>,
}

/// The environment variable that names the role CloudFormation acts as
/// (the `CloudFormationRoleArn` output of `cfn/github-oidc.yaml`). With it, the
/// caller needs only CloudFormation, `iam:PassRole` on that role, and the
/// artifact and state reads and writes that the CLI makes itself.
pub(crate) const CLOUDFORMATION_ROLE_VARIABLE: &str = "TANDEM_CLOUDFORMATION_ROLE_ARN";

/// The CloudFormation service role from the variable's `value`: unset or
/// empty is none; anything else must be an IAM role ARN. The local AWS
/// takes none (it would not enforce it, so a test there would prove nothing).
pub(crate) fn cloudformation_role(value: Option<&str>, is_local: bool) -> anyhow::Result<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if is_local {
        anyhow::bail!(
            "{CLOUDFORMATION_ROLE_VARIABLE} is set for the local AWS, which has no service roles: unset it for ENV=local"
        );
    }
    let mut parts = value.splitn(6, ':');
    let valid = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| p.starts_with("aws"))
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts
            .next()
            .is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .next()
            .is_some_and(|r| r.len() > "role/".len() && r.starts_with("role/"));
    if !valid {
        anyhow::bail!(
            "{CLOUDFORMATION_ROLE_VARIABLE} is {value:?}, not an IAM role ARN (arn:aws:iam::<account>:role/<name>): \
             set it to the CloudFormationRoleArn output of the tandem-github-oidc-<env> stack, or unset it"
        );
    }
    Ok(Some(value.to_owned()))
}

impl Context {
    /// Loads the configuration, checks credentials (on AWS), and reads the roles.
    pub(crate) async fn load(root: &Path, env: &str) -> anyhow::Result<Self> {
        let config = Config::load(root, env)?;
        let cloudformation_role = cloudformation_role(
            std::env::var(CLOUDFORMATION_ROLE_VARIABLE).ok().as_deref(),
            config.is_local(),
        )?;
        let aws = Aws::connect(&config).await;
        // Each region's roles at once, each within a short limit: a region
        // that is down must not hold up the command, nor stop it.
        let table = config.state_table();
        let reads =
            futures_util::future::join_all(config.regions.keys().map(|region| read_roles(&aws, region, &table))).await;
        let mut observed = Vec::new();
        let mut reach = BTreeMap::new();
        for (region, (record, answered)) in config.regions.keys().zip(reads) {
            observed.push(record);
            reach.insert(region.clone(), answered);
        }
        let unreachable: BTreeMap<String, String> = reach
            .iter()
            .filter_map(|(r, a)| match a {
                Reach::Unreachable(why) => Some((r.clone(), why.clone())),
                Reach::Answered => None,
            })
            .collect();
        let source = crate::identity::credentials_source(config.is_local(), |name| std::env::var(name).ok());
        let who = if config.is_local() {
            crate::identity::Who::local(source)
        } else {
            let preferred = [config.primary_region.as_str(), config.standby_region.as_str()];
            let Some(region) = credentials_region(&preferred, &reach) else {
                // Missing credentials fail every read too: say so first, it is the likelier cause.
                aws.check_credentials(env, &config.primary_region, &source).await?;
                anyhow::bail!(
                    "neither region answered ({}): check the network and the credentials, then retry",
                    unreachable
                        .iter()
                        .map(|(r, why)| format!("{r}: {why}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            };
            aws.check_credentials(env, region, &source).await?
        };
        crate::say!("tandem {env}: acting as {}", who.describe());
        crate::identity::remember(who);
        for (region, why) in &unreachable {
            let other = config.regions.keys().find(|r| !unreachable.contains_key(*r));
            crate::say!(
                "tandem {env}: {}",
                unreachable_sentence(region, why, other.map(String::as_str))
            );
        }
        let default = Roles {
            primary: config.primary_region.clone(),
            standby: config.standby_region.clone(),
        };
        let (roles, source) = roles::decide(&default, &observed);
        crate::say!(
            "tandem {env}: primary {}, standby {} (from {source})",
            roles.primary,
            roles.standby
        );
        if let Some(role) = &cloudformation_role {
            crate::say!("tandem {env}: CloudFormation acts as {role}");
        }
        let poll = Duration::from_millis(if config.is_local() { 300 } else { 3000 });
        Ok(Self {
            root: root.to_owned(),
            config,
            aws,
            roles,
            roles_source: source,
            unreachable,
            poll,
            cloudformation_role,
        })
    }
}

impl Context {
    /// The configured regions that answered, in order.
    pub(crate) fn reachable_regions(&self) -> Vec<String> {
        (self.config.regions.keys())
            .filter(|r| !self.unreachable.contains_key(*r))
            .cloned()
            .collect()
    }

    /// The state table in `region` (one of the configured regions).
    pub(crate) fn state(&self, region: &str) -> StateTable {
        StateTable::new(self.aws.region(region).dynamodb.clone(), self.config.state_table())
    }
}

/// The roles record in one region's state table (`None` when there is
/// none or it could not be read, which the log line says), and whether the
/// region answered within [`REACH_TIMEOUT`].
async fn read_roles(aws: &Aws, region: &str, table: &str) -> (Option<RolesRecord>, Reach) {
    let state = StateTable::new(aws.region(region).dynamodb.clone(), table);
    match tokio::time::timeout(REACH_TIMEOUT, state.roles()).await {
        Ok(Ok(record)) => (record, Reach::Answered),
        Ok(Err(e)) if e.is_unreachable() => (None, Reach::Unreachable(e.to_string())),
        Ok(Err(e)) => {
            eprintln!("tandem: no roles from {region} ({e}); using the other region's or the configuration's");
            (None, Reach::Answered)
        }
        Err(_) => (
            None,
            Reach::Unreachable(format!(
                "its state table did not answer within {} s",
                REACH_TIMEOUT.as_secs()
            )),
        ),
    }
}

/// Finds the repository root: the nearest directory, from here up, that has `cfn/bootstrap.yaml`.
pub(crate) fn find_root() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir()?;
    here.ancestors()
        .find(|dir| dir.join("cfn/bootstrap.yaml").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            anyhow::anyhow!("not inside a tandem checkout (no cfn/bootstrap.yaml here or above): cd into it")
        })
}

#[cfg(test)]
mod tests {
    use super::cloudformation_role;

    #[test]
    fn no_cloudformation_role_when_the_variable_is_unset_or_blank() {
        assert_eq!(cloudformation_role(None, false).unwrap(), None);
        assert_eq!(cloudformation_role(Some("  "), false).unwrap(), None);
        assert_eq!(cloudformation_role(Some(""), true).unwrap(), None);
    }

    #[test]
    fn a_role_arn_is_taken_as_it_is() {
        let arn = "arn:aws:iam::123456789012:role/tandem-ci-dev-cloudformation";
        assert_eq!(cloudformation_role(Some(arn), false).unwrap().as_deref(), Some(arn));
        let gov = "arn:aws-us-gov:iam::123456789012:role/path/x";
        assert_eq!(cloudformation_role(Some(gov), false).unwrap().as_deref(), Some(gov));
    }

    #[test]
    fn anything_but_a_role_arn_is_refused_naming_the_variable_and_the_fix() {
        for bad in [
            "tandem-ci-dev-cloudformation",
            "arn:aws:iam::123456789012:user/deployer",
            "arn:aws:iam::12345:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:role/",
        ] {
            let e = cloudformation_role(Some(bad), false).unwrap_err().to_string();
            assert!(e.contains("TANDEM_CLOUDFORMATION_ROLE_ARN") && e.contains(bad), "{e}");
            assert!(e.contains("CloudFormationRoleArn output"), "{e}");
        }
    }

    #[test]
    fn the_local_aws_refuses_a_service_role() {
        let e = cloudformation_role(Some("arn:aws:iam::123456789012:role/x"), true).unwrap_err();
        assert!(e.to_string().contains("ENV=local"), "{e}");
    }
}
