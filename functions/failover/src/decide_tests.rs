//! The decision table, every combination, against the rules written out a
//! second time as a plain oracle; then the cases people ask about by name.

use super::*;
use crate::event::Manual;

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
        failures: 3,
        last_probe_error: Some("no answer within 5s".into()),
        own_health: Ok(()),
        lag_secs: Some(4.0),
        db: Db::Replica {
            status: "available".into(),
        },
        lock: None,
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
    let lag_ok = force || o.lag_secs.is_some_and(|l| l <= LIMITS.rpo_secs as f64);
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
    let mut seen = std::collections::BTreeSet::new();
    let mut cases = 0;
    for trigger in &triggers {
        for primary in ["us-east-1", "us-east-2"] {
            for failures in [0, 2, 3, 7] {
                for own_health in [Ok(()), Err("503".to_owned())] {
                    for lag_secs in [None, Some(0.0), Some(60.0), Some(60.5), Some(900.0)] {
                        for db in &dbs {
                            for lock in &locks {
                                let o = Observed {
                                    primary: primary.into(),
                                    failures,
                                    own_health: own_health.clone(),
                                    lag_secs,
                                    db: db.clone(),
                                    lock: lock.clone(),
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
    assert_eq!(cases, 5 * 2 * 4 * 2 * 5 * 5 * 6);
    assert_eq!(seen.len(), 8, "every plan is reachable: {seen:?}");
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
         us-east-2 is healthy and the replica 4s behind (budget 60s)"
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
                lag_secs: Some(75.0),
                ..observed()
            },
            "75s behind, over the 60s budget",
        ),
        (
            Observed {
                lag_secs: None,
                ..observed()
            },
            "no ReplicaLag",
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
        lag_secs: Some(4000.0),
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
        "us-east-2 is the standby (primary us-east-1); primary probes failed 3 in a row (threshold 3); \
         own health healthy; replica lag 4s (budget 60s); database replica, available; lock none"
    );
}
