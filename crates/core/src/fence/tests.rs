//! The fence rules, case by case: the night of a failover from the first
//! fence to the failback, seen from each region and its app.

use super::*;
use crate::state::RolesRecord;

const EAST1: &str = "us-east-1";
const EAST2: &str = "us-east-2";

fn roles(primary: &str, epoch: u64) -> Option<RolesRecord> {
    let standby = if primary == EAST1 { EAST2 } else { EAST1 };
    Some(RolesRecord {
        primary: primary.into(),
        standby: standby.into(),
        updated_at: 100 + epoch,
        epoch,
        reason: Some("a test".into()),
    })
}

fn fence(region: &str, epoch: u64) -> FenceRecord {
    let by = if region == EAST1 { EAST2 } else { EAST1 };
    FenceRecord {
        region: region.into(),
        epoch,
        by: by.into(),
        reason: "the primary failed 3 probes".into(),
        at: 1,
    }
}

fn standing(roles: Option<RolesRecord>, fences: Vec<FenceRecord>) -> Standing {
    Standing { roles, fences }
}

fn closed(gate: WriteGate) -> String {
    match gate {
        WriteGate::Closed(why) | WriteGate::Standby(why) => why,
        WriteGate::Open { epoch } => panic!("the gate is open at epoch {epoch}"),
    }
}

#[test]
fn before_any_failover_only_the_primary_writes() {
    let none = Standing::default();
    assert_eq!(
        write_gate(EAST1, EAST1, Ok(&none), Ok(&none)),
        WriteGate::Open { epoch: 0 }
    );
    assert_eq!(
        write_gate(EAST1, EAST1, Ok(&none), Err("timed out")),
        WriteGate::Open { epoch: 0 }
    );
    let WriteGate::Standby(why) = write_gate(EAST2, EAST1, Ok(&none), Ok(&none)) else {
        panic!("the standby's gate is a standby's")
    };
    assert!(
        why.starts_with("us-east-2 is the standby (the primary is us-east-1, epoch 0)"),
        "{why}"
    );
    let recorded = standing(roles(EAST1, 4), vec![]);
    assert_eq!(
        write_gate(EAST1, EAST1, Ok(&recorded), Ok(&recorded)),
        WriteGate::Open { epoch: 4 }
    );
    assert!(closed(write_gate(EAST2, EAST1, Ok(&recorded), Ok(&recorded))).contains("is the standby"));
}

#[test]
fn an_unreadable_own_table_closes_the_gate_and_names_why() {
    let why = closed(write_gate(EAST1, EAST1, Err("AccessDenied"), Ok(&Standing::default())));
    assert!(
        why.contains("us-east-1's state table could not be read (AccessDenied)"),
        "{why}"
    );
}

#[test]
fn the_old_primary_is_fenced_by_the_peers_fence_before_it_records_anything() {
    // us-east-2 fenced us-east-1 at epoch 1 and promoted; us-east-1 comes back at epoch 0.
    let own = standing(roles(EAST1, 0), vec![]);
    let peer = standing(roles(EAST2, 1), vec![fence(EAST1, 1)]);
    let why = closed(write_gate(EAST1, EAST1, Ok(&own), Ok(&peer)));
    assert!(
        why.starts_with("us-east-1 is fenced: us-east-2 became the primary at epoch 1"),
        "{why}"
    );
    // Also while the promotion is still running (roles not yet written there).
    let peer = standing(roles(EAST1, 0), vec![fence(EAST1, 1)]);
    assert!(closed(write_gate(EAST1, EAST1, Ok(&own), Ok(&peer))).contains("is fenced"));
}

#[test]
fn the_old_primary_stays_fenced_by_its_own_copy_when_the_peer_is_unreachable() {
    let own = standing(roles(EAST2, 1), vec![fence(EAST1, 1)]);
    assert!(closed(write_gate(EAST1, EAST1, Ok(&own), Err("timed out"))).contains("is fenced"));
}

#[test]
fn the_promoting_region_waits_until_its_roles_record_the_new_epoch() {
    let mid = standing(roles(EAST1, 0), vec![fence(EAST1, 1)]);
    let why = closed(write_gate(EAST2, EAST1, Ok(&mid), Err("timed out")));
    assert!(why.contains("us-east-2 is becoming the primary at epoch 1"), "{why}");
    let done = standing(roles(EAST2, 1), vec![fence(EAST1, 1)]);
    assert_eq!(
        write_gate(EAST2, EAST1, Ok(&done), Err("timed out")),
        WriteGate::Open { epoch: 1 }
    );
}

