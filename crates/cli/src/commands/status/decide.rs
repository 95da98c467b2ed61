//! `tandem status`, the pure part: what was observed (a [`StatusReport`],
//! also the `--output json` document), the rule for what needs a person
//! (the exit code), and the one-screen text. The shell that observes is
//! `commands::status`.

use crate::commands::audit::decide::AuditView;
pub(crate) use crate::commands::release::approve::decide::PausedHook;
use crate::when::format_utc;
use serde::Serialize;
use std::collections::BTreeMap;
use tandem_core::fence::WriteGate;
use tandem_core::state::{FailoverLock, FailoverStep, ProbeRecord, ReleaseRecord};

/// The schema name of [`StatusReport`].
pub(crate) const STATUS_SCHEMA: &str = "tandem.status/1";

/// Everything `tandem status` observed, in both regions.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusReport {
    /// [`STATUS_SCHEMA`].
    pub(crate) schema: &'static str,
    /// The environment.
    pub(crate) env: String,
    /// The region roles now.
    pub(crate) roles: RolesView,
    /// Every stack, in deploy order.
    pub(crate) stacks: Vec<StackStatus>,
    /// Each region's release in flight, or its last one.
    pub(crate) releases: Vec<ReleaseView>,
    /// The environment's alarms that are in ALARM now.
    pub(crate) alarms: Vec<AlarmView>,
    /// Each region's probes of the other, and its failover lock.
    pub(crate) failover: Vec<FailoverView>,
    /// The last five decisions of every kind, newest first.
    pub(crate) decisions: Vec<AuditView>,
    /// What could not be read, each with why.
    pub(crate) unreadable: Vec<String>,
    /// What needs a person ([`attention`]); empty means the exit code is 0.
    pub(crate) attention: Vec<String>,
}

/// The region roles, and where they came from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RolesView {
    /// Takes traffic and holds the writer.
    pub(crate) primary: String,
    /// Holds the replica.
    pub(crate) standby: String,
    /// "the state table" or "the configuration (…)".
    pub(crate) source: String,
    /// The primary the configuration names (the one a failback returns to).
    pub(crate) configured_primary: String,
    /// The highest epoch either region records.
    pub(crate) epoch: u64,
}

/// Whether a region's app may write now, as the write fence decides it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WritesView {
    /// `open`, `standby` or `fenced`.
    pub(crate) state: &'static str,
    /// Why it does not write, when it does not.
    pub(crate) reason: Option<String>,
}

impl WritesView {
    /// The view of a write gate.
    pub(crate) fn of(gate: &WriteGate) -> Self {
        match gate {
            WriteGate::Open { .. } => Self {
                state: "open",
                reason: None,
            },
            WriteGate::Closed(why) => Self {
                state: "fenced",
                reason: Some(why.clone()),
            },
            WriteGate::Standby(why) => Self {
                state: "standby",
                reason: Some(why.clone()),
            },
        }
    }
}

/// One stack.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StackStatus {
    /// Its name.
    pub(crate) name: String,
    /// Its region.
    pub(crate) region: String,
    /// CloudFormation's status; `null` when the stack does not exist.
    pub(crate) status: Option<String>,
    /// CloudFormation's reason for the status, when it gives one.
    pub(crate) reason: Option<String>,
    /// The stack's outputs.
    pub(crate) outputs: BTreeMap<String, String>,
}

/// A region's newest release.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReleaseView {
    /// The region.
    pub(crate) region: String,
    /// The image tag; `null` when the region has had no release.
    pub(crate) image: Option<String>,
    /// `in-progress`, `succeeded`, `failed` or `rolled-back`.
    pub(crate) state: Option<&'static str>,
    /// The release id (the same in both regions).
    pub(crate) release_id: Option<String>,
    /// The CodeDeploy deployment, once started.
    pub(crate) deployment_id: Option<String>,
    /// When it started and ended (Unix seconds).
    pub(crate) started_at: Option<u64>,
    /// When it ended, if it has.
    pub(crate) finished_at: Option<u64>,
    /// Why it ended as it did.
    pub(crate) reason: Option<String>,
    /// The pause hook that holds it for a person (ECS engine with
    /// `[ecs_release] approval`): `null` when nothing waits.
    pub(crate) waiting_for_approval: Option<PausedHook>,
}

impl ReleaseView {
    /// The view of `region`'s newest release `record`.
    pub(crate) fn of(region: &str, record: Option<&ReleaseRecord>) -> Self {
        Self {
            region: region.to_owned(),
            image: record.map(|r| r.image.clone()),
            state: record.map(|r| r.state.as_str()),
            release_id: record.map(|r| r.release_id.clone()),
            deployment_id: record.and_then(|r| r.deployment_id.clone()),
            started_at: record.map(|r| r.started_at),
            finished_at: record.and_then(|r| r.finished_at),
            reason: record.and_then(|r| r.reason.clone()),
            waiting_for_approval: None,
        }
    }
}

/// An alarm in ALARM.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AlarmView {
    /// The region.
    pub(crate) region: String,
    /// The alarm's name.
    pub(crate) name: String,
    /// CloudWatch's reason for the state.
    pub(crate) reason: String,
    /// When it entered ALARM (Unix seconds), when CloudWatch says.
    pub(crate) since: Option<u64>,
}

