//! The shell's Update and Delete, against a scripted EC2.

use super::scripted::*;
use super::*;
use crate::vpc_peering::props::sample;

#[tokio::test]
async fn an_update_of_route_tables_reconciles_the_same_peering() {
    let script = Scripted::default();
    let old = sample();
    let mut new = sample();
    new.route_table_ids = vec!["rtb-0a2".into()];
    script
        .then(
            "us-east-1",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "active", true)]),
        )
        .then(
            "us-east-1",
            "DescribeRouteTables",
            &table("rtb-0a1", &[("10.1.0.0/16", "pcx-1")]),
        )
        .then("us-east-1", "DescribeRouteTables", &table("rtb-0a2", &[]))
        .then("us-east-1", "DeleteRoute", OK)
        .then("us-east-1", "CreateRoute", OK)
        .then(
            "us-east-2",
            "DescribeRouteTables",
            &table("rtb-0b1", &[("10.0.0.0/16", "pcx-1")]),
        );
    let outcome = script
        .resource()
        .update(&request("Update", Some("pcx-1")), "pcx-1", new, Some(old))
        .await;

    assert_eq!(outcome.unwrap(), done("pcx-1"));
    let sent = script.finished();
    assert_eq!(
        params(&sent[3], &["RouteTableId", "DestinationCidrBlock"]),
        ["rtb-0a1", "10.1.0.0/16"]
    );
    assert_eq!(
        params(&sent[4], &["RouteTableId", "VpcPeeringConnectionId"]),
        ["rtb-0a2", "pcx-1"]
    );
}

#[tokio::test]
async fn an_update_of_the_peer_vpc_replaces_the_peering_and_repoints_routes() {
    let script = Scripted::default();
    let old = sample();
    let mut new = sample();
    new.peer_vpc_id = "vpc-0bbb".into();
    let mut old_with_other_peer = old.clone();
    old_with_other_peer.peer_vpc_id = "vpc-0old".into();
    script.then(
        "us-east-1",
        "DescribeVpcPeeringConnections",
        &peerings(&[peering("pcx-0", "active", true)]),
    );
    requested_anew(&script);
    accepted_and_active(&script);
    script
        .then("us-east-2", "CreateTags", OK)
        .then(
            "us-east-1",
            "DescribeRouteTables",
            &table("rtb-0a1", &[("10.1.0.0/16", "pcx-0")]),
        )
        .then("us-east-1", "ReplaceRoute", OK)
        .then("us-east-2", "DescribeRouteTables", &table("rtb-0b1", &[]))
        .then("us-east-2", "CreateRoute", OK);
    let (resource, request) = (script.resource(), request("Update", Some("pcx-0")));
    let first = resource
        .update(&request, "pcx-0", new.clone(), Some(old_with_other_peer))
        .await;
    let (outcome, _) = run(&resource, &request, &new, first).await;

    assert_eq!(
        outcome.unwrap(),
        done("pcx-1"),
        "a new id: CloudFormation deletes pcx-0"
    );
    let sent = script.finished();
    assert_eq!(
        params(&sent[9], &["RouteTableId", "VpcPeeringConnectionId"]),
        ["rtb-0a1", "pcx-1"]
    );
}

#[tokio::test]
async fn a_failed_replacement_removes_the_peering_it_made() {
    let script = Scripted::default();
    let mut old = sample();
    old.vpc_id = "vpc-0old".into();
    script.then("us-east-1", "DescribeVpcPeeringConnections", &peerings(&[]));
    requested_anew(&script);
    script
        .then(
            "us-east-2",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "rejected", false)]),
        )
        .then("us-east-1", "DescribeRouteTables", &table("rtb-0a1", &[]))
        .then("us-east-2", "DescribeRouteTables", &table("rtb-0b1", &[]))
        .then(
            "us-east-1",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "pending-acceptance", true)]),
        )
        .then("us-east-1", "DeleteVpcPeeringConnection", OK);
    let (resource, request, props) = (script.resource(), request("Update", Some("pcx-0")), sample());
    let first = resource.update(&request, "pcx-0", props.clone(), Some(old)).await;
    let (outcome, _) = run(&resource, &request, &props, first).await;

    assert!(outcome.unwrap_err().to_string().contains("was rejected"));
    assert_eq!(script.finished()[7].params["VpcPeeringConnectionId"], "pcx-1");
}

#[tokio::test]
async fn delete_removes_only_this_peerings_routes_then_the_peering() {
    let script = Scripted::default();
    script
        .then(
            "us-east-1",
            "DescribeRouteTables",
            &table("rtb-0a1", &[("10.1.0.0/16", "pcx-1"), ("0.0.0.0/0", "igw-1")]),
        )
        .then("us-east-1", "DeleteRoute", OK)
        .then_error("us-east-2", "DescribeRouteTables", "InvalidRouteTableID.NotFound")
        .then(
            "us-east-1",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "active", true)]),
        )
        .then("us-east-1", "DeleteVpcPeeringConnection", OK);
    let outcome = script
        .resource()
        .delete(&request("Delete", Some("pcx-1")), "pcx-1", sample())
        .await;

    assert_eq!(outcome.unwrap(), Outcome::done("pcx-1"));
    let sent = script.finished();
    assert_eq!(
        params(&sent[1], &["RouteTableId", "DestinationCidrBlock"]),
        ["rtb-0a1", "10.1.0.0/16"]
    );
}

#[tokio::test]
async fn delete_of_what_is_gone_succeeds() {
    let script = Scripted::default();
    script
        .then("us-east-1", "DescribeRouteTables", &table("rtb-0a1", &[]))
        .then("us-east-2", "DescribeRouteTables", &table("rtb-0b1", &[]))
        .then(
            "us-east-1",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "deleted", true)]),
        );
    let resource = script.resource();
    let outcome = resource
        .delete(&request("Delete", Some("pcx-1")), "pcx-1", sample())
        .await;
    assert_eq!(outcome.unwrap(), Outcome::done("pcx-1"));
    script.finished();

    script
        .then("us-east-1", "DescribeRouteTables", &table("rtb-0a1", &[]))
        .then("us-east-2", "DescribeRouteTables", &table("rtb-0b1", &[]))
        .then(
            "us-east-1",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "active", true)]),
        )
        .then_error(
            "us-east-1",
            "DeleteVpcPeeringConnection",
            "InvalidVpcPeeringConnectionID.NotFound",
        );
    let outcome = resource
        .delete(&request("Delete", Some("pcx-1")), "pcx-1", sample())
        .await;
    assert_eq!(outcome.unwrap(), Outcome::done("pcx-1"));
    script.finished();

    let outcome = resource
        .delete(&request("Delete", Some("other-id")), "other-id", sample())
        .await;
    assert_eq!(outcome.unwrap(), Outcome::done("other-id"));
    script.finished();
}
