//! Failback, planned and manual: back to the configured primary after a
//! failover, without losing a write and without deleting any database.
//!
//! The region stacks own each region's database by its identifier
//! (`tandem-<env>-db` in the configured primary, `tandem-<env>-db-replica`
//! in the standby), so the failback ends with those names on the right
//! instances again: a new replica is built beside the stale writer, caught
//! up, renamed into place and promoted; the instances it replaces are
//! renamed `...-retired-<time>` and left running, for a person to snapshot
//! and delete. Every step is idempotent, and [`resume_at`] finds where a
//! stopped failback left off from what RDS and the state table show.
//!
//! The fences: the failback fences the region it leaves before it cuts
//! over ([`failback_epoch`]), records the roles at that epoch (which lifts
//! the fence the failover placed on `home`), and lifts its own fence once
//! the other region's secret names the new writer ([`lifting_epoch`]).
//! Nothing else lifts a fence.

use tandem_core::fence;
use tandem_core::state::Standing;

/// One database instance, as RDS shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Instance {
    /// No such instance.
    Missing,
    /// A read replica.
    Replica {
        /// RDS's status.
        status: String,
        /// Whether this failback made it (its `tandem:failback` tag).
        ours: bool,
    },
    /// A standalone writer.
    Writer {
        /// RDS's status.
        status: String,
        /// Whether this failback made it.
        ours: bool,
    },
}

/// What a failback sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Observed {
    /// The configured primary is the primary again (the roles say so).
    pub(crate) roles_back: bool,
    /// `tandem-<env>-db` in the configured primary's region.
    pub(crate) home_db: Instance,
    /// `tandem-<env>-db-next` there: the replica being caught up.
    pub(crate) home_next: Instance,
    /// `tandem-<env>-db-replica` in the standby's region.
    pub(crate) standby_db: Instance,
}

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A replica of the current writer, `tandem-<env>-db-next`, in the configured primary's region.
    CreateReplica,
    /// Wait until it is available and its lag is within budget.
    CatchUp,
    /// Rename the stale writer `tandem-<env>-db` to `...-retired-<time>` (kept, never deleted).
    RetireStaleWriter,
    /// Rename the caught-up replica to `tandem-<env>-db`, the name its stack owns.
    TakeName,
    /// Promote it and wait until it is an available writer.
    Promote,
    /// Point the configured primary's secret at it.
    RepointHomeSecret,
    /// Record the configured primary as the primary, in both state tables.
    RecordRoles,
    /// Deploy: the DNS records follow the roles.
    SwitchDns,
    /// Rename the other region's writer (the promoted replica) to `...-retired-<time>`.
    RetireOldWriter,
    /// A new replica `tandem-<env>-db-replica` of the writer in the other region.
    CreateStandbyReplica,
    /// Point the other region's endpoint secret at its new replica, and lift its fence.
    RepointStandbySecret,
}

/// Every step, in order.
pub(crate) const STEPS: [Step; 11] = [
    Step::CreateReplica,
    Step::CatchUp,
    Step::RetireStaleWriter,
    Step::TakeName,
    Step::Promote,
    Step::RepointHomeSecret,
    Step::RecordRoles,
    Step::SwitchDns,
    Step::RetireOldWriter,
    Step::CreateStandbyReplica,
    Step::RepointStandbySecret,
];

/// Where to start: the index in [`STEPS`] of the first step not done yet,
/// `Ok(None)` when nothing is left, or why the picture makes no sense.
pub(crate) fn resume_at(o: &Observed) -> Result<Option<usize>, String> {
    let at = |step: Step| Ok(Some(STEPS.iter().position(|s| *s == step).unwrap_or(0)));
    if o.roles_back {
        return match &o.standby_db {
            Instance::Replica { .. } => Ok(None),
            Instance::Writer { ours: false, .. } => at(Step::RetireOldWriter),
            Instance::Writer { ours: true, .. } => Err(
                "the standby's database is a writer this failback made: it was promoted; fail over properly first"
                    .into(),
            ),
            // The replica is being made, or not yet: making it is idempotent by name.
            Instance::Missing => at(Step::CreateStandbyReplica),
        };
    }
    match (&o.home_db, &o.home_next) {
        (Instance::Writer { ours: false, .. } | Instance::Missing, Instance::Missing) => at(Step::CreateReplica),
        (Instance::Writer { ours: false, .. } | Instance::Missing, Instance::Replica { .. }) => at(Step::CatchUp),
        (Instance::Replica { ours: true, .. }, Instance::Missing) => at(Step::Promote),
        (Instance::Writer { ours: true, .. }, Instance::Missing) => at(Step::RepointHomeSecret),
        (home, next) => Err(format!(
            "tandem-<env>-db is {} and tandem-<env>-db-next is {}: that is no state a failback leaves; \
             look at both in the RDS console, then retry",
            describe(home),
            describe(next)
        )),
    }
}

