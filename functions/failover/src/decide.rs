//! The decision: a pure function from the trigger and what the shell
//! observed to a plan. No AWS here; `decide_tests.rs` covers the table.
//!
//! First, whatever the trigger: a region that finds its peer at a later
//! epoch (the peer promoted itself while this region was away) demotes
//! itself, and a region whose own fence holds does nothing more.
//!
//! Promote only when all three hold:
//! 1. the primary failed at least `threshold` consecutive probes (a manual
//!    failover stands in for this: a person judged the primary down);
//! 2. this region's own `/health` answers;
//! 3. the replica's lag is known and within the RPO budget: a reading of
//!    -1, none, or one older than two minutes is unknown (`force` skips
//!    this, and only this).
//!
//! A promotion already under way (its lock exists) is carried on whatever
//! the probes say now: a half-done promotion is worse than either end.

use crate::event::{Action, Trigger};
use tandem_core::db::Lag;
use tandem_core::fence::Demotion;
use tandem_core::state::{FailoverLock, FailoverStep, FenceRecord};

/// When to promote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Consecutive failed probes of the primary that mean "down".
    pub threshold: u32,
    /// The most replica lag, in seconds, a promotion accepts.
    pub rpo_secs: u64,
}

/// This region's database, as RDS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Db {
    /// A read replica, with its status (such as `available`).
    Replica {
        /// RDS's status.
        status: String,
    },
    /// A standalone instance (a writer), with its status.
    Writer {
        /// RDS's status.
        status: String,
    },
    /// RDS has no such instance.
    Missing,
    /// RDS could not be asked; why.
    Unknown(String),
}

/// What the shell saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// This region.
    pub here: String,
    /// The primary now (the recorded roles, or the configured primary).
    pub primary: String,
    /// The epoch of this region's recorded roles (0: none recorded).
    pub epoch: u64,
    /// The primary's consecutive failed probes, as counted in the state table.
    pub failures: u32,
    /// The last probe's failure, if it failed.
    pub last_probe_error: Option<String>,
    /// This region's own `/health`: `Err(why)` when it does not answer 2xx.
    pub own_health: Result<(), String>,
    /// The replica's lag, as judged from its newest `ReplicaLag` minute.
    pub lag: Lag,
    /// This region's database.
    pub db: Db,
    /// The failover lock of the current roles version, if taken.
    pub lock: Option<FailoverLock>,
    /// The fence that holds this region, if one does.
    pub fenced: Option<FenceRecord>,
    /// What this region must record when its peer is at a later epoch.
    pub behind: Option<Demotion>,
    /// Unix seconds.
    pub now: u64,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// This region is the primary: there is nothing to fail over to.
    NotStandby(String),
    /// The primary is up, or not down for long enough: keep probing.
    Watch(String),
    /// The primary is down but promoting here would be wrong now; why.
    Refuse(String),
    /// Take the lock and promote, for this reason.
    Promote {
        /// Why, for the audit trail and the notification.
        reason: String,
        /// Whether the lag check was skipped.
        forced: bool,
    },
    /// A promotion is under way and its holder is gone: take over and carry on.
    Resume(String),
    /// Another invocation holds the lock and is working: leave it.
    Busy(String),
    /// A status request: what the function sees.
    Report(String),
    /// The peer became the primary at a later epoch: record that and fence
    /// this region's writer, once.
    Demote(Demotion),
    /// This region is fenced: it neither serves writes nor promotes until a
    /// failback lifts the fence.
    Fenced(String),
}