#[test]
fn newer_peer_roles_naming_another_primary_close_the_gate_without_a_fence() {
    let own = standing(roles(EAST1, 1), vec![]);
    let peer = standing(roles(EAST2, 2), vec![]);
    assert!(closed(write_gate(EAST1, EAST1, Ok(&own), Ok(&peer))).contains("catches up"));
    // Newer peer roles naming this region primary (a failback half written) do not.
    let peer = standing(roles(EAST1, 2), vec![]);
    assert_eq!(
        write_gate(EAST1, EAST1, Ok(&own), Ok(&peer)),
        WriteGate::Open { epoch: 1 }
    );
    // The recorded roles decide, not the configuration: after a failover us-east-2 writes.
    let promoted = standing(roles(EAST2, 1), vec![fence(EAST1, 1)]);
    assert_eq!(
        write_gate(EAST2, EAST1, Ok(&promoted), Err("down")),
        WriteGate::Open { epoch: 1 }
    );
}

#[test]
fn a_failback_lifts_every_fence_by_its_later_epoch() {
    let east1 = standing(roles(EAST1, 2), vec![fence(EAST1, 1)]);
    let east2 = standing(roles(EAST1, 2), vec![fence(EAST1, 1)]);
    assert_eq!(
        write_gate(EAST1, EAST1, Ok(&east1), Ok(&east2)),
        WriteGate::Open { epoch: 2 }
    );
    assert!(closed(write_gate(EAST2, EAST1, Ok(&east2), Ok(&east1))).contains("is the standby"));
    assert_eq!(holding(EAST1, 2, &east1.fences), None);
    assert_eq!(holding(EAST1, 1, &east1.fences), Some(&east1.fences[0]));
}

#[test]
fn holding_picks_the_newest_fence_of_the_region() {
    let fences = [fence(EAST1, 1), fence(EAST1, 3), fence(EAST2, 5)];
    assert_eq!(holding(EAST1, 0, &fences).map(|f| f.epoch), Some(3));
    assert_eq!(holding(EAST2, 5, &fences).map(|f| f.epoch), Some(5));
    assert_eq!(holding(EAST2, 6, &fences), None);
}

#[test]
fn a_returning_region_finds_it_is_behind_by_roles_or_by_fence() {
    let own = standing(roles(EAST1, 0), vec![]);
    let by_roles = standing(roles(EAST2, 1), vec![]);
    let d = behind(EAST1, &own, &by_roles).expect("behind");
    assert_eq!((d.epoch, d.primary.as_str()), (1, EAST2));
    assert!(
        d.reason
            .contains("us-east-2 became the primary at epoch 1 while us-east-1 recorded epoch 0")
    );
    // Mid-promotion: only the fence is there yet.
    let by_fence = standing(roles(EAST1, 0), vec![fence(EAST1, 1)]);
    let d = behind(EAST1, &own, &by_fence).expect("behind");
    assert_eq!((d.epoch, d.primary.as_str()), (1, EAST2));
}

#[test]
fn a_region_is_not_behind_when_it_recorded_the_demotion_or_is_current() {
    let peer = standing(roles(EAST2, 1), vec![fence(EAST1, 1)]);
    let demoted = standing(roles(EAST2, 1), vec![fence(EAST1, 1)]);
    assert_eq!(behind(EAST1, &demoted, &peer), None);
    // The new primary is never behind its fenced peer.
    assert_eq!(behind(EAST2, &peer, &standing(roles(EAST1, 0), vec![])), None);
    // After a failback both are current.
    let back = standing(roles(EAST1, 2), vec![fence(EAST1, 1)]);
    assert_eq!(behind(EAST1, &back, &back), None);
    assert_eq!(behind(EAST2, &back, &back), None);
}

#[test]
fn a_region_behind_by_a_later_epoch_than_its_copy_is_behind_again() {
    let own = standing(roles(EAST2, 1), vec![fence(EAST1, 1)]);
    let peer = standing(roles(EAST2, 3), vec![fence(EAST1, 3)]);
    assert_eq!(behind(EAST1, &own, &peer).map(|d| d.epoch), Some(3));
}

#[test]
fn the_alarm_name_is_the_one_the_templates_use() {
    assert_eq!(alarm_name("dev"), "tandem-dev-peer-fenced");
}
