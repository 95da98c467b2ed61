//! `tandem`: the operator's command line.
//!
//! `deploy`, `diff`, `release`, `destroy` and `status` work on one
//! environment (`config/<env>.toml`) across both regions. Failover and drill
//! commands arrive with the issues that build them.

mod artifacts;
mod aws;
mod commands;
mod config;
mod context;
mod events;
mod failback;
mod failover;
mod plan;
mod presign;
mod release;
mod roles;
mod stacks;
mod templates;

use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

/// tandem runs a containerised web service in two AWS regions: blue/green
/// releases, automatic rollback, and failover to the standby region.
#[derive(Debug, Parser)]
#[command(name = "tandem", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the functions and deploy every stack in both regions, through change sets.
    Deploy {
        /// dev, prod or local (the local AWS).
        #[arg(long)]
        env: String,
    },
    /// Show what a deploy would change, without changing anything.
    Diff {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
    },
    /// Ship an image to both regions, the primary first, blue/green through CodeDeploy.
    Release {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// The image tag, already pushed to the primary region's ECR repository tandem-<env>-app.
        #[arg(long)]
        image: String,
    },
    /// Delete every stack of the environment, in reverse order.
    Destroy {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Make the standby region the primary now, through its failover function.
    Failover {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// Why, for the audit trail.
        #[arg(long, default_value = "a manual failover from the tandem CLI")]
        reason: String,
        /// Skip the replica-lag check (and only that): accept losing the writes the replica lacks.
        #[arg(long)]
        force: bool,
        /// Decide and audit, promote nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Return to the configured primary after a failover: planned, step by step, each confirmed.
    Failback {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// Do not ask before each step.
        #[arg(long)]
        yes: bool,
    },
    /// A game day on the local AWS: stop the primary's app and time the failover function's reaction.
    Drill {
        /// local (a drill never runs against AWS).
        #[arg(long)]
        env: String,
    },
    /// Show the region roles, the stacks and their outputs.
    Status {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
    },
    /// Print the region roles now, as `primary=<region>` and `standby=<region>` lines (for scripts).
    Roles {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
    },
}

fn confirm(env: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("destroy needs confirmation: run it in a terminal, or pass --yes");
    }
    print!("This deletes every tandem-{env} stack in both regions. Type {env:?} to go on: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != env {
        anyhow::bail!("not confirmed; nothing was deleted");
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let root = context::find_root()?;
    match cli.command {
        Command::Deploy { env } => {
            let ctx = context::Context::load(&root, &env).await?;
            commands::deploy::run(&ctx).await.map(|_| true)
        }
        Command::Diff { env } => {
            let ctx = context::Context::load(&root, &env).await?;
            commands::diff::run(&ctx).await.map(|_| true)
        }
        Command::Release { env, image } => {
            release::check_tag(&image)?;
            let ctx = context::Context::load(&root, &env).await?;
            commands::release::run(&ctx, &image).await?;
            Ok(true)
        }
        Command::Destroy { env, yes } => {
            config::Config::load(&root, &env)?;
            if !yes {
                confirm(&env)?;
            }
            let ctx = context::Context::load(&root, &env).await?;
            commands::destroy::run(&ctx).await.map(|()| true)
        }
        Command::Failover {
            env,
            reason,
            force,
            dry_run,
        } => {
            let ctx = context::Context::load(&root, &env).await?;
            commands::failover::run(&ctx, &reason, force, dry_run).await
        }
        Command::Failback { env, yes } => {
            let ctx = context::Context::load(&root, &env).await?;
            commands::failback::run(ctx, yes).await
        }
        Command::Drill { env } => {
            let ctx = context::Context::load(&root, &env).await?;
            commands::drill::run(&ctx).await
        }
        Command::Status { env } => {
            let ctx = context::Context::load(&root, &env).await?;
            commands::status::run(&ctx).await
        }
        Command::Roles { env } => {
            let ctx = context::Context::load(&root, &env).await?;
            println!("primary={}\nstandby={}", ctx.roles.primary, ctx.roles.standby);
            Ok(true)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) => {
            eprintln!("tandem: error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
