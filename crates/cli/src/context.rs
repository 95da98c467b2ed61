//! What every command starts from: the configuration, the clients, and the
//! current region roles.

use crate::aws::Aws;
use crate::config::Config;
use crate::plan::Roles;
use crate::roles;
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
    /// How often to poll CloudFormation.
    pub(crate) poll: Duration,
}

impl Context {
    /// Loads the configuration, checks credentials (on AWS), and reads the roles.
    pub(crate) async fn load(root: &Path, env: &str) -> anyhow::Result<Self> {
        let config = Config::load(root, env)?;
        let aws = Aws::connect(&config).await;
        if !config.is_local() {
            let identity = aws.check_credentials(env).await?;
            println!("tandem {env}: acting as {identity}");
        }
        let default = Roles {
            primary: config.primary_region.clone(),
            standby: config.standby_region.clone(),
        };
        let mut observed = Vec::new();
        for region in config.regions.keys() {
            observed.push(read_roles(&aws, region, &config.state_table()).await);
        }
        let (roles, source) = roles::decide(&default, &observed);
        println!(
            "tandem {env}: primary {}, standby {} (from {source})",
            roles.primary, roles.standby
        );
        let poll = Duration::from_millis(if config.is_local() { 300 } else { 3000 });
        Ok(Self {
            root: root.to_owned(),
            config,
            aws,
            roles,
            poll,
        })
    }
}

impl Context {
    /// The state table in `region` (one of the configured regions).
    pub(crate) fn state(&self, region: &str) -> StateTable {
        StateTable::new(self.aws.region(region).dynamodb.clone(), self.config.state_table())
    }
}

/// The roles record in one region's state table; `None` when there is none
/// or the region cannot be read (before the first deploy, or while it is
/// down), which the log line says.
async fn read_roles(aws: &Aws, region: &str, table: &str) -> Option<RolesRecord> {
    let state = StateTable::new(aws.region(region).dynamodb.clone(), table);
    match state.roles().await {
        Ok(record) => record,
        Err(e) => {
            eprintln!("tandem: no roles from {region} ({e}); using the other region's or the configuration's");
            None
        }
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
