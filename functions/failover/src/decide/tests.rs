//! The decision table, every combination, against the rules written out a
//! second time as a plain oracle; then the cases people ask about by name.

use super::*;
use crate::event::Manual;
use tandem_core::fence::Demotion;

fn known(secs: f64) -> Lag {
    Lag::Known { secs, age_secs: 30 }
}

fn fence(epoch: u64) -> FenceRecord {
    FenceRecord {
        region: "us-east-2".into(),
        epoch,
        by: "us-east-1".into(),
        reason: "the primary failed 3 probes".into(),
        at: 900,
    }
}

fn demotion() -> Demotion {
    Demotion {
        epoch: 2,
        primary: "us-east-1".into(),
        reason: "us-east-1 became the primary at epoch 2 while us-east-2 recorded epoch 1".into(),
    }
}

const LIMITS: Limits = Limits {
    threshold: 3,
    rpo_secs: 60,
};

fn lock(step: FailoverStep, lease_until: u64) -> FailoverLock {
    FailoverLock {
        version: 0,
        region: "us-east-2".into(),
        holder: "req-1".into(),
        lease_until,
        step,
        reason: "the primary is down".into(),
        forced: false,
        started_at: 900,
        updated_at: 900,
        error: (step == FailoverStep::Failed).then(|| "PromoteReadReplica was refused".into()),
    }
}

fn observed() -> Observed {
    Observed {
        here: "us-east-2".into(),
        primary: "us-east-1".into(),
        epoch: 1,
        failures: 3,
        last_probe_error: Some("no answer within 5s".into()),
        own_health: Ok(()),
        lag: known(4.0),
        db: Db::Replica {
            status: "available".into(),
        },
        lock: None,
        fenced: None,
        behind: None,
        now: 1000,
    }
}

fn manual(action: Action, force: bool) -> Trigger {
    Trigger::Manual(Manual {
        action,
        reason: "us-east-1 is down".into(),
        force,
        dry_run: false,
    })
}

/// Which plan, by name.
fn kind(plan: &Plan) -> &'static str {
    match plan {
        Plan::NotStandby(_) => "not-standby",
        Plan::Watch(_) => "watch",
        Plan::Refuse(_) => "refuse",
        Plan::Promote { forced: false, .. } => "promote",
        Plan::Promote { forced: true, .. } => "promote-forced",
        Plan::Resume(_) => "resume",
        Plan::Busy(_) => "busy",
        Plan::Report(_) => "report",
        Plan::Demote(_) => "demote",
        Plan::Fenced(_) => "fenced",
    }
}

/// The rules again, as a person would state them.
fn oracle(trigger: &Trigger, o: &Observed) -> &'static str {
    let (is_manual, is_status, force) = match trigger {
        Trigger::Manual(m) => (true, m.action == Action::Status, m.force),
        _ => (false, false, false),
    };
    if is_status {
        return "report";
    }
    if o.behind.is_some() {
        return "demote";
    }
    if o.fenced.is_some() {
        return "fenced";
    }
    if o.here == o.primary {
        return "not-standby";
    }
    if let Some(l) = &o.lock {
        if l.step == FailoverStep::Done {
            return "not-standby";
        }
        if l.step == FailoverStep::Failed {
            if !is_manual {
                return "refuse";
            }
        } else if l.lease_until >= o.now {
            return "busy";
        } else {
            return "resume";
        }
    }
    if !is_manual && o.failures < LIMITS.threshold {
        return "watch";
    }
    let db_ok = matches!(&o.db, Db::Replica { status } if status == "available");
    let lag_ok = force || matches!(o.lag, Lag::Known { secs, .. } if secs <= LIMITS.rpo_secs as f64);
    if o.own_health.is_err() || !db_ok || !lag_ok {
        return "refuse";
    }
    if force { "promote-forced" } else { "promote" }
}