fn describe(i: &Instance) -> String {
    match i {
        Instance::Missing => "missing".into(),
        Instance::Replica { status, ours } => format!(
            "a replica ({status}{})",
            if *ours { ", made by a failback" } else { "" }
        ),
        Instance::Writer { status, ours } => {
            format!("a writer ({status}{})", if *ours { ", made by a failback" } else { "" })
        }
    }
}

/// The epoch a failback makes `home` the primary at: one past every epoch
/// of the failover it undoes (roles naming another primary, fences of
/// `home`), computed the same on every run, so a resumed failback writes
/// the same epoch, and the fence it places on the other region first
/// carries it too.
pub(crate) fn failback_epoch(home: &str, standings: &[Standing]) -> u64 {
    let roles = standings
        .iter()
        .filter_map(|s| s.roles.as_ref())
        .filter(|r| r.primary != home)
        .map(|r| r.epoch);
    let fences = standings
        .iter()
        .flat_map(|s| s.fences.iter())
        .filter(|f| f.region == home)
        .map(|f| f.epoch);
    roles.chain(fences).max().unwrap_or(0) + 1
}

/// The epoch that lifts the failback's fence on `away` once its secret
/// names the writer in `home` again: one past that fence, when it still
/// holds `away` in some table; `None` when nothing is left to lift.
pub(crate) fn lifting_epoch(away: &str, standings: &[Standing]) -> Option<u64> {
    standings
        .iter()
        .filter_map(|s| fence::holding(away, s.epoch(), &s.fences))
        .map(|f| f.epoch + 1)
        .max()
}

