//! `tandem-state-seed`: the bash suites' one way to write and read the
//! state table of the local AWS (typed records through tandem-core's
//! `StateTable`). Reads print one JSON document (`null` when absent);
//! writes print what they wrote. Test support only: not the operator CLI.

use anyhow::bail;
use clap::{Parser, Subcommand};
use serde_json::Value;
use tandem_state_seed::{REGIONS, json, table};

/// Writes and reads the local AWS's state table for the tests.
#[derive(Parser)]
#[command(name = "tandem-state-seed", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Records a release in progress, the newest in the region; prints it.
    SeedRelease {
        /// The region.
        #[arg(long)]
        region: String,
        /// The release id (remove it again with forget-release).
        #[arg(long)]
        release_id: String,
        /// The deployment it is shifting traffic with: a CodeDeploy id, or
        /// an ECS service deployment's ARN (the ECS engine's).
        #[arg(long)]
        deployment: String,
        /// The image tag.
        #[arg(long, default_value = "e2e")]
        image: String,
    },
    /// Removes the releases with this id (`prefix*`: every id it starts); prints how many.
    ForgetRelease {
        /// The region.
        #[arg(long)]
        region: String,
        /// The release id, or a prefix ending in `*`.
        #[arg(long)]
        release_id: String,
    },
    /// Records the roles at an epoch of now; prints them.
    PutRoles {
        /// The region whose table records them.
        #[arg(long)]
        region: String,
        /// The primary.
        #[arg(long)]
        primary: String,
        /// The standby.
        #[arg(long)]
        standby: String,
    },
    /// Removes the region's failover locks; prints how many.
    ClearLocks {
        /// The region.
        #[arg(long)]
        region: String,
    },
    /// Prints the roles.
    Roles {
        /// The region.
        #[arg(long)]
        region: String,
    },
    /// Prints the newest release.
    LastRelease {
        /// The region.
        #[arg(long)]
        region: String,
    },
    /// Prints every release, oldest first.
    Releases {
        /// The region.
        #[arg(long)]
        region: String,
    },
    /// Prints the audit entry of a kind and key.
    Audit {
        /// The region.
        #[arg(long)]
        region: String,
        /// release, hook, rollback, failover or notify.
        #[arg(long)]
        kind: String,
        /// The entry's key (its sort key without the kind).
        #[arg(long)]
        key: String,
    },
    /// Prints the audit entries of a kind whose keys start with a prefix
    /// (without --kind: the whole trail, oldest first).
    Audits {
        /// The region.
        #[arg(long)]
        region: String,
        /// release, hook, rollback, failover or notify.
        #[arg(long)]
        kind: Option<String>,
        /// The start of their keys (with --kind).
        #[arg(long, default_value = "", requires = "kind")]
        prefix: String,
    },
    /// Prints the region's failover locks.
    Locks {
        /// The region.
        #[arg(long)]
        region: String,
    },
    /// Fails, naming the suite to run first, unless a decision of the kind
    /// was audited in either region in the last `--within` seconds.
    Requires {
        /// The kind of decision the suite records.
        #[arg(long)]
        kind: String,
        /// The suite that records it.
        #[arg(long)]
        suite: String,
        /// How far back, in seconds.
        #[arg(long, default_value_t = 7200)]
        within: u64,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    match run(args.command).await {
        Ok(Some(out)) => println!("{out}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("tandem-state-seed: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run(command: Command) -> anyhow::Result<Option<Value>> {
    use tandem_state_seed as seed;
    let out = match command {
        Command::SeedRelease {
            region,
            release_id,
            deployment,
            image,
        } => {
            let t = table(&region).await?;
            json::release(&seed::seed_release(&t, &region, &release_id, &deployment, &image).await?)
        }
        Command::ForgetRelease { region, release_id } => {
            Value::from(seed::forget_releases(&table(&region).await?, &region, &release_id).await?)
        }
        Command::PutRoles {
            region,
            primary,
            standby,
        } => json::roles(&seed::put_roles(&table(&region).await?, &primary, &standby).await?),
        Command::ClearLocks { region } => Value::from(seed::clear_locks(&table(&region).await?).await?),
        Command::Roles { region } => optional(table(&region).await?.roles().await?.as_ref().map(json::roles)),
        Command::LastRelease { region } => {
            let last = table(&region).await?.last_release(&region).await?;
            optional(last.as_ref().map(json::release))
        }
        Command::Releases { region } => {
            let all = table(&region).await?.releases(&region).await?;
            Value::from(all.iter().map(json::release).collect::<Vec<_>>())
        }
        Command::Audit { region, kind, key } => {
            let entry = table(&region).await?.audit_entry(seed::kind(&kind)?, &key).await?;
            optional(entry.as_ref().map(json::audit))
        }
        Command::Audits { region, kind, prefix } => {
            let table = table(&region).await?;
            let entries = match kind {
                Some(kind) => table.audit_entries(seed::kind(&kind)?, &prefix).await?,
                None => table.audit_trail(None, 0).await?,
            };
            Value::from(entries.iter().map(json::audit).collect::<Vec<_>>())
        }
        Command::Locks { region } => {
            let locks = table(&region).await?.failover_locks().await?;
            Value::from(locks.iter().map(json::lock).collect::<Vec<_>>())
        }
        Command::Requires { kind, suite, within } => {
            let since = seed::now().saturating_sub(within);
            for region in REGIONS {
                if seed::has_audit(region, seed::kind(&kind)?, since).await? {
                    return Ok(None);
                }
            }
            let span = if within >= 120 {
                format!("{} minutes", within / 60)
            } else {
                format!("{within} seconds")
            };
            bail!(
                "this suite reads the {kind} decisions that {suite} records, and neither region audited one in the last {span}: run {suite} first"
            );
        }
    };
    Ok(Some(out))
}

fn optional(value: Option<Value>) -> Value {
    value.unwrap_or(Value::Null)
}