/// One region's failover picture.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FailoverView {
    /// The region.
    pub(crate) region: String,
    /// The epoch its roles record carries.
    pub(crate) epoch: u64,
    /// Whether its app may write ([`tandem_core::fence::write_gate`]).
    pub(crate) writes: WritesView,
    /// Its probes of the other region; `null` before the first.
    pub(crate) probe: Option<ProbeView>,
    /// The failover lock of the current roles; `null` when free.
    pub(crate) lock: Option<LockView>,
}

/// A region's probes of the other.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProbeView {
    /// Failed probes in a row.
    pub(crate) failures: u32,
    /// When the last was counted (Unix seconds).
    pub(crate) last_at: u64,
    /// Why the last failed, if it did.
    pub(crate) last_error: Option<String>,
}

impl From<&ProbeRecord> for ProbeView {
    fn from(p: &ProbeRecord) -> Self {
        Self {
            failures: p.failures,
            last_at: p.last_at,
            last_error: p.last_error.clone(),
        }
    }
}

/// A failover lock.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LockView {
    /// How far the promotion got: `claimed` … `done`, or `failed`.
    pub(crate) step: &'static str,
    /// The invocation that holds it.
    pub(crate) holder: String,
    /// Until when (Unix seconds).
    pub(crate) lease_until: u64,
    /// Why the promotion was decided.
    pub(crate) reason: String,
    /// Why it failed, when it did.
    pub(crate) error: Option<String>,
}

impl From<&FailoverLock> for LockView {
    fn from(l: &FailoverLock) -> Self {
        Self {
            step: l.step.as_str(),
            holder: l.holder.clone(),
            lease_until: l.lease_until,
            reason: l.reason.clone(),
            error: l.error.clone(),
        }
    }
}

/// Whether a stack in `status` needs a person: a `…_FAILED` status (an
/// operation that could not finish or roll back), or `ROLLBACK_COMPLETE` (a
/// create that failed: the stack must be deleted before it can be made
/// again). `UPDATE_ROLLBACK_COMPLETE` does not: an update failed and was
/// undone, and the stack serves and takes updates as before (a failed
/// release ends so, and the release record says why).
pub(crate) fn is_broken(status: &str) -> bool {
    status.ends_with("_FAILED") || status == "ROLLBACK_COMPLETE"
}

/// What needs a person, one sentence each with the next step: a stack that
/// is missing or broken ([`is_broken`]), a release that waits for approval,
/// an alarm in ALARM, a failover lock that is held
/// (a promotion under way, or one that failed), a region whose writes are
/// fenced, disaster recovery disarmed (any failover, until the failback),
/// and anything that could not be read (an unreachable region among it). A
/// stack still in progress does not: it is settling.
pub(crate) fn attention(report: &StatusReport) -> Vec<String> {
    let env = &report.env;
    let mut list = Vec::new();
    if report.roles.primary != report.roles.configured_primary {
        list.push(format!(
            "disaster recovery is disarmed: {} is the primary and {} holds no replica of its writer; \
             run tandem failback --env {env} when {} is healthy again",
            report.roles.primary, report.roles.standby, report.roles.configured_primary
        ));
    }
    for f in &report.failover {
        if f.writes.state == "fenced" {
            let why = f.writes.reason.as_deref().unwrap_or("no reason given");
            list.push(format!("writes in {} are fenced: {why}", f.region));
        }
    }
    for s in &report.stacks {
        match &s.status {
            None => list.push(format!(
                "{} ({}) is not deployed: run make deploy ENV={env}",
                s.name, s.region
            )),
            Some(status) if is_broken(status) => list.push(format!(
                "{} ({}) is {status}{}: fix the cause in its events, then run make deploy ENV={env}",
                s.name,
                s.region,
                s.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
            )),
            Some(_) => {}
        }
    }
    for rel in &report.releases {
        let Some(paused) = &rel.waiting_for_approval else {
            continue;
        };
        list.push(format!(
            "the release of {} in {} waits for a person{}: check the new tasks on the test listener, then \
             tandem release --env {env} --approve, or --reject --reason <why>",
            rel.image.as_deref().unwrap_or("an image"),
            rel.region,
            paused.until()
        ));
    }
    for a in &report.alarms {
        list.push(format!(
            "alarm {} in {} is firing ({}): tandem logs --env {env} --since 1h shows what the functions did about it",
            a.name, a.region, a.reason
        ));
    }
    for f in &report.failover {
        let Some(lock) = f.lock.as_ref().filter(|l| l.step != FailoverStep::Done.as_str()) else {
            continue;
        };
        list.push(if lock.step == FailoverStep::Failed.as_str() {
            format!(
                "the failover to {} failed{}: read tandem audit --env {env} --kind failover, then retry with \
                 tandem failover --env {env}",
                f.region,
                lock.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            )
        } else {
            format!(
                "a failover to {} is under way (step {}, lease until {}): watch tandem logs --env {env} \
                 --function failover --follow",
                f.region,
                lock.step,
                format_utc(lock.lease_until)
            )
        });
    }
    list.extend(
        report
            .unreadable
            .iter()
            .map(|u| format!("{u}: check the credentials and the region, then retry")),
    );
    list
}

#[cfg(test)]
mod tests;

mod text;
pub(crate) use text::render;
