//! EC2 for the shell tests, from `aws-smithy-mocks` rules: each helper is
//! one expected call that asserts its parameters and answers with typed
//! output. A test lists them in order with the region each must come from
//! ([`Script::expect`]); [`Script::finished`] checks that all came.

use super::{Outcome, Props, Request, VpcPeering};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::accept_vpc_peering_connection::AcceptVpcPeeringConnectionOutput;
use aws_sdk_ec2::operation::create_route::CreateRouteOutput;
use aws_sdk_ec2::operation::create_tags::CreateTagsOutput;
use aws_sdk_ec2::operation::create_vpc_peering_connection::CreateVpcPeeringConnectionOutput;
use aws_sdk_ec2::operation::delete_route::DeleteRouteOutput;
use aws_sdk_ec2::operation::delete_vpc_peering_connection::{
    DeleteVpcPeeringConnectionError, DeleteVpcPeeringConnectionOutput,
};
use aws_sdk_ec2::operation::describe_route_tables::{DescribeRouteTablesError, DescribeRouteTablesOutput};
use aws_sdk_ec2::operation::describe_vpc_peering_connections::{
    DescribeVpcPeeringConnectionsError, DescribeVpcPeeringConnectionsOutput,
};
use aws_sdk_ec2::operation::replace_route::ReplaceRouteOutput;
use aws_sdk_ec2::types::{
    ResourceType, Route, RouteTable, Tag, VpcPeeringConnection, VpcPeeringConnectionStateReason,
    VpcPeeringConnectionStateReasonCode, VpcPeeringConnectionVpcInfo,
};
use aws_smithy_mocks::Rule;
use aws_smithy_types::error::ErrorMetadata;
use std::time::Duration;
use tandem_core::cfn::{CustomResource, HandlerError};
pub(super) use tandem_testing::Script;
use tandem_testing::{mock, regional_clients};

/// This side of the peering (the function's region) and the peer's.
pub(super) const HOME: &str = "us-east-1";
/// The peer region.
pub(super) const PEER: &str = "us-east-2";
/// The stack that the test requests come from.
pub(super) const STACK: &str = "arn:aws:cloudformation:us-east-1:000000000000:stack/tandem-dev-global/5e1f";

/// A script of EC2 calls whose base region is [`HOME`].
pub(super) fn script() -> Script {
    Script::new(HOME)
}

/// The resource, with both regions' clients answered by `script`.
pub(super) fn resource(script: &Script) -> VpcPeering {
    VpcPeering::new(regional_clients!(aws_sdk_ec2, script))
}