/// Decides what to do about `trigger`, given `observed`.
pub fn decide(trigger: &Trigger, observed: &Observed, limits: Limits) -> Plan {
    let manual = match trigger {
        Trigger::Manual(m) => Some(m),
        _ => None,
    };
    if let Some(m) = manual
        && m.action == Action::Status
    {
        return Plan::Report(report(observed, limits));
    }
    if let Some(demotion) = &observed.behind {
        return Plan::Demote(demotion.clone());
    }
    if let Some(fence) = &observed.fenced {
        return Plan::Fenced(tandem_core::fence::fenced_sentence(fence));
    }
    if observed.here == observed.primary {
        return Plan::NotStandby(format!(
            "{} is the primary: there is nothing to fail over to",
            observed.here
        ));
    }
    if let Some(lock) = &observed.lock {
        match lock.step {
            FailoverStep::Done => {
                return Plan::NotStandby(format!(
                    "the failover to {} is complete; the roles record has not caught up yet",
                    lock.region
                ));
            }
            FailoverStep::Failed => {
                let why = lock.error.as_deref().unwrap_or("no reason was recorded");
                if manual.is_none() {
                    return Plan::Refuse(format!(
                        "the promotion of {} failed earlier ({why}): fix that, then retry with `tandem failover`",
                        lock.region
                    ));
                }
            }
            _ if lock.lease_until >= observed.now => {
                return Plan::Busy(format!(
                    "a promotion of {} is under way (step {}, held until {}): leaving it to its holder",
                    lock.region,
                    lock.step.as_str(),
                    lock.lease_until
                ));
            }
            _ => {
                return Plan::Resume(format!(
                    "a promotion of {} stopped at step {} and its holder is gone: carrying on",
                    lock.region,
                    lock.step.as_str()
                ));
            }
        }
    }
    let down = match manual {
        Some(m) => format!("a person asked for it ({})", m.reason),
        None if observed.failures >= limits.threshold => format!(
            "the primary {} failed {} consecutive probes (threshold {}){}",
            observed.primary,
            observed.failures,
            limits.threshold,
            observed
                .last_probe_error
                .as_deref()
                .map(|e| format!(", last: {e}"))
                .unwrap_or_default()
        ),
        None => {
            return Plan::Watch(format!(
                "the primary {} has {} of {} failed probes in a row",
                observed.primary, observed.failures, limits.threshold
            ));
        }
    };
    if let Err(why) = &observed.own_health {
        return Plan::Refuse(format!(
            "{down}, but {}'s own /health fails ({why}): promoting here would move traffic to a sick region",
            observed.here
        ));
    }
    match &observed.db {
        Db::Replica { status } if status == "available" => {}
        Db::Replica { status } => {
            return Plan::Refuse(format!(
                "{down}, but the replica is {status}, not available: it cannot be promoted until it is"
            ));
        }
        Db::Writer { .. } => {
            return Plan::Refuse(format!(
                "{down}, but {}'s database is not a replica and no promotion of it is recorded: \
                 it may hold stale data; bring the other region back, or rebuild this one with `tandem failback`",
                observed.here
            ));
        }
        Db::Missing => {
            return Plan::Refuse(format!(
                "{down}, but {} has no database to promote: deploy the region stack, then retry",
                observed.here
            ));
        }
        Db::Unknown(why) => {
            return Plan::Refuse(format!("{down}, but the replica could not be read ({why})"));
        }
    }
    let forced = manual.is_some_and(|m| m.force);
    let lag = match (forced, observed.lag) {
        (true, Lag::Known { secs, age_secs }) => {
            format!("the lag check skipped (forced; the replica was {secs:.0}s behind, {age_secs}s ago)")
        }
        (true, Lag::Unknown(why)) => format!("the lag check skipped (forced; {why})"),
        (false, Lag::Unknown(why)) => {
            return Plan::Refuse(format!(
                "{down}, but the lag is unknown ({why}): the data a promotion would lose is unknown; \
                 run `tandem failover --force` to accept that"
            ));
        }
        (false, Lag::Known { secs, age_secs }) if secs > limits.rpo_secs as f64 => {
            return Plan::Refuse(format!(
                "{down}, but the replica is {secs:.0}s behind ({age_secs}s ago), over the {}s budget: \
                 wait for it to catch up, or run `tandem failover --force` to accept the loss",
                limits.rpo_secs
            ));
        }
        (false, Lag::Known { secs, age_secs }) => format!(
            "the replica {secs:.0}s behind {age_secs}s ago (budget {}s)",
            limits.rpo_secs
        ),
    };
    Plan::Promote {
        reason: format!("{down}; {} is healthy and {lag}", observed.here),
        forced,
    }
}

/// The streak after one probe: a failure adds one, an answer starts over.
pub fn next_failures(previous: u32, probe_ok: bool) -> u32 {
    if probe_ok { 0 } else { previous.saturating_add(1) }
}

fn report(o: &Observed, limits: Limits) -> String {
    let role = if o.here == o.primary { "primary" } else { "standby" };
    let health = match &o.own_health {
        Ok(()) => "healthy".to_owned(),
        Err(why) => format!("unhealthy ({why})"),
    };
    let lag = match o.lag {
        Lag::Known { secs, age_secs } => format!("{secs:.0}s ({age_secs}s ago)"),
        Lag::Unknown(why) => format!("unknown ({why})"),
    };
    let fence = o.fenced.as_ref().map_or("none".to_owned(), |f| {
        format!("fenced by {} at epoch {}", f.by, f.epoch)
    });
    let db = match &o.db {
        Db::Replica { status } => format!("replica, {status}"),
        Db::Writer { status } => format!("writer, {status}"),
        Db::Missing => "missing".into(),
        Db::Unknown(why) => format!("unknown ({why})"),
    };
    let lock = o.lock.as_ref().map_or("none".to_owned(), |l| {
        format!("{} (step {}, lease until {})", l.region, l.step.as_str(), l.lease_until)
    });
    format!(
        "{} is the {role} (primary {}, epoch {}); primary probes failed {} in a row (threshold {}); \
         own health {health}; replica lag {lag} (budget {}s); database {db}; lock {lock}; fence {fence}",
        o.here, o.primary, o.epoch, o.failures, limits.threshold, limits.rpo_secs
    )
}

#[cfg(test)]
mod tests;
