//! `tandem roles`: the region roles now, as `primary=<region>` and
//! `standby=<region>` lines, for scripts.

/// `tandem roles`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        let ctx = crate::context::Context::load(root, &self.env).await?;
        println!("primary={}\nstandby={}", ctx.roles.primary, ctx.roles.standby);
        Ok(true)
    }
}