/// The tags every peering of the resource `Peering` in [`STACK`] carries.
fn expected_tags() -> Vec<(String, String)> {
    [
        ("tandem:stack-id", STACK),
        ("tandem:logical-id", "Peering"),
        ("Name", "tandem-dev-global-Peering"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// An EC2 error with `code`.
fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message(format!("mocked {code}"))
        .build()
}

/// Peering `pcx` (vpc-0aaa in us-east-1 to vpc-0bbb in us-east-2) with
/// `status`; `tagged`: with this resource's tags.
pub(super) fn peering(pcx: &str, status: &str, tagged: bool) -> VpcPeeringConnection {
    let info = |vpc: &str, region: &str| {
        VpcPeeringConnectionVpcInfo::builder()
            .vpc_id(vpc)
            .region(region)
            .build()
    };
    let tags = if tagged {
        expected_tags()
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    } else {
        vec![]
    };
    VpcPeeringConnection::builder()
        .vpc_peering_connection_id(pcx)
        .requester_vpc_info(info("vpc-0aaa", HOME))
        .accepter_vpc_info(info("vpc-0bbb", PEER))
        .status(
            VpcPeeringConnectionStateReason::builder()
                .code(VpcPeeringConnectionStateReasonCode::from(status))
                .message(format!("mocked {status}"))
                .build(),
        )
        .set_tags(Some(tags))
        .build()
}

/// The lookup of this resource's peerings by tag, finding `found`.
pub(super) fn find_ours(found: Vec<VpcPeeringConnection>) -> Rule {
    mock!(Client::describe_vpc_peering_connections)
        .match_requests(|input| {
            let filters: Vec<(&str, Vec<String>)> = input
                .filters()
                .iter()
                .map(|f| (f.name().unwrap_or_default(), f.values().to_vec()))
                .collect();
            let want = [
                ("tag:tandem:stack-id", vec![STACK.to_owned()]),
                ("tag:tandem:logical-id", vec!["Peering".to_owned()]),
            ];
            assert_eq!(filters, want, "the lookup filters on this resource's tags");
            true
        })
        .then_output(move || {
            DescribeVpcPeeringConnectionsOutput::builder()
                .set_vpc_peering_connections(Some(found.clone()))
                .build()
        })
}

/// A look at peering `pcx` by id, finding `found` (`None`: not there).
pub(super) fn look(pcx: &'static str, found: Option<VpcPeeringConnection>) -> Rule {
    mock!(Client::describe_vpc_peering_connections)
        .match_requests(move |input| {
            assert_eq!(input.vpc_peering_connection_ids(), [pcx], "looks at one peering");
            true
        })
        .then_output(move || {
            DescribeVpcPeeringConnectionsOutput::builder()
                .set_vpc_peering_connections(Some(found.clone().into_iter().collect()))
                .build()
        })
}

/// A look at peering `pcx` that EC2 answers with `code`.
pub(super) fn look_fails(pcx: &'static str, code: &'static str) -> Rule {
    mock!(Client::describe_vpc_peering_connections)
        .match_requests(move |input| input.vpc_peering_connection_ids() == [pcx])
        .then_error(move || DescribeVpcPeeringConnectionsError::generic(meta(code)))
}

/// The request of a new peering from vpc-0aaa to vpc-0bbb in us-east-2,
/// tagged at creation, answered with `pcx` initiating.
pub(super) fn request_peering(pcx: &'static str) -> Rule {
    mock!(Client::create_vpc_peering_connection)
        .match_requests(|input| {
            assert_eq!(
                (input.vpc_id(), input.peer_vpc_id(), input.peer_region()),
                (Some("vpc-0aaa"), Some("vpc-0bbb"), Some(PEER))
            );
            let spec = &input.tag_specifications()[0];
            assert_eq!(spec.resource_type(), Some(&ResourceType::VpcPeeringConnection));
            assert_eq!(pairs(spec.tags()), expected_tags(), "tagged at creation");
            true
        })
        .then_output(move || {
            CreateVpcPeeringConnectionOutput::builder()
                .vpc_peering_connection(peering(pcx, "initiating-request", true))
                .build()
        })
}

/// The acceptance of `pcx`.
pub(super) fn accept(pcx: &'static str) -> Rule {
    mock!(Client::accept_vpc_peering_connection)
        .match_requests(move |input| {
            assert_eq!(input.vpc_peering_connection_id(), Some(pcx));
            true
        })
        .then_output(|| AcceptVpcPeeringConnectionOutput::builder().build())
}

/// The tagging of `pcx` with this resource's tags.
pub(super) fn tag(pcx: &'static str) -> Rule {
    mock!(Client::create_tags)
        .match_requests(move |input| {
            assert_eq!(input.resources(), [pcx]);
            assert_eq!(pairs(input.tags()), expected_tags(), "the same tags as at creation");
            true
        })
        .then_output(|| CreateTagsOutput::builder().build())
}

/// Route table `id` with `routes` (destination, target).
pub(super) fn read_table(id: &'static str, routes: &[(&str, &str)]) -> Rule {
    let routes: Vec<Route> = routes
        .iter()
        .map(|(destination, target)| {
            let route = Route::builder().destination_cidr_block(*destination);
            if target.starts_with("pcx-") {
                route.vpc_peering_connection_id(*target).build()
            } else {
                route.gateway_id(*target).build()
            }
        })
        .collect();
    let table = RouteTable::builder()
        .route_table_id(id)
        .set_routes(Some(routes))
        .build();
    mock!(Client::describe_route_tables)
        .match_requests(move |input| {
            assert_eq!(input.route_table_ids(), [id]);
            true
        })
        .then_output(move || DescribeRouteTablesOutput::builder().route_tables(table.clone()).build())
}

/// A read of route table `id` that does not exist.
pub(super) fn read_missing_table(id: &'static str) -> Rule {
    mock!(Client::describe_route_tables)
        .match_requests(move |input| input.route_table_ids() == [id])
        .then_error(|| DescribeRouteTablesError::generic(meta("InvalidRouteTableID.NotFound")))
}

/// Asserts that a route call names (table, destination, peering).
fn is_route(sent: (Option<&str>, Option<&str>, Option<&str>), want: (&str, &str, &str)) -> bool {
    assert_eq!(sent, (Some(want.0), Some(want.1), Some(want.2)), "the route call");
    true
}

/// A new route to `destination` via `pcx` in `table`.
pub(super) fn create_route(table: &'static str, destination: &'static str, pcx: &'static str) -> Rule {
    mock!(Client::create_route)
        .match_requests(move |input| {
            let route = (
                input.route_table_id(),
                input.destination_cidr_block(),
                input.vpc_peering_connection_id(),
            );
            is_route(route, (table, destination, pcx))
        })
        .then_output(|| CreateRouteOutput::builder().r#return(true).build())
}

/// The route to `destination` in `table` pointed at `pcx`.
pub(super) fn replace_route(table: &'static str, destination: &'static str, pcx: &'static str) -> Rule {
    mock!(Client::replace_route)
        .match_requests(move |input| {
            let route = (
                input.route_table_id(),
                input.destination_cidr_block(),
                input.vpc_peering_connection_id(),
            );
            is_route(route, (table, destination, pcx))
        })
        .then_output(|| ReplaceRouteOutput::builder().build())
}

/// The removal of the route to `destination` from `table`.
pub(super) fn delete_route(table: &'static str, destination: &'static str) -> Rule {
    mock!(Client::delete_route)
        .match_requests(move |input| {
            assert_eq!(
                (input.route_table_id(), input.destination_cidr_block()),
                (Some(table), Some(destination))
            );
            true
        })
        .then_output(|| DeleteRouteOutput::builder().build())
}

/// The deletion of `pcx`.
pub(super) fn delete_peering(pcx: &'static str) -> Rule {
    mock!(Client::delete_vpc_peering_connection)
        .match_requests(move |input| {
            assert_eq!(input.vpc_peering_connection_id(), Some(pcx));
            true
        })
        .then_output(|| DeleteVpcPeeringConnectionOutput::builder().r#return(true).build())
}

/// The deletion of `pcx`, which EC2 no longer knows.
pub(super) fn delete_missing_peering(pcx: &'static str) -> Rule {
    mock!(Client::delete_vpc_peering_connection)
        .match_requests(move |input| input.vpc_peering_connection_id() == Some(pcx))
        .then_error(|| DeleteVpcPeeringConnectionError::generic(meta("InvalidVpcPeeringConnectionID.NotFound")))
}

/// A request of `kind` for the resource `Peering` in stack [`STACK`].
pub(super) fn request(kind: &str, physical_id: Option<&str>) -> Request {
    serde_json::from_value(serde_json::json!({
        "RequestType": kind, "ResponseURL": "http://127.0.0.1:4566/x", "StackId": STACK, "RequestId": "r-1",
        "ResourceType": "Custom::VpcPeering", "LogicalResourceId": "Peering", "PhysicalResourceId": physical_id,
    }))
    .unwrap()
}

/// Polls like the runner until the operation finishes, collecting each wait.
pub(super) async fn run(
    resource: &VpcPeering,
    request: &Request,
    props: &Props,
    first: Result<Outcome, HandlerError>,
) -> (Result<Outcome, HandlerError>, Vec<(Option<String>, Duration)>) {
    let mut waits = Vec::new();
    let mut outcome = first;
    while let Ok(Outcome::InProgress {
        physical_id,
        state,
        check_after,
    }) = outcome
    {
        waits.push((physical_id, check_after));
        assert!(waits.len() < 10, "no end in sight");
        outcome = resource.poll(request, props.clone(), state).await;
    }
    (outcome, waits)
}

/// No peering of ours yet, so a new one is requested: pcx-1, initiating.
pub(super) fn requested_anew(script: &Script) {
    script
        .expect(HOME, find_ours(vec![]))
        .expect(HOME, request_peering("pcx-1"));
}

/// pcx-1 visible and pending in the peer region, accepted there, then
/// active in both regions.
pub(super) fn accepted_and_active(script: &Script) {
    script
        .expect(PEER, look("pcx-1", Some(peering("pcx-1", "pending-acceptance", false))))
        .expect(PEER, accept("pcx-1"));
    active_in_both(script);
}

/// pcx-1 found active in both regions.
pub(super) fn active_in_both(script: &Script) {
    script
        .expect(HOME, look("pcx-1", Some(peering("pcx-1", "active", true))))
        .expect(PEER, look("pcx-1", Some(peering("pcx-1", "active", false))));
}

/// pcx-1 tagged in the peer region, and one missing route added on each side.
pub(super) fn tagged_and_routed(script: &Script) {
    script
        .expect(PEER, tag("pcx-1"))
        .expect(HOME, read_table("rtb-0a1", &[("10.0.0.0/16", "local")]))
        .expect(HOME, create_route("rtb-0a1", "10.1.0.0/16", "pcx-1"))
        .expect(PEER, read_table("rtb-0b1", &[("10.1.0.0/16", "local")]))
        .expect(PEER, create_route("rtb-0b1", "10.0.0.0/16", "pcx-1"));
}