/// What `step` does, for the person confirming it.
pub(crate) fn describe_step(step: Step, env: &str, home: &str, away: &str) -> String {
    match step {
        Step::CreateReplica => format!("create tandem-{env}-db-next in {home}, a read replica of the writer in {away}"),
        Step::CatchUp => format!("wait until tandem-{env}-db-next is available and caught up (ReplicaLag in {home})"),
        Step::RetireStaleWriter => format!(
            "fence {away}'s writes (its app answers 503 to writes until the last step; the switch takes minutes); \
             rename the stale writer tandem-{env}-db in {home} to tandem-{env}-db-retired-<time> (kept running)"
        ),
        Step::TakeName => format!("rename tandem-{env}-db-next to tandem-{env}-db in {home}, the name its stack owns"),
        Step::Promote => format!("promote tandem-{env}-db in {home} and wait until it is an available writer"),
        Step::RepointHomeSecret => format!("point {home}'s endpoint secret tandem-{env}/db-endpoint at the new writer"),
        Step::RecordRoles => format!(
            "record {home} as the primary and {away} as the standby at the next epoch, in both state tables: \
             this lifts {home}'s fence (writes, and the traffic fence's alarm in {away})"
        ),
        Step::SwitchDns => "deploy with the new roles: the DNS records point at the primary again".into(),
        Step::RetireOldWriter => format!(
            "rename {away}'s writer tandem-{env}-db-replica to tandem-{env}-db-replica-retired-<time> (kept running)"
        ),
        Step::CreateStandbyReplica => {
            format!("create tandem-{env}-db-replica in {away}, a read replica of the writer in {home}")
        }
        Step::RepointStandbySecret => {
            format!("point {away}'s secret tandem-{env}/db at the writer in {home}, then lift {away}'s write fence")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(ours: bool) -> Instance {
        Instance::Writer {
            status: "available".into(),
            ours,
        }
    }

    fn replica(ours: bool) -> Instance {
        Instance::Replica {
            status: "available".into(),
            ours,
        }
    }

    fn step(o: &Observed) -> Option<Step> {
        resume_at(o).unwrap().map(|i| STEPS[i])
    }

    fn after_failover() -> Observed {
        Observed {
            roles_back: false,
            home_db: writer(false),
            home_next: Instance::Missing,
            standby_db: writer(false),
        }
    }

    #[test]
    fn a_fresh_failback_starts_by_building_a_replica_beside_the_stale_writer() {
        assert_eq!(step(&after_failover()), Some(Step::CreateReplica));
    }

    #[test]
    fn every_stop_point_resumes_at_the_next_step() {
        let cases = [
            (
                Observed {
                    home_next: replica(true),
                    ..after_failover()
                },
                Step::CatchUp,
            ),
            // Stopped after the stale writer was renamed away.
            (
                Observed {
                    home_db: Instance::Missing,
                    home_next: replica(true),
                    ..after_failover()
                },
                Step::CatchUp,
            ),
            (
                Observed {
                    home_db: replica(true),
                    ..after_failover()
                },
                Step::Promote,
            ),
            (
                Observed {
                    home_db: writer(true),
                    ..after_failover()
                },
                Step::RepointHomeSecret,
            ),
            (
                Observed {
                    roles_back: true,
                    home_db: writer(true),
                    ..after_failover()
                },
                Step::RetireOldWriter,
            ),
            (
                Observed {
                    roles_back: true,
                    home_db: writer(true),
                    standby_db: Instance::Missing,
                    ..after_failover()
                },
                Step::CreateStandbyReplica,
            ),
        ];
        for (o, expected) in cases {
            assert_eq!(step(&o), Some(expected), "{o:?}");
        }
    }

    #[test]
    fn a_finished_failback_has_nothing_left() {
        let done = Observed {
            roles_back: true,
            home_db: writer(true),
            standby_db: replica(true),
            ..after_failover()
        };
        assert_eq!(resume_at(&done), Ok(None));
    }

    #[test]
    fn a_picture_no_failback_leaves_is_refused_naming_both() {
        let odd = Observed {
            home_db: replica(false),
            home_next: writer(true),
            ..after_failover()
        };
        let why = resume_at(&odd).unwrap_err();
        assert!(
            why.contains("a replica (available)") && why.contains("a writer (available, made by a failback)"),
            "{why}"
        );
    }

    use tandem_testing::standing::standing;

    #[test]
    fn the_failback_epoch_is_one_past_the_failover_and_the_same_on_every_run() {
        let (home, away) = ("us-east-1", "us-east-2");
        // After a failover at epoch 3 and us-east-1's self-demotion.
        let demoted = [standing(away, 3, &[(home, 3)]), standing(away, 3, &[(home, 3)])];
        assert_eq!(failback_epoch(home, &demoted), 4);
        // After the failback fenced us-east-2 at 4, and after one table recorded the roles.
        let fenced = [
            standing(away, 3, &[(home, 3), (away, 4)]),
            standing(home, 4, &[(home, 3), (away, 4)]),
        ];
        assert_eq!(failback_epoch(home, &fenced), 4);
        // The promoting region never saw us-east-1 come back: its fence alone counts.
        assert_eq!(
            failback_epoch(home, &[standing(away, 3, &[(home, 3)]), Standing::default()]),
            4
        );
        assert_eq!(failback_epoch(home, &[Standing::default()]), 1);
    }

    #[test]
    fn the_failbacks_own_fence_is_lifted_once() {
        let (home, away) = ("us-east-1", "us-east-2");
        let recorded = [
            standing(home, 4, &[(home, 3), (away, 4)]),
            standing(home, 4, &[(home, 3), (away, 4)]),
        ];
        assert_eq!(lifting_epoch(away, &recorded), Some(5));
        assert_eq!(
            lifting_epoch(home, &recorded),
            None,
            "the failover's fence is lifted already"
        );
        let lifted = [
            standing(home, 5, &[(home, 3), (away, 4)]),
            standing(home, 5, &[(home, 3), (away, 4)]),
        ];
        assert_eq!(lifting_epoch(away, &lifted), None);
    }

    #[test]
    fn the_steps_keep_every_database() {
        for step in STEPS {
            let text = describe_step(step, "dev", "us-east-1", "us-east-2");
            assert!(!text.to_lowercase().contains("delet"), "{text}");
        }
    }
}
