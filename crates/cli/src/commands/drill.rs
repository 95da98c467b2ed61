//! `tandem drill --env local`: the whole night of a regional outage, on the
//! laptop. Each region's app serves its `/health` on loopback and takes
//! writes all night from a writer that hits it directly. us-east-1 goes
//! dark (its app stops, and the fault proxy fails every call signed for
//! it); the standby's function detects it, fences the old primary (the
//! fence record, the traffic fence's metric) and attempts the promotion,
//! which the local AWS refuses: a clean, audited failure. Twenty triggers
//! at once prove the lock. The drill then leaves what a completed
//! `PromoteReadReplica` leaves (a writer), and the function finishes the
//! promotion for real: endpoint secret, roles at the next epoch. The CLI
//! is run while us-east-1 is dark. Then us-east-1 comes back: its app,
//! restarted, refuses writes from its first, and its function finds the
//! newer epoch and fences itself. The drill counts the writes that reached
//! the old writer after the fence (the goal is 0), prints the three times,
//! and restores the roles as a failback would.

mod apps;
mod around;
mod http;
mod night;
mod outage;
mod stand_in;

use crate::context::Context;
use anyhow::bail;
use std::time::Duration;

/// Triggers sent at once to prove the lock.
pub(crate) const CONCURRENT_TRIGGERS: usize = 20;

/// The function's detection settings (its defaults unless its environment changes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detection {
    /// Consecutive failed probes.
    pub(crate) threshold: u64,
    /// Seconds between probes.
    pub(crate) interval: u64,
}

impl Detection {
    /// The most a decision may take after the primary goes down: the
    /// failures, plus one interval (the first failing probe can come up to
    /// one interval after the fall), plus 5 s for a cold start.
    pub(crate) fn window(self) -> Duration {
        Duration::from_secs(self.threshold * self.interval + self.interval + 5)
    }
}

/// How the twenty concurrent triggers ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Triggers that attempted the promotion.
    pub(crate) promoted: usize,
    /// Triggers that left it to the lock's holder.
    pub(crate) busy: usize,
    /// Triggers that found it failed already.
    pub(crate) refused: usize,
    /// Anything else, verbatim.
    pub(crate) other: Vec<String>,
}

impl Tally {
    /// Counts one trigger's answer.
    pub(crate) fn add(&mut self, answer: &Result<crate::commands::failover::invoke::Answer, String>) {
        match answer {
            Err(why) if why.contains("could not promote") => self.promoted += 1,
            Ok(a) if a.decision == "Busy" => self.busy += 1,
            Ok(a) if a.decision == "Refuse" && a.reason.contains("failed earlier") => self.refused += 1,
            Ok(a) => self.other.push(format!("{}: {}", a.decision, a.reason)),
            Err(why) => self.other.push(why.clone()),
        }
    }
}

/// The loopback port of a `http://127.0.0.1:<port>/health` URL.
pub(crate) fn loopback_port(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://127.0.0.1:")?;
    rest.split('/').next()?.parse().ok()
}

/// Checks as they are made: each printed `ok` or `FAIL`, all remembered.
#[derive(Debug, Default)]
pub(crate) struct Checks(bool);

impl Checks {
    /// Records and prints one check.
    pub(crate) fn check(&mut self, what: impl std::fmt::Display, holds: bool) {
        println!("  {} {what}", if holds { "ok  " } else { "FAIL" });
        self.0 |= !holds;
    }

    /// Whether every check held.
    pub(crate) fn passed(&self) -> bool {
        !self.0
    }
}

/// Seconds, one decimal, or `never`.
pub(crate) fn secs(d: Option<Duration>) -> String {
    d.map_or("never".to_owned(), |d| format!("{:.1}s", d.as_secs_f64()))
}

/// `tandem drill`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// local (a drill never runs against AWS).
    #[arg(long)]
    pub(crate) env: String,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(&ctx).await
    }
}

/// Runs the drill; returns whether every check held.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    if !ctx.config.is_local() {
        bail!(
            "a drill runs on the local AWS only (--env local); on AWS, run a game day with `tandem failover --dry-run`"
        );
    }
    if ctx.roles.primary != ctx.config.primary_region {
        bail!(
            "the roles are failed over already (primary {}): restore them, or `make destroy ENV=local` and deploy again",
            ctx.roles.primary
        );
    }
    night::Night::prepare(ctx).await?.run().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::failover::invoke::Answer;

    #[test]
    fn the_window_is_the_failures_one_interval_and_a_cold_start() {
        let d = Detection {
            threshold: 3,
            interval: 10,
        };
        assert_eq!(d.window(), Duration::from_secs(45));
    }

    #[test]
    fn loopback_ports_are_read_from_the_health_urls() {
        assert_eq!(loopback_port("http://127.0.0.1:18081/health"), Some(18081));
        assert_eq!(loopback_port("https://alb.example/health"), None);
        assert_eq!(loopback_port("http://127.0.0.1:x/health"), None);
    }

    #[test]
    fn the_tally_counts_each_kind_of_answer() {
        let answer = |decision: &str, reason: &str| {
            Ok(Answer {
                decision: decision.into(),
                reason: reason.into(),
                outcome: String::new(),
            })
        };
        let mut t = Tally::default();
        t.add(&Err("the failover to us-east-2 stopped: could not promote x".into()));
        t.add(&answer("Busy", "a promotion is under way"));
        t.add(&answer("Refuse", "the promotion of us-east-2 failed earlier (x)"));
        t.add(&answer("Watch", "1 of 3"));
        assert_eq!((t.promoted, t.busy, t.refused), (1, 1, 1));
        assert_eq!(t.other, ["Watch: 1 of 3"]);
    }
}
