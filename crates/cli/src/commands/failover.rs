//! `tandem failover`: asks the standby region's failover function to fail
//! over now, and prints its decision.

/// Talking to the failover function: its events, one invocation, its answer.
pub(crate) mod invoke;

use crate::context::Context;
use invoke::{function_name, invoke, manual_event};

/// `tandem failover`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// Why, for the audit trail.
    #[arg(long, default_value = "a manual failover from the tandem CLI")]
    pub(crate) reason: String,
    /// Skip the replica-lag check (and only that): accept losing the writes the replica lacks.
    #[arg(long)]
    pub(crate) force: bool,
    /// Decide and audit, promote nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(&ctx, &self.reason, self.force, self.dry_run).await
    }
}

/// Runs it; returns whether the standby was promoted (or would be, dry).
pub(crate) async fn run(ctx: &Context, reason: &str, force: bool, dry_run: bool) -> anyhow::Result<bool> {
    let region = &ctx.roles.standby;
    let function = function_name(&ctx.config.env);
    println!(
        "asking {function} in {region} (the standby) to fail over{}{}",
        if force { ", skipping the lag check" } else { "" },
        if dry_run { " (dry run: decide only)" } else { "" }
    );
    let event = manual_event("failover", reason, force, dry_run);
    let asked = invoke(&ctx.aws.region(region).lambda, &function, region, &event);
    match crate::ui::while_waiting(&format!("{function} in {region} to decide and promote"), asked).await? {
        Ok(answer) => {
            println!(
                "decision: {}\nreason:   {}\noutcome:  {}",
                answer.decision, answer.reason, answer.outcome
            );
            Ok(answer.decision == "Promote")
        }
        Err(why) => anyhow::bail!("{why} (the audit trail has it: tandem status --env {})", ctx.config.env),
    }
}
