//! The shell's Create, against mocked EC2: every call in order, in its
//! region, with its parameters and tags asserted by the rules in `mocked`.

use super::mocked::*;
use super::*;
use crate::vpc_peering::props::sample;
use aws_sdk_ec2::operation::describe_vpc_peering_connections::DescribeVpcPeeringConnectionsError;
use aws_smithy_types::error::ErrorMetadata;

#[tokio::test]
async fn create_requests_accepts_tags_and_routes_both_sides() {
    let script = script();
    requested_anew(&script);
    accepted_and_active(&script);
    tagged_and_routed(&script);
    let (resource, request, props) = (resource(&script), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, waits) = run(&resource, &request, &props, first).await;

    assert_eq!(outcome.unwrap(), done("pcx-1"));
    assert_eq!(
        waits,
        [(Some("pcx-1".to_string()), Duration::ZERO)],
        "the id is reported at once"
    );
    let calls: Vec<String> = script.finished().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        calls,
        [
            "DescribeVpcPeeringConnections",
            "CreateVpcPeeringConnection",
            "DescribeVpcPeeringConnections",
            "AcceptVpcPeeringConnection",
            "DescribeVpcPeeringConnections",
            "DescribeVpcPeeringConnections",
            "CreateTags",
            "DescribeRouteTables",
            "CreateRoute",
            "DescribeRouteTables",
            "CreateRoute",
        ]
    );
}

#[tokio::test]
async fn a_peering_not_yet_in_the_peer_region_is_polled_with_its_id_reported() {
    let script = script();
    requested_anew(&script);
    script
        .expect(PEER, look("pcx-1", None))
        .expect(PEER, look_fails("pcx-1", "InvalidVpcPeeringConnectionID.NotFound"));
    accepted_and_active(&script);
    tagged_and_routed(&script);
    let (resource, request, props) = (resource(&script), request("Create", None), sample());
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
    let script = script();
    let found = vec![peering("pcx-0", "deleted", true), peering("pcx-1", "active", true)];
    script
        .expect(HOME, find_ours(found))
        .expect(PEER, look("pcx-1", Some(peering("pcx-1", "active", false))))
        .expect(PEER, tag("pcx-1"))
        .expect(HOME, read_table("rtb-0a1", &[("10.1.0.0/16", "pcx-1")]))
        .expect(PEER, read_table("rtb-0b1", &[("10.0.0.0/16", "pcx-1")]));
    let (resource, request, props) = (resource(&script), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, _) = run(&resource, &request, &props, first).await;

    assert_eq!(outcome.unwrap(), done("pcx-1"));
    let calls = script.finished();
    assert!(
        calls
            .iter()
            .all(|c| c.operation != "CreateVpcPeeringConnection" && c.operation != "CreateRoute"),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_failed_peering_fails_the_create_with_the_aws_reason_after_reporting_its_id() {
    let script = script();
    requested_anew(&script);
    script.expect(PEER, look("pcx-1", Some(peering("pcx-1", "failed", false))));
    let (resource, request, props) = (resource(&script), request("Create", None), sample());
    let first = resource.create(&request, props.clone()).await;
    let (outcome, waits) = run(&resource, &request, &props, first).await;

    let error = outcome.unwrap_err().to_string();
    assert!(
        error.contains("VPC peering pcx-1") && error.contains("failed (mocked failed)"),
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
    let script = script();
    script
        .expect(HOME, find_ours(vec![peering("pcx-1", "active", true)]))
        .expect(PEER, look("pcx-1", Some(peering("pcx-1", "active", false))))
        .expect(PEER, tag("pcx-1"))
        .expect(HOME, read_table("rtb-0a1", &[("10.1.0.0/16", "igw-7")]));
    let (resource, request, props) = (resource(&script), request("Create", None), sample());
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
async fn invalid_properties_are_refused_before_any_call() {
    let mut props = sample();
    props.peer_vpc_cidr = "10.0.0.0/24".into();
    let error = VpcPeering::validate(&props).unwrap_err();
    assert!(error.contains("overlap"), "{error}");
}

#[tokio::test]
async fn aws_errors_name_the_operation_and_carry_the_code() {
    let script = script();
    script.expect(
        HOME,
        tandem_testing::mock!(aws_sdk_ec2::Client::describe_vpc_peering_connections).then_error(|| {
            let meta = ErrorMetadata::builder()
                .code("UnauthorizedOperation")
                .message("You are not authorized to perform this operation.")
                .build();
            DescribeVpcPeeringConnectionsError::generic(meta)
        }),
    );
    let error = resource(&script)
        .create(&request("Create", None), sample())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not list this resource's VPC peerings in us-east-1: UnauthorizedOperation: \
         You are not authorized to perform this operation."
    );
    script.finished();
}
