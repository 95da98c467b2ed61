//! `tandem`: the operator's command line.
//!
//! Every command works on one environment (`config/<env>.toml`) across
//! both regions. Exit codes: 0 done (or nothing needs a person), 1 an
//! error, 2 a usage error, 3 the command ran and the answer is "no" (status:
//! something needs a person; failover: not promoted; diff: nothing to change
//! is 0 as well).

mod artifacts;
mod aws;
mod commands;
mod config;
mod context;
mod events;
mod functions;
mod identity;
mod leftovers;
mod plan;
mod presign;
mod reach;
mod retained;
mod roles;
mod stacks;
mod templates;
mod ui;
mod when;

use clap::{CommandFactory, Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use ui::Output;

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
        /// text for a person; json for scripts (tandem.diff/1, see docs/operating.md).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Ship an image to both regions, the primary first, blue/green through CodeDeploy.
    Release {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// The image tag, already pushed to the primary region's ECR repository tandem-<env>-app.
        #[arg(long)]
        image: String,
        /// text for a person; json for scripts (tandem.release/1, see docs/operating.md).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
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
    /// One screen: roles, stacks, releases, alarms in ALARM, failover, last decisions. Exits 3 when something needs a person.
    Status {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// text for a person; json for scripts (tandem.status/1, with the stacks' outputs; see docs/operating.md).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// The functions' logs from both regions, merged by time.
    Logs {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// Only this function (default: all of them).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(functions::names()))]
        function: Option<String>,
        /// Only this region (default: both).
        #[arg(long)]
        region: Option<String>,
        /// How far back: 90s, 15m, 24h, 7d.
        #[arg(long, default_value = "15m")]
        since: String,
        /// Keep polling for new lines (with backoff) until Ctrl-C.
        #[arg(long)]
        follow: bool,
        /// Only lines that contain this text.
        #[arg(long)]
        filter: Option<String>,
        /// text for a person; json for scripts: the raw log events, one JSON object a line.
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Every automated decision in both regions, merged by time: what, why, what was done, how it went.
    Audit {
        /// dev, prod or local.
        #[arg(long)]
        env: String,
        /// How far back: 90s, 15m, 24h, 7d.
        #[arg(long, default_value = "24h")]
        since: String,
        /// Only this kind of decision.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(commands::audit::decide::kind_names()))]
        kind: Option<String>,
        /// text for a person; json for scripts (tandem.audit/1, see docs/operating.md).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Print a shell completion script: tandem completions bash > /etc/bash_completion.d/tandem
    Completions {
        /// bash, zsh or fish.
        shell: clap_complete::Shell,
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
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "tandem", &mut std::io::stdout());
        return Ok(true);
    }
    let root = context::find_root()?;
    match cli.command {
        Command::Completions { .. } => Ok(true),
        Command::Deploy { env } => {
            let ctx = context::Context::load(&root, &env).await?;
            commands::deploy::run(&ctx).await.map(|_| true)
        }
        Command::Diff { env, output } => {
            ui::set_output(output);
            let ctx = context::Context::load(&root, &env).await?;
            commands::diff::run(&ctx).await.map(|_| true)
        }
        Command::Release { env, image, output } => {
            ui::set_output(output);
            commands::release::decide::check_tag(&image)?;
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
        Command::Status { env, output } => {
            ui::set_output(output);
            let ctx = context::Context::load(&root, &env).await?;
            commands::status::run(&ctx).await
        }
        Command::Logs {
            env,
            function,
            region,
            since,
            follow,
            filter,
            output,
        } => {
            let since_secs = when::parse_since(&since).map_err(anyhow::Error::msg)?;
            // The context's notes go to stderr: stdout carries only log lines.
            ui::set_output(Output::Json);
            let ctx = context::Context::load(&root, &env).await?;
            let regions: Vec<String> = match region {
                Some(r) if ctx.config.regions.contains_key(&r) => vec![r],
                Some(r) => anyhow::bail!(
                    "--region {r} is not one of {}'s regions: use {}",
                    ctx.config.env,
                    ctx.config.regions.keys().cloned().collect::<Vec<_>>().join(" or ")
                ),
                None => ctx.reachable_regions(),
            };
            let functions = match function {
                Some(name) => vec![
                    functions::named(&name).ok_or_else(|| anyhow::anyhow!("--function {name} is not a function"))?,
                ],
                None => functions::FUNCTIONS.iter().collect(),
            };
            let request = commands::logs::Request {
                functions,
                regions,
                since_secs,
                follow,
                filter: filter.filter(|f| !f.is_empty()),
                json: output == Output::Json,
            };
            commands::logs::run(&ctx, &request).await
        }
        Command::Audit {
            env,
            since,
            kind,
            output,
        } => {
            ui::set_output(output);
            let since_secs = when::parse_since(&since).map_err(anyhow::Error::msg)?;
            let kind = kind
                .as_deref()
                .map(commands::audit::decide::parse_kind)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let ctx = context::Context::load(&root, &env).await?;
            commands::audit::run(&ctx, kind, since_secs).await
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
            let who = identity::error_suffix().unwrap_or_default();
            eprintln!("tandem: error: {}{who}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn completions_cover_every_command_and_the_output_formats() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "tandem", &mut script);
            let script = String::from_utf8(script).unwrap();
            for word in [
                "deploy",
                "status",
                "logs",
                "audit",
                "completions",
                "since",
                "follow",
                "json",
            ] {
                assert!(script.contains(word), "{shell}: {word} missing");
            }
        }
    }

    #[test]
    fn output_is_text_unless_asked_and_json_only_where_documented() {
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("tandem").chain(args.iter().copied()));
        match parse(&["status", "--env", "dev"]).unwrap().command {
            Command::Status { output, .. } => assert_eq!(output, Output::Text),
            other => panic!("{other:?}"),
        }
        for command in ["status", "diff", "audit", "logs"] {
            assert!(
                parse(&[command, "--env", "dev", "--output", "json"]).is_ok(),
                "{command}"
            );
        }
        assert!(parse(&["release", "--env", "dev", "--image", "v1", "--output", "json"]).is_ok());
        assert!(parse(&["deploy", "--env", "dev", "--output", "json"]).is_err());
        let e = parse(&["status", "--env", "dev", "--output", "yaml"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("yaml") && e.contains("text") && e.contains("json"), "{e}");
        let e = parse(&["logs", "--env", "dev", "--function", "app"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("deploy-hook"), "{e}");
        match parse(&["logs", "--env", "dev", "--output", "json"]).unwrap().command {
            Command::Logs { output, .. } => assert_eq!(output, Output::Json, "logs takes --output like the others"),
            other => panic!("{other:?}"),
        }
        for gone in ["--json", "--both"] {
            assert!(parse(&["logs", "--env", "dev", gone]).is_err(), "{gone} is gone");
        }
    }
}
