//! A scripted EC2 for the shell tests: each test lists the calls it expects,
//! in order, with the answer to give, then checks what was sent. A scripted
//! HTTP client rather than `aws-smithy-mocks`, whose `test-util` features
//! would build every AWS crate a second time for the tests.

use super::{Outcome, Props, Request, VpcPeering};
use aws_sdk_ec2::Client;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_core::aws::RegionalClients;
use tandem_core::cfn::{CustomResource, HandlerError};

/// The stack that the test requests come from.
pub(super) const STACK: &str = "arn:aws:cloudformation:us-east-1:000000000000:stack/tandem-dev-global/5e1f";

/// One call as sent.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    pub(super) action: String,
    pub(super) params: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Script {
    /// (region, action, HTTP status, body) per expected call, in order.
    expected: Mutex<VecDeque<(&'static str, &'static str, u16, String)>>,
    sent: Mutex<Vec<Sent>>,
}

/// An HTTP client that answers EC2 calls from a script.
#[derive(Debug, Clone, Default)]
pub(super) struct Scripted(Arc<Script>);

/// Percent-decodes one part of a form body.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
                continue;
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

impl HttpConnector for Scripted {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = std::str::from_utf8(request.body().bytes().unwrap()).unwrap();
        let params: BTreeMap<String, String> = body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let host = request.uri().split('/').nth(2).unwrap_or_default();
        let region = host.split('.').nth(1).unwrap_or_default().to_owned();
        let action = params["Action"].clone();
        let next = self.0.expected.lock().unwrap().pop_front();
        let Some((want_region, want_action, status, body)) = next else {
            panic!("unexpected call {action} in {region}: the script is over");
        };
        assert_eq!(
            (region.as_str(), action.as_str()),
            (want_region, want_action),
            "{params:?}"
        );
        self.0.sent.lock().unwrap().push(Sent { action, params });
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Scripted {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl Scripted {
    /// Expects `action` in `region`, and answers with `inner` as its result.
    pub(super) fn then(&self, region: &'static str, action: &'static str, inner: &str) -> &Self {
        let body = format!(
            r#"<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>{inner}</{action}Response>"#
        );
        self.0.expected.lock().unwrap().push_back((region, action, 200, body));
        self
    }

    /// Expects `action` in `region`, and answers with the EC2 error `code`.
    pub(super) fn then_error(&self, region: &'static str, action: &'static str, code: &str) -> &Self {
        let body = format!(
            "<Response><Errors><Error><Code>{code}</Code><Message>scripted {code}</Message></Error></Errors>\
             <RequestID>r-1</RequestID></Response>"
        );
        self.0.expected.lock().unwrap().push_back((region, action, 400, body));
        self
    }

    /// Every call sent so far, after checking that the script was played out.
    pub(super) fn finished(&self) -> Vec<Sent> {
        let left = self.0.expected.lock().unwrap();
        let left: Vec<_> = left.iter().map(|(r, a, _, _)| format!("{a} in {r}")).collect();
        assert!(left.is_empty(), "expected calls that never came: {left:?}");
        self.0.sent.lock().unwrap().clone()
    }

    /// The resource, with both regions' clients answered by this script.
    pub(super) fn resource(&self) -> VpcPeering {
        let config = SdkConfig::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
                aws_sdk_ec2::config::Credentials::new("AKIDTEST", "secret", None, None, "tests"),
            ))
            .retry_config(RetryConfig::disabled())
            .http_client(self.clone())
            .build();
        VpcPeering::new(RegionalClients::new(&config, Client::new))
    }
}

/// The inner XML of peering `pcx` (vpc-0aaa in us-east-1 to vpc-0bbb in
/// us-east-2) with `status`; `tagged`: with this resource's tags.
pub(super) fn peering(pcx: &str, status: &str, tagged: bool) -> String {
    let tags = if tagged {
        format!(
            "<tagSet><item><key>tandem:stack-id</key><value>{STACK}</value></item>\
             <item><key>tandem:logical-id</key><value>Peering</value></item></tagSet>"
        )
    } else {
        String::new()
    };
    format!(
        "<vpcPeeringConnectionId>{pcx}</vpcPeeringConnectionId>\
         <requesterVpcInfo><vpcId>vpc-0aaa</vpcId><region>us-east-1</region></requesterVpcInfo>\
         <accepterVpcInfo><vpcId>vpc-0bbb</vpcId><region>us-east-2</region></accepterVpcInfo>\
         <status><code>{status}</code><message>scripted {status}</message></status>{tags}"
    )
}

/// A DescribeVpcPeeringConnections result with `items`.
pub(super) fn peerings(items: &[String]) -> String {
    let items: String = items.iter().map(|i| format!("<item>{i}</item>")).collect();
    format!("<vpcPeeringConnectionSet>{items}</vpcPeeringConnectionSet>")
}

/// A DescribeRouteTables result: table `id` with `routes` (destination, target).
pub(super) fn table(id: &str, routes: &[(&str, &str)]) -> String {
    let routes: String = routes
        .iter()
        .map(|(destination, target)| {
            let element = if target.starts_with("pcx-") {
                "vpcPeeringConnectionId"
            } else {
                "gatewayId"
            };
            format!(
                "<item><destinationCidrBlock>{destination}</destinationCidrBlock><{element}>{target}</{element}></item>"
            )
        })
        .collect();
    format!(
        "<routeTableSet><item><routeTableId>{id}</routeTableId><routeSet>{routes}</routeSet></item></routeTableSet>"
    )
}

/// The result of calls that answer only `true`.
pub(super) const OK: &str = "<return>true</return>";

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

/// The values of `keys` in a sent call (empty when absent).
pub(super) fn params(sent: &Sent, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| sent.params.get(*k).cloned().unwrap_or_default())
        .collect()
}

/// The calls to make a peering visible and pending in the peer region, then
/// accept it and see it active in both regions.
pub(super) fn accepted_and_active(script: &Scripted) {
    script
        .then(
            "us-east-2",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "pending-acceptance", false)]),
        )
        .then("us-east-2", "AcceptVpcPeeringConnection", "");
    active_in_both(script);
}

/// The peering found active in both regions.
pub(super) fn active_in_both(script: &Scripted) {
    script
        .then(
            "us-east-1",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "active", true)]),
        )
        .then(
            "us-east-2",
            "DescribeVpcPeeringConnections",
            &peerings(&[peering("pcx-1", "active", false)]),
        );
}

/// No peering of ours yet, so a new one is requested: pcx-1, initiating.
pub(super) fn requested_anew(script: &Scripted) {
    script
        .then("us-east-1", "DescribeVpcPeeringConnections", &peerings(&[]))
        .then(
            "us-east-1",
            "CreateVpcPeeringConnection",
            &format!(
                "<vpcPeeringConnection>{}</vpcPeeringConnection>",
                peering("pcx-1", "initiating-request", true)
            ),
        );
}

/// The calls to tag in the peer region and add one missing route on each side.
pub(super) fn tagged_and_routed(script: &Scripted) {
    script
        .then("us-east-2", "CreateTags", OK)
        .then(
            "us-east-1",
            "DescribeRouteTables",
            &table("rtb-0a1", &[("10.0.0.0/16", "local")]),
        )
        .then("us-east-1", "CreateRoute", OK)
        .then(
            "us-east-2",
            "DescribeRouteTables",
            &table("rtb-0b1", &[("10.1.0.0/16", "local")]),
        )
        .then("us-east-2", "CreateRoute", OK);
}
