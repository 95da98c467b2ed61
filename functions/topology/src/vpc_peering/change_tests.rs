//! The shell's Update and Delete, against mocked EC2 (see `mocked`).

use super::mocked::*;
use super::*;
use crate::vpc_peering::props::sample;

#[tokio::test]
async fn an_update_of_route_tables_reconciles_the_same_peering() {
    let script = script();
    let old = sample();
    let mut new = sample();
    new.route_table_ids = vec!["rtb-0a2".into()];
    script
        .expect(HOME, look("pcx-1", Some(peering("pcx-1", "active", true))))
        .expect(HOME, read_table("rtb-0a1", &[("10.1.0.0/16", "pcx-1")]))
        .expect(HOME, read_table("rtb-0a2", &[]))
        .expect(HOME, delete_route("rtb-0a1", "10.1.0.0/16"))
        .expect(HOME, create_route("rtb-0a2", "10.1.0.0/16", "pcx-1"))
        .expect(PEER, read_table("rtb-0b1", &[("10.0.0.0/16", "pcx-1")]));
    let outcome = resource(&script)
        .update(&request("Update", Some("pcx-1")), "pcx-1", new, Some(old))
        .await;

    assert_eq!(outcome.unwrap(), done("pcx-1"));
    script.finished();
}

#[tokio::test]
async fn an_update_of_the_peer_vpc_replaces_the_peering_and_repoints_routes() {
    let script = script();
    let new = sample();
    let mut old_with_other_peer = sample();
    old_with_other_peer.peer_vpc_id = "vpc-0old".into();
    script.expect(HOME, look("pcx-0", Some(peering("pcx-0", "active", true))));
    requested_anew(&script);
    accepted_and_active(&script);
    script
        .expect(PEER, tag("pcx-1"))
        .expect(HOME, read_table("rtb-0a1", &[("10.1.0.0/16", "pcx-0")]))
        .expect(HOME, replace_route("rtb-0a1", "10.1.0.0/16", "pcx-1"))
        .expect(PEER, read_table("rtb-0b1", &[]))
        .expect(PEER, create_route("rtb-0b1", "10.0.0.0/16", "pcx-1"));
    let (resource, request) = (resource(&script), request("Update", Some("pcx-0")));
    let first = resource
        .update(&request, "pcx-0", new.clone(), Some(old_with_other_peer))
        .await;
    let (outcome, _) = run(&resource, &request, &new, first).await;

    assert_eq!(
        outcome.unwrap(),
        done("pcx-1"),
        "a new id: CloudFormation deletes pcx-0"
    );
    script.finished();
}

#[tokio::test]
async fn a_failed_replacement_removes_the_peering_it_made() {
    let script = script();
    let mut old = sample();
    old.vpc_id = "vpc-0old".into();
    script.expect(HOME, look("pcx-0", None));
    requested_anew(&script);
    script
        .expect(PEER, look("pcx-1", Some(peering("pcx-1", "rejected", false))))
        .expect(HOME, read_table("rtb-0a1", &[]))
        .expect(PEER, read_table("rtb-0b1", &[]))
        .expect(HOME, look("pcx-1", Some(peering("pcx-1", "pending-acceptance", true))))
        .expect(HOME, delete_peering("pcx-1"));
    let (resource, request, props) = (resource(&script), request("Update", Some("pcx-0")), sample());
    let first = resource.update(&request, "pcx-0", props.clone(), Some(old)).await;
    let (outcome, _) = run(&resource, &request, &props, first).await;

    assert!(outcome.unwrap_err().to_string().contains("was rejected"));
    script.finished();
}

#[tokio::test]
async fn delete_removes_only_this_peerings_routes_then_the_peering() {
    let script = script();
    script
        .expect(
            HOME,
            read_table("rtb-0a1", &[("10.1.0.0/16", "pcx-1"), ("0.0.0.0/0", "igw-1")]),
        )
        .expect(HOME, delete_route("rtb-0a1", "10.1.0.0/16"))
        .expect(PEER, read_missing_table("rtb-0b1"))
        .expect(HOME, look("pcx-1", Some(peering("pcx-1", "active", true))))
        .expect(HOME, delete_peering("pcx-1"));
    let outcome = resource(&script)
        .delete(&request("Delete", Some("pcx-1")), "pcx-1", sample())
        .await;

    assert_eq!(outcome.unwrap(), Outcome::done("pcx-1"));
    script.finished();
}

#[tokio::test]
async fn delete_of_a_deleted_peering_succeeds_without_deleting() {
    let script = script();
    script
        .expect(HOME, read_table("rtb-0a1", &[]))
        .expect(PEER, read_table("rtb-0b1", &[]))
        .expect(HOME, look("pcx-1", Some(peering("pcx-1", "deleted", true))));
    let outcome = resource(&script)
        .delete(&request("Delete", Some("pcx-1")), "pcx-1", sample())
        .await;
    assert_eq!(outcome.unwrap(), Outcome::done("pcx-1"));
    script.finished();
}

#[tokio::test]
async fn delete_of_a_peering_ec2_no_longer_knows_succeeds() {
    let script = script();
    script
        .expect(HOME, read_table("rtb-0a1", &[]))
        .expect(PEER, read_table("rtb-0b1", &[]))
        .expect(HOME, look("pcx-1", Some(peering("pcx-1", "active", true))))
        .expect(HOME, delete_missing_peering("pcx-1"));
    let outcome = resource(&script)
        .delete(&request("Delete", Some("pcx-1")), "pcx-1", sample())
        .await;
    assert_eq!(outcome.unwrap(), Outcome::done("pcx-1"));
    script.finished();
}

#[tokio::test]
async fn delete_of_an_id_that_is_not_a_peering_makes_no_call() {
    let script = script();
    let outcome = resource(&script)
        .delete(&request("Delete", Some("other-id")), "other-id", sample())
        .await;
    assert_eq!(outcome.unwrap(), Outcome::done("other-id"));
    assert!(script.finished().is_empty());
}
