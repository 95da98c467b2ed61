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
mod engine_switch;
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
use commands::CommandArgs;
use std::process::ExitCode;

/// tandem runs a containerised web service in two AWS regions: blue/green
/// releases, automatic rollback, and failover to the standby region.
#[derive(Debug, Parser)]
#[command(name = "tandem", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The commands, each with its own arguments (`commands::<cmd>::Args`).
#[derive(Debug, Subcommand)]
enum Command {
    /// Build the functions and deploy every stack in both regions, through change sets.
    Deploy(commands::deploy::Args),
    /// Show what a deploy would change, without changing anything.
    Diff(commands::diff::Args),
    /// Ship an image to both regions, the primary first, blue/green (CodeDeploy or ECS), or answer a release waiting for approval (--approve/--reject).
    Release(commands::release::Args),
    /// Delete every stack of the environment, in reverse order.
    Destroy(commands::destroy::Args),
    /// Make the standby region the primary now, through its failover function.
    Failover(commands::failover::Args),
    /// Return to the configured primary after a failover: planned, step by step, each confirmed.
    Failback(commands::failback::Args),
    /// A game day on the local AWS: stop the primary's app and time the failover function's reaction.
    Drill(commands::drill::Args),
    /// One screen: roles, stacks, releases, alarms in ALARM, failover, last decisions. Exits 3 when something needs a person.
    Status(commands::status::Args),
    /// The functions' logs from both regions, merged by time.
    Logs(commands::logs::Args),
    /// Every automated decision in both regions, merged by time: what, why, what was done, how it went.
    Audit(commands::audit::Args),
    /// Print a shell completion script: tandem completions bash > /etc/bash_completion.d/tandem
    Completions(commands::completions::Args),
    /// Print the region roles now, as `primary=<region>` and `standby=<region>` lines (for scripts).
    Roles(commands::roles::Args),
}

/// Checks `args`, then runs its command in the checkout around the current directory.
async fn start(args: impl CommandArgs) -> anyhow::Result<bool> {
    args.validate()?;
    args.start(&context::find_root()?).await
}

/// Dispatches to the command; `Ok(false)` exits 3.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Completions(args) => Ok(commands::completions::run(&args, Cli::command())),
        Command::Deploy(args) => start(args).await,
        Command::Diff(args) => start(args).await,
        Command::Release(args) => start(args).await,
        Command::Destroy(args) => start(args).await,
        Command::Failover(args) => start(args).await,
        Command::Failback(args) => start(args).await,
        Command::Drill(args) => start(args).await,
        Command::Status(args) => start(args).await,
        Command::Logs(args) => start(args).await,
        Command::Audit(args) => start(args).await,
        Command::Roles(args) => start(args).await,
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
    use ui::Output;

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
            Command::Status(args) => assert_eq!(args.output, Output::Text),
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
            Command::Logs(args) => assert_eq!(args.output, Output::Json, "logs takes --output like the others"),
            other => panic!("{other:?}"),
        }
        for gone in ["--json", "--both"] {
            assert!(parse(&["logs", "--env", "dev", gone]).is_err(), "{gone} is gone");
        }
    }

    /// The one sentence `command`'s own check gives, `None` when it passes.
    fn invalid(args: &[&str]) -> Option<String> {
        let cli = Cli::try_parse_from(std::iter::once("tandem").chain(args.iter().copied())).unwrap();
        let checked = match cli.command {
            Command::Release(a) => a.validate(),
            Command::Logs(a) => a.validate(),
            Command::Audit(a) => a.validate(),
            Command::Status(a) => a.validate(),
            other => panic!("{other:?}"),
        };
        checked.err().map(|e| e.to_string())
    }

    #[test]
    fn each_command_checks_its_own_arguments() {
        assert_eq!(invalid(&["release", "--env", "dev", "--image", "v1.2"]), None);
        let e = invalid(&["release", "--env", "dev", "--image", "bad tag"]).unwrap();
        assert!(e.contains("\"bad tag\""), "{e}");
        assert_eq!(
            invalid(&["logs", "--env", "dev", "--since", "2h", "--function", "notify"]),
            None
        );
        let e = invalid(&["logs", "--env", "dev", "--since", "soon"]).unwrap();
        assert!(e.starts_with("--since \"soon\" is not a duration"), "{e}");
        assert_eq!(invalid(&["audit", "--env", "dev", "--kind", "hook"]), None);
        let e = invalid(&["audit", "--env", "dev", "--since", "1y"]).unwrap();
        assert!(e.starts_with("--since \"1y\""), "{e}");
        assert_eq!(invalid(&["status", "--env", "dev"]), None);
        assert_eq!(e.matches(". ").count(), 0, "one sentence: {e}");
    }

    #[tokio::test]
    async fn the_check_comes_before_anything_is_loaded() {
        // No config/nowhere.toml exists: the arguments' error is the one shown.
        let cli = Cli::try_parse_from(["tandem", "logs", "--env", "nowhere", "--since", "soon"]).unwrap();
        let e = run(cli).await.unwrap_err().to_string();
        assert!(e.starts_with("--since \"soon\""), "{e}");
        let cli = Cli::try_parse_from(["tandem", "logs", "--env", "nowhere", "--since", "1h"]).unwrap();
        let e = run(cli).await.unwrap_err().to_string();
        assert!(!e.contains("--since"), "{e}");
    }
}
