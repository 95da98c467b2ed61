//! The shell's Create, against a scripted EC2.

use super::scripted::*;
use super::*;
use crate::vpc_peering::props::sample;

#[tokio::test]
async fn create_requests_accepts_tags_and_routes_both_sides() {
    let script = Scripted::default();
    requested_anew(&script);
    accepted_and_active(&script);
    tagged_and_routed(&script);
    let (resource, request, props) = (script.resource(), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, waits) = run(&resource, &request, &props, first).await;

    assert_eq!(outcome.unwrap(), done("pcx-1"));
    assert_eq!(
        waits,
        [(Some("pcx-1".to_string()), Duration::ZERO)],
        "the id is reported at once"
    );
    let sent = script.finished();
    let lookup = params(
        &sent[0],
        &["Filter.1.Name", "Filter.1.Value.1", "Filter.2.Name", "Filter.2.Value.1"],
    );
    assert_eq!(
        lookup,
        ["tag:tandem:stack-id", STACK, "tag:tandem:logical-id", "Peering"]
    );
    assert_eq!(
        params(&sent[1], &["VpcId", "PeerVpcId", "PeerRegion"]),
        ["vpc-0aaa", "vpc-0bbb", "us-east-2"]
    );
    let create = &sent[1].params;
    assert_eq!(create["TagSpecification.1.ResourceType"], "vpc-peering-connection");
    let tags = [
        "Tag.1.Key",
        "Tag.1.Value",
        "Tag.2.Key",
        "Tag.2.Value",
        "Tag.3.Key",
        "Tag.3.Value",
    ];
    let creation_tags: Vec<String> = tags
        .iter()
        .map(|k| create[&format!("TagSpecification.1.{k}")].clone())
        .collect();
    let expected = [
        "tandem:stack-id",
        STACK,
        "tandem:logical-id",
        "Peering",
        "Name",
        "tandem-dev-global-Peering",
    ];
    assert_eq!(creation_tags, expected);
    assert_eq!(sent[3].params["VpcPeeringConnectionId"], "pcx-1");
    assert_eq!(params(&sent[6], &tags), expected, "the peer region gets the same tags");
    assert_eq!(sent[6].params["ResourceId.1"], "pcx-1");
    let routes = ["RouteTableId", "DestinationCidrBlock", "VpcPeeringConnectionId"];
    assert_eq!(params(&sent[8], &routes), ["rtb-0a1", "10.1.0.0/16", "pcx-1"]);
    assert_eq!(params(&sent[10], &routes), ["rtb-0b1", "10.0.0.0/16", "pcx-1"]);
}

#[tokio::test]
async fn a_peering_not_yet_in_the_peer_region_is_polled_with_its_id_reported() {
    let script = Scripted::default();
    requested_anew(&script);
    script
        .then("us-east-2", "DescribeVpcPeeringConnections", &peerings(&[]))
        .then_error(
            "us-east-2",
            "DescribeVpcPeeringConnections",
            "InvalidVpcPeeringConnectionID.NotFound",
        );
    accepted_and_active(&script);
    tagged_and_routed(&script);
    let (resource, request, props) = (script.resource(), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, waits) = run(&resource, &request, &props, first).await;

    assert_eq!(outcome.unwrap(), done("pcx-1"));
    let pcx = Some("pcx-1".to_string());
    assert_eq!(
        waits,
        [
            (pcx.clone(), Duration::ZERO),
            (pcx.clone(), POLL_INTERVAL),
            (pcx, POLL_INTERVAL)
        ]
    );
    script.finished();
}

#[tokio::test]
async fn a_repeated_create_continues_with_the_peering_it_made() {
    let script = Scripted::default();
    let found = [peering("pcx-0", "deleted", true), peering("pcx-1", "active", true)];
    script
        .then("us-east-1", "DescribeVpcPeeringConnections", &peerings(&found))
        .then(
            "us-east-2",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "active", false)]),
        )
        .then("us-east-2", "CreateTags", OK)
        .then(
            "us-east-1",
            "DescribeRouteTables",
            &table("rtb-0a1", &[("10.1.0.0/16", "pcx-1")]),
        )
        .then(
            "us-east-2",
            "DescribeRouteTables",
            &table("rtb-0b1", &[("10.0.0.0/16", "pcx-1")]),
        );
    let (resource, request, props) = (script.resource(), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, _) = run(&resource, &request, &props, first).await;

    assert_eq!(outcome.unwrap(), done("pcx-1"));
    let sent = script.finished();
    assert!(
        sent.iter()
            .all(|s| s.action != "CreateVpcPeeringConnection" && s.action != "CreateRoute")
    );
}

#[tokio::test]
async fn a_failed_peering_fails_the_create_with_the_aws_reason_after_reporting_its_id() {
    let script = Scripted::default();
    requested_anew(&script);
    script.then(
        "us-east-2",
        "DescribeVpcPeeringConnections",
        &peerings(&[peering("pcx-1", "failed", false)]),
    );
    let (resource, request, props) = (script.resource(), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, waits) = run(&resource, &request, &props, first).await;

    let error = outcome.unwrap_err().to_string();
    assert!(
        error.contains("VPC peering pcx-1") && error.contains("failed (scripted failed)"),
        "{error}"
    );
    assert_eq!(
        waits[0].0.as_deref(),
        Some("pcx-1"),
        "the FAILED answer will carry the id"
    );
    script.finished();
}

#[tokio::test]
async fn a_route_to_the_peer_cidr_elsewhere_fails_naming_the_table() {
    let script = Scripted::default();
    active_in_both(&script);
    script.then("us-east-2", "CreateTags", OK).then(
        "us-east-1",
        "DescribeRouteTables",
        &table("rtb-0a1", &[("10.1.0.0/16", "igw-7")]),
    );
    let (resource, request, props) = (script.resource(), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, _) = run(&resource, &request, &props, first).await;

    let error = outcome.unwrap_err().to_string();
    assert!(
        error.starts_with("route table rtb-0a1 in us-east-1 already has a route to 10.1.0.0/16 via igw-7"),
        "{error}"
    );
    script.finished();
}

#[tokio::test]
async fn invalid_properties_fail_before_any_call() {
    let script = Scripted::default();
    let mut props = sample();
    props.peer_vpc_cidr = "10.0.0.0/24".into();
    let error = script
        .resource()
        .create(&request("Create", None), props)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("overlap"), "{error}");
    assert!(script.finished().is_empty());
}
#[tokio::test]
async fn aws_errors_name_the_operation_and_carry_the_code() {
    let script = Scripted::default();
    script.then_error("us-east-1", "DescribeVpcPeeringConnections", "UnauthorizedOperation");
    let error = script
        .resource()
        .create(&request("Create", None), sample())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not list this resource's VPC peerings in us-east-1: UnauthorizedOperation: scripted UnauthorizedOperation"
    );
}
