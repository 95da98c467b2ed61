//! `tandem`: the operator's command line.
//!
//! This is the skeleton: `--help` and `--version`. The commands that
//! DESIGN.md lists (deploy, diff, destroy, status, release, failover,
//! failback, drill) arrive with the issues that build them.

use clap::Parser;

/// tandem runs a containerised web service in two AWS regions: blue/green
/// releases, automatic rollback, and failover to the standby region.
#[derive(Debug, Parser)]
#[command(name = "tandem", version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