#[test]
fn every_combination_follows_the_rules() {
    let triggers = [
        Trigger::Schedule,
        Trigger::Alarm {
            name: "tandem-dev-5xx".into(),
            state: "ALARM".into(),
            region: "us-east-1".into(),
        },
        manual(Action::Failover, false),
        manual(Action::Failover, true),
        manual(Action::Status, false),
    ];
    let dbs = [
        Db::Replica {
            status: "available".into(),
        },
        Db::Replica {
            status: "backing-up".into(),
        },
        Db::Writer {
            status: "available".into(),
        },
        Db::Missing,
        Db::Unknown("throttled".into()),
    ];
    let locks = [
        None,
        Some(lock(FailoverStep::Claimed, 2000)),
        Some(lock(FailoverStep::PromoteRequested, 999)),
        Some(lock(FailoverStep::SecretUpdated, 1000)),
        Some(lock(FailoverStep::Done, 1000)),
        Some(lock(FailoverStep::Failed, 1000)),
    ];
    let lags = [
        Lag::Unknown("no datapoint"),
        Lag::Unknown("-1"),
        known(0.0),
        known(60.0),
        known(60.5),
        known(900.0),
    ];
    // Neither, fenced, behind, both.
    let standings = [
        (None, None),
        (Some(fence(1)), None),
        (None, Some(demotion())),
        (Some(fence(1)), Some(demotion())),
    ];
    let mut seen = std::collections::BTreeSet::new();
    let mut cases = 0;
    for trigger in &triggers {
        for primary in ["us-east-1", "us-east-2"] {
            for failures in [0, 2, 3, 7] {
                for own_health in [Ok(()), Err("503".to_owned())] {
                    for lag in lags {
                        for db in &dbs {
                            for lock in &locks {
                                for (fenced, behind) in &standings {
                                    let o = Observed {
                                        primary: primary.into(),
                                        failures,
                                        own_health: own_health.clone(),
                                        lag,
                                        db: db.clone(),
                                        lock: lock.clone(),
                                        fenced: fenced.clone(),
                                        behind: behind.clone(),
                                        ..observed()
                                    };
                                    let plan = decide(trigger, &o, LIMITS);
                                    assert_eq!(kind(&plan), oracle(trigger, &o), "{trigger:?}\n{o:#?}\n{plan:?}");
                                    seen.insert(kind(&plan));
                                    cases += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 5 * 2 * 4 * 2 * 6 * 5 * 6 * 4);
    assert_eq!(seen.len(), 10, "every plan is reachable: {seen:?}");
}

#[test]
fn three_failed_probes_with_a_healthy_standby_and_little_lag_promote() {
    let plan = decide(&Trigger::Schedule, &observed(), LIMITS);
    let Plan::Promote { reason, forced } = plan else {
        panic!("{plan:?}")
    };
    assert!(!forced);
    assert_eq!(
        reason,
        "the primary us-east-1 failed 3 consecutive probes (threshold 3), last: no answer within 5s; \
         us-east-2 is healthy and the replica 4s behind 30s ago (budget 60s)"
    );
}

#[test]
fn every_refusal_says_why_and_what_to_do() {
    let cases = [
        (
            Observed {
                own_health: Err("GET /health answered 503".into()),
                ..observed()
            },
            "own /health fails (GET /health answered 503)",
        ),
        (
            Observed {
                lag: known(75.0),
                ..observed()
            },
            "75s behind (30s ago), over the 60s budget",
        ),
        (
            Observed {
                lag: Lag::judge(None, 1000),
                ..observed()
            },
            "the lag is unknown (the replica reports no ReplicaLag in the last five minutes)",
        ),
        (
            Observed {
                db: Db::Writer {
                    status: "available".into(),
                },
                ..observed()
            },
            "not a replica",
        ),
        (
            Observed {
                db: Db::Replica {
                    status: "backing-up".into(),
                },
                ..observed()
            },
            "the replica is backing-up",
        ),
    ];
    for (o, expected) in cases {
        let Plan::Refuse(why) = decide(&Trigger::Schedule, &o, LIMITS) else {
            panic!("{o:?}")
        };
        assert!(why.contains(expected), "{why}");
        assert!(why.starts_with("the primary us-east-1 failed 3"), "{why}");
    }
}

#[test]
fn force_skips_the_lag_check_and_nothing_else() {
    let behind = Observed {
        lag: known(4000.0),
        ..observed()
    };
    assert!(matches!(
        decide(&manual(Action::Failover, false), &behind, LIMITS),
        Plan::Refuse(_)
    ));
    assert!(matches!(
        decide(&manual(Action::Failover, true), &behind, LIMITS),
        Plan::Promote { forced: true, .. }
    ));
    let sick = Observed {
        own_health: Err("refused".into()),
        ..behind
    };
    assert!(matches!(
        decide(&manual(Action::Failover, true), &sick, LIMITS),
        Plan::Refuse(_)
    ));
}

#[test]
fn a_manual_failover_stands_in_for_the_probes_and_retries_a_failed_promotion() {
    let healthy_primary = Observed {
        failures: 0,
        ..observed()
    };
    assert!(matches!(
        decide(&Trigger::Schedule, &healthy_primary, LIMITS),
        Plan::Watch(_)
    ));
    let Plan::Promote { reason, .. } = decide(&manual(Action::Failover, false), &healthy_primary, LIMITS) else {
        panic!()
    };
    assert!(
        reason.starts_with("a person asked for it (us-east-1 is down)"),
        "{reason}"
    );
    let failed = Observed {
        lock: Some(lock(FailoverStep::Failed, 1000)),
        ..observed()
    };
    let Plan::Refuse(why) = decide(&Trigger::Schedule, &failed, LIMITS) else {
        panic!()
    };
    assert!(
        why.contains("PromoteReadReplica was refused") && why.contains("tandem failover"),
        "{why}"
    );
    assert!(matches!(
        decide(&manual(Action::Failover, false), &failed, LIMITS),
        Plan::Promote { .. }
    ));
}

#[test]
fn a_flapping_primary_never_reaches_the_threshold() {
    // fail, fail, answer, fail, fail, answer, ...: the streak never gets to 3.
    let mut failures = 0;
    for probe_ok in [false, false, true, false, false, true, false, false, true] {
        failures = next_failures(failures, probe_ok);
        let o = Observed { failures, ..observed() };
        assert!(
            matches!(decide(&Trigger::Schedule, &o, LIMITS), Plan::Watch(_)),
            "after {failures} failures"
        );
    }
    // Three in a row do.
    for _ in 0..3 {
        failures = next_failures(failures, false);
    }
    let o = Observed { failures, ..observed() };
    assert!(matches!(decide(&Trigger::Schedule, &o, LIMITS), Plan::Promote { .. }));
    assert_eq!(next_failures(u32::MAX, false), u32::MAX, "no overflow");
}

#[test]
fn the_status_report_names_what_the_function_sees() {
    let Plan::Report(text) = decide(&manual(Action::Status, false), &observed(), LIMITS) else {
        panic!()
    };
    assert_eq!(
        text,
        "us-east-2 is the standby (primary us-east-1, epoch 1); primary probes failed 3 in a row (threshold 3); \
         own health healthy; replica lag 4s (30s ago) (budget 60s); database replica, available; lock none; fence none"
    );
}

/// A reading of the newest minute ending at `at`, its lowest and highest values.
fn reading(min_secs: f64, max_secs: f64, at: u64) -> Option<tandem_core::db::LagReading> {
    Some(tandem_core::db::LagReading { max_secs, min_secs, at })
}

#[test]
fn unknown_lag_refuses_unless_forced_and_names_why() {
    let now = 1000;
    let cases = [
        (None, "no ReplicaLag in the last five minutes"),
        (
            reading(-1.0, -1.0, now - 30),
            "ReplicaLag -1: replication is not running",
        ),
        // A minute that held 5 s and then -1: its Maximum is 5, its Minimum shows the stop.
        (
            reading(-1.0, 5.0, now - 30),
            "ReplicaLag -1: replication is not running",
        ),
        (reading(2.0, 3.0, now - 121), "more than two minutes old"),
    ];
    for (r, expected) in cases {
        let o = Observed {
            lag: Lag::judge(r, now),
            ..observed()
        };
        let Plan::Refuse(why) = decide(&Trigger::Schedule, &o, LIMITS) else {
            panic!("{r:?} must refuse")
        };
        assert!(why.contains(expected) && why.contains("--force"), "{why}");
        let Plan::Promote { reason, forced: true } = decide(&manual(Action::Failover, true), &o, LIMITS) else {
            panic!("{r:?} forced must promote")
        };
        assert!(
            reason.contains("the lag check skipped (forced;") && reason.contains(expected),
            "{reason}"
        );
    }
}

#[test]
fn fresh_lag_counts_and_the_decision_names_its_age() {
    assert_eq!(
        Lag::judge(reading(1.0, 4.0, 990), 1000),
        Lag::Known {
            secs: 4.0,
            age_secs: 10
        }
    );
    assert_eq!(
        Lag::judge(reading(1.0, 4.0, 880), 1000),
        Lag::Known {
            secs: 4.0,
            age_secs: 120
        }
    );
    assert!(matches!(Lag::judge(reading(1.0, 4.0, 879), 1000), Lag::Unknown(_)));
    // A reading from the future (clock skew) is as fresh as can be, not a panic.
    assert_eq!(
        Lag::judge(reading(0.0, 0.0, 2000), 1000),
        Lag::Known { secs: 0.0, age_secs: 0 }
    );
}

#[test]
fn a_region_behind_its_peer_demotes_itself_whatever_the_trigger_but_status() {
    let o = Observed {
        behind: Some(demotion()),
        primary: "us-east-2".into(),
        ..observed()
    };
    for trigger in [Trigger::Schedule, manual(Action::Failover, true)] {
        assert_eq!(decide(&trigger, &o, LIMITS), Plan::Demote(demotion()));
    }
    assert!(matches!(
        decide(&manual(Action::Status, false), &o, LIMITS),
        Plan::Report(_)
    ));
}

#[test]
fn a_fenced_region_never_promotes_even_when_forced() {
    let o = Observed {
        fenced: Some(fence(1)),
        ..observed()
    };
    for trigger in [Trigger::Schedule, manual(Action::Failover, true)] {
        let Plan::Fenced(why) = decide(&trigger, &o, LIMITS) else {
            panic!("{trigger:?}")
        };
        assert!(
            why.starts_with("us-east-2 is fenced: us-east-1 became the primary at epoch 1"),
            "{why}"
        );
        assert!(why.contains("tandem failback"), "{why}");
    }
}
