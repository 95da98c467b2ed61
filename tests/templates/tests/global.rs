//! Assertions on cfn/global.yaml: DNS failover, its traffic fence and the
//! VPC peering.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use template_tests::{Template, name_carries};

fn global() -> Template {
    Template::load("global.yaml")
}

fn get_att(resource: &str, attribute: &str) -> Value {
    json!({"Fn::GetAtt": [resource, attribute]})
}

/// The roles before a failover (the stack lives in us-east-1, the
/// configured primary) and after one.
const NORMAL: [(&str, &str); 3] = [
    ("PrimaryRegion", "us-east-1"),
    ("StandbyRegion", "us-east-2"),
    ("PeerRegion", "us-east-2"),
];
const FLIPPED: [(&str, &str); 3] = [
    ("PrimaryRegion", "us-east-2"),
    ("StandbyRegion", "us-east-1"),
    ("PeerRegion", "us-east-2"),
];

/// The conditions for `params` plus the normal roles.
fn conditions(t: &Template, params: &[(&str, &str)]) -> template_tests::Conditions {
    t.conditions_for(&[params, &NORMAL[..]].concat())
}

/// The cross-region outputs resource that reads `region`: this one (where
/// the stack lives) or the other one, whatever their roles.
fn outputs_reader(t: &Template, region: Value) -> String {
    let ids = t.has_resource_properties(
        "Custom::CrossRegionOutputs",
        &json!({"Region": region, "StackName": {"Fn::Sub": "tandem-${Env}-region"},
                "ServiceToken": {"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-topology-arn"}}}),
    );
    assert_eq!(ids.len(), 1, "one reader for {region}");
    ids[0].clone()
}

fn here(t: &Template) -> String {
    outputs_reader(t, json!({"Ref": "AWS::Region"}))
}

fn other(t: &Template) -> String {
    outputs_reader(t, json!({"Ref": "PeerRegion"}))
}

/// The failover records (PRIMARY and SECONDARY on the service's name), as
/// (logical id, resource): not the regional names.
fn failover_records(t: &Template) -> Vec<(&str, &Value)> {
    t.resources_of("AWS::Route53::RecordSet")
        .into_iter()
        .filter(|(_, r)| r["Properties"].get("Failover").is_some())
        .collect()
}

/// A region's own name, `<region>.<domain>`, as the template writes it for
/// the region `region` names (`!Ref AWS::Region` or `!Ref PeerRegion`).
fn regional_name(region: &Value) -> Value {
    let name = region["Ref"]
        .as_str()
        .unwrap_or_else(|| panic!("a region is a !Ref, got {region}"));
    json!({"Fn::Sub": format!("${{{name}}}.${{DomainName}}")})
}

#[test]
fn one_hosted_zone_unless_one_is_given() {
    let t = global();
    t.resource_count_is("AWS::Route53::HostedZone", 1);
    let zone = t.has_resource_properties("AWS::Route53::HostedZone", &json!({"Name": {"Ref": "DomainName"}}));
    assert_eq!(t.condition_of(&zone[0]), Some("CreateZone"));
    assert_eq!(t.parameter("HostedZoneId")["Default"], json!(""));
    assert!(conditions(&t, &[("Env", "prod")])["CreateZone"]);
    assert!(!conditions(&t, &[("Env", "prod"), ("HostedZoneId", "Z123")])["CreateZone"]);
}

#[test]
fn primary_and_secondary_alias_records_point_at_each_regions_alb() {
    let t = global();
    // The two failover records and the two regional names.
    t.resource_count_is("AWS::Route53::RecordSet", 4);
    assert_eq!(failover_records(&t).len(), 2);
    let (here, other) = (here(&t), other(&t));
    // Before a failover the primary is this region; after one, the other.
    for (roles, primary, standby) in [(NORMAL, &here, &other), (FLIPPED, &other, &here)] {
        let aws = t.resolved(&[&[("Env", "prod")][..], &roles[..]].concat());
        for (failover, reader) in [("PRIMARY", primary), ("SECONDARY", standby)] {
            let records = aws.has_resource_properties(
                "AWS::Route53::RecordSet",
                &json!({
                    "Type": "A", "Failover": failover, "Name": {"Ref": "DomainName"},
                    "HostedZoneId": {"Ref": "Zone"},
                    "AliasTarget": {"DNSName": get_att(reader, "AlbDnsName"),
                                    "HostedZoneId": get_att(reader, "AlbHostedZoneId"),
                                    "EvaluateTargetHealth": true}
                }),
            );
            assert_eq!(records.len(), 1, "{failover} with {roles:?}");
            // On AWS the record's health check probes the same ALB, by its
            // region's own name (its endpoint child: see
            // every_record_is_fenced_by_the_other_regions_alarm).
            let (endpoint, _) = endpoint_and_fence(&aws, &records[0]);
            assert_eq!(
                aws.properties(&endpoint)["HealthCheckConfig"]["FullyQualifiedDomainName"],
                regional_name(&aws.properties(reader)["Region"]),
                "{failover} with {roles:?}"
            );
        }
        let local = t.resolved(&[&[("Env", "local")][..], &roles[..]].concat());
        for (id, record) in local.resources_of("AWS::Route53::RecordSet") {
            assert!(
                record["Properties"].get("HealthCheckId").is_none(),
                "{id}: the local AWS has no health checks"
            );
        }
    }
}

#[test]
fn a_failover_swaps_the_records_and_keeps_everything_else() {
    let t = global();
    for env in ["dev", "prod", "local"] {
        let before = t.resolved(&[&[("Env", env)][..], &NORMAL[..]].concat());
        let after = t.resolved(&[&[("Env", env)][..], &FLIPPED[..]].concat());
        let ids: BTreeSet<&String> = before.resources().keys().collect();
        assert_eq!(ids, after.resources().keys().collect(), "{env}: the same resources");
        // Compared as CloudFormation would: each region parameter by its value.
        let changed: BTreeSet<&str> = ids
            .iter()
            .filter(|id| with_values(before.resource(id), &NORMAL) != with_values(after.resource(id), &FLIPPED))
            .map(|id| id.as_str())
            .collect();
        assert_eq!(
            changed,
            BTreeSet::from(["PrimaryRecord", "StandbyRecord"]),
            "{env}: only the records follow the roles; the peering, the zone, the health checks and the readers stay"
        );
    }
}

#[test]
fn two_https_endpoint_checks_on_slash_health() {
    let t = global();
    // Per region: the endpoint, the fence and their AND.
    t.resource_count_is("AWS::Route53::HealthCheck", 6);
    let checks = t.find_resources(
        "AWS::Route53::HealthCheck",
        &json!({"HealthCheckConfig": {"Type": "HTTPS", "ResourcePath": "/health", "EnableSNI": true,
                                      "Port": 443, "FailureThreshold": 3}}),
    );
    assert_eq!(checks.len(), 2);
    let probing: Vec<&str> = t
        .resources_of("AWS::Route53::HealthCheck")
        .into_iter()
        .filter(|(_, r)| {
            r["Properties"]["HealthCheckConfig"]
                .get("FullyQualifiedDomainName")
                .is_some()
        })
        .map(|(id, _)| id)
        .collect();
    assert_eq!(probing.len(), 2, "only the HTTPS checks probe an endpoint: {probing:?}");
    assert!(
        !t.parameters().contains_key("HealthCheckProtocol"),
        "no plain-HTTP switch: every listener on AWS serves HTTPS"
    );
    for (id, _) in checks {
        assert_eq!(t.condition_of(id), Some("IsRealAws"));
    }
}

/// The children of the CALCULATED check a record follows, as (its HTTPS
/// endpoint check, its CLOUDWATCH_METRIC fence check), after asserting the
/// shape: an AND (HealthThreshold = the number of children) over exactly one
/// of each.
fn endpoint_and_fence(t: &Template, record: &str) -> (String, String) {
    let check = t.properties(record)["HealthCheckId"]["Ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{record}: a health check on AWS"));
    assert_eq!(t.type_of(check), "AWS::Route53::HealthCheck", "{record}");
    let config = &t.properties(check)["HealthCheckConfig"];
    assert_eq!(config["Type"], "CALCULATED", "{record} follows {check}");
    let children: Vec<&str> = config["ChildHealthChecks"]
        .as_array()
        .unwrap_or_else(|| panic!("{check} has ChildHealthChecks"))
        .iter()
        .map(|c| {
            c["Ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{check}: a child by !Ref, got {c}"))
        })
        .collect();
    assert_eq!(
        config["HealthThreshold"],
        json!(children.len()),
        "{check}: healthy only while every child is (an AND)"
    );
    let of_type = |ty: &str| -> Vec<&str> {
        children
            .iter()
            .copied()
            .filter(|c| t.properties(c)["HealthCheckConfig"]["Type"] == ty)
            .collect()
    };
    let (endpoint, fence) = (of_type("HTTPS"), of_type("CLOUDWATCH_METRIC"));
    assert_eq!(
        (endpoint.len(), fence.len(), children.len()),
        (1, 1, 2),
        "{check}: exactly one endpoint check and one alarm check, got {children:?}"
    );
    (endpoint[0].to_string(), fence[0].to_string())
}

/// The concrete region a value names, for a stack in `here` whose
/// `PeerRegion` is `peer`.
fn region_named(value: &Value, here: &str, peer: &str) -> String {
    match value["Ref"].as_str() {
        Some("AWS::Region") => here.to_string(),
        Some("PeerRegion") => peer.to_string(),
        _ => panic!("a region is !Ref AWS::Region or !Ref PeerRegion, got {value}"),
    }
}

#[test]
fn every_record_is_fenced_by_the_other_regions_alarm() {
    let t = global();
    let alarm = Template::load("region.yaml");
    let alarm_name = &alarm.properties("PeerFencedAlarm")["AlarmName"];
    // The stack in either region (where the configured primary is), with
    // either role order, in each AWS environment.
    for (here, peer) in [("us-east-1", "us-east-2"), ("us-east-2", "us-east-1")] {
        for (primary, standby) in [(here, peer), (peer, here)] {
            for env in ["dev", "prod"] {
                let aws = t.resolved(&[
                    ("Env", env),
                    ("PrimaryRegion", primary),
                    ("StandbyRegion", standby),
                    ("PeerRegion", peer),
                ]);
                let scenario = format!("{env}, stack in {here}, primary {primary}");
                let records = failover_records(&aws);
                assert_eq!(records.len(), 2, "{scenario}");
                let mut fenced_by = Vec::new();
                for (record, r) in records {
                    // The record's region: the one whose ALB it points at.
                    let reader = r["Properties"]["AliasTarget"]["DNSName"]["Fn::GetAtt"][0]
                        .as_str()
                        .unwrap_or_else(|| panic!("{scenario}: {record} aliases an ALB read across regions"));
                    let record_region = region_named(&aws.properties(reader)["Region"], here, peer);
                    let expected = if r["Properties"]["Failover"] == "PRIMARY" {
                        primary
                    } else {
                        standby
                    };
                    assert_eq!(record_region, expected, "{scenario}: {record}");
                    let (endpoint, fence) = endpoint_and_fence(&aws, record);
                    let probed = &aws.properties(&endpoint)["HealthCheckConfig"]["FullyQualifiedDomainName"];
                    assert_eq!(
                        probed,
                        &regional_name(&aws.properties(reader)["Region"]),
                        "{scenario}: {record}'s endpoint check probes its own region's name"
                    );
                    assert_eq!(
                        sub_region(probed, here, peer),
                        format!("{record_region}.{DOMAIN}"),
                        "{scenario}: {record}"
                    );
                    assert_eq!(
                        alias_of_name(&aws, probed),
                        get_att(reader, "AlbDnsName"),
                        "{scenario}: {record}'s endpoint check's name leads to the ALB the record aliases"
                    );
                    let config = &aws.properties(&fence)["HealthCheckConfig"];
                    assert_eq!(
                        &config["AlarmIdentifier"]["Name"], alarm_name,
                        "{scenario}: {record} watches region.yaml's PeerFencedAlarm"
                    );
                    let alarm_region = region_named(&config["AlarmIdentifier"]["Region"], here, peer);
                    assert_ne!(
                        alarm_region, record_region,
                        "{scenario}: {record} ({record_region}) must watch the OTHER region's alarm, which says that region fenced this one"
                    );
                    assert!(
                        [here, peer].contains(&alarm_region.as_str()),
                        "{scenario}: {alarm_region}"
                    );
                    assert_eq!(
                        config["InsufficientDataHealthStatus"], "LastKnownStatus",
                        "{scenario}: {record}: a gap in the alarm's data keeps the fence (Unhealthy would darken a healthy primary while the standby region is down)"
                    );
                    fenced_by.push(alarm_region);
                }
                fenced_by.sort();
                assert_eq!(
                    fenced_by,
                    [here.min(peer), here.max(peer)],
                    "{scenario}: one fence per region"
                );
            }
        }
    }
    assert_eq!(alarm_name, &json!({"Fn::Sub": "tandem-${Env}-peer-fenced"}));
    // The fence checks, like the endpoint ones, are keyed by region, never by role.
    for id in ["HereFenceCheck", "OtherFenceCheck", "HereServing", "OtherServing"] {
        assert_eq!(t.condition_of(id), Some("IsRealAws"), "{id}");
    }
}

/// The domain the scenarios below give the stack.
const DOMAIN: &str = "app.example.com";

/// A `!Sub "${AWS::Region}.${DomainName}"` (or `${PeerRegion}`) name as a
/// stack in `here` whose peer is `peer` makes it, with [`DOMAIN`].
fn sub_region(name: &Value, here: &str, peer: &str) -> String {
    name["Fn::Sub"]
        .as_str()
        .unwrap_or_else(|| panic!("a !Sub name, got {name}"))
        .replace("${AWS::Region}", here)
        .replace("${PeerRegion}", peer)
        .replace("${DomainName}", DOMAIN)
}

/// The ALB DNS name that the record named `name` aliases (it must be one
/// record, with no failover routing).
fn alias_of_name(t: &Template, name: &Value) -> Value {
    let records: Vec<&Value> = t
        .resources_of("AWS::Route53::RecordSet")
        .into_iter()
        .filter(|(_, r)| &r["Properties"]["Name"] == name)
        .map(|(_, r)| r)
        .collect();
    assert_eq!(records.len(), 1, "one record named {name}");
    records[0]["Properties"]["AliasTarget"]["DNSName"].clone()
}

#[test]
fn each_region_has_its_own_name_an_alias_to_its_alb_whatever_the_roles() {
    let t = global();
    // The stack in either region, with either role order, in each AWS
    // environment and on the local AWS (the names exist there too).
    for (here, peer) in [("us-east-1", "us-east-2"), ("us-east-2", "us-east-1")] {
        for (primary, standby) in [(here, peer), (peer, here)] {
            for env in ["dev", "prod", "local"] {
                let r = t.resolved(&[
                    ("Env", env),
                    ("PrimaryRegion", primary),
                    ("StandbyRegion", standby),
                    ("PeerRegion", peer),
                    ("DomainName", DOMAIN),
                ]);
                let scenario = format!("{env}, stack in {here}, primary {primary}");
                let regional: Vec<(&str, &Value)> = r
                    .resources_of("AWS::Route53::RecordSet")
                    .into_iter()
                    .filter(|(_, rec)| rec["Properties"].get("Failover").is_none())
                    .collect();
                let mut names = Vec::new();
                for (id, rec) in &regional {
                    let p = &rec["Properties"];
                    assert_eq!(p["Type"], "A", "{scenario}: {id}");
                    assert_eq!(p["HostedZoneId"], json!({"Ref": "Zone"}), "{scenario}: {id}");
                    for routing in ["SetIdentifier", "HealthCheckId", "Weight", "Region"] {
                        assert!(
                            p.get(routing).is_none(),
                            "{scenario}: {id} is a simple record ({routing})"
                        );
                    }
                    // The ALB it aliases is the region its name names.
                    let reader = p["AliasTarget"]["DNSName"]["Fn::GetAtt"][0]
                        .as_str()
                        .unwrap_or_else(|| panic!("{scenario}: {id} aliases an ALB read across regions"));
                    let alb_region = region_named(&r.properties(reader)["Region"], here, peer);
                    assert_eq!(
                        p["AliasTarget"],
                        json!({"DNSName": get_att(reader, "AlbDnsName"),
                               "HostedZoneId": get_att(reader, "AlbHostedZoneId"),
                               "EvaluateTargetHealth": false}),
                        "{scenario}: {id} (the name reaches its ALB even when no target is healthy)"
                    );
                    let name = sub_region(&p["Name"], here, peer);
                    assert_eq!(name, format!("{alb_region}.{DOMAIN}"), "{scenario}: {id}");
                    names.push(name);
                }
                names.sort();
                assert_eq!(
                    names,
                    [format!("us-east-1.{DOMAIN}"), format!("us-east-2.{DOMAIN}")],
                    "{scenario}: one name per region"
                );
            }
        }
    }
}

#[test]
fn each_endpoint_check_probes_its_regions_own_name_with_sni() {
    let t = global();
    for (check, reader) in [("HereHealthCheck", here(&t)), ("OtherHealthCheck", other(&t))] {
        let config = &t.properties(check)["HealthCheckConfig"];
        let region = &t.properties(&reader)["Region"];
        assert_eq!(config["FullyQualifiedDomainName"], regional_name(region), "{check}");
        assert_eq!(
            alias_of_name(&t, &config["FullyQualifiedDomainName"]),
            get_att(&reader, "AlbDnsName"),
            "{check}: the name is an alias to the ALB of the region it checks"
        );
        assert_eq!(
            (
                &config["Type"],
                &config["Port"],
                &config["ResourcePath"],
                &config["EnableSNI"]
            ),
            (&json!("HTTPS"), &json!(443), &json!("/health"), &json!(true)),
            "{check}: the name the certificate covers, sent as SNI"
        );
        assert!(config.get("IPAddress").is_none(), "{check}: resolved by name");
        // Never the ALB's own DNS name, which the certificate does not cover.
        assert!(
            !template_tests::references(config).contains(&reader),
            "{check} probes {reader}'s ALB name"
        );
    }
}

#[test]
fn the_outputs_name_each_regions_own_name() {
    let t = global();
    assert_eq!(
        t.output("RegionalName")["Value"],
        regional_name(&json!({"Ref": "AWS::Region"}))
    );
    assert_eq!(
        t.output("PeerRegionalName")["Value"],
        regional_name(&json!({"Ref": "PeerRegion"}))
    );
}

/// `value` with each `{"Ref": name}` of `params` replaced by its value.
fn with_values(value: &Value, params: &[(&str, &str)]) -> Value {
    match value {
        Value::Object(o) => {
            if let Some(Value::String(name)) = o.get("Ref")
                && let Some((_, v)) = params.iter().find(|(k, _)| k == name)
            {
                return json!(v);
            }
            Value::Object(o.iter().map(|(k, v)| (k.clone(), with_values(v, params))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| with_values(v, params)).collect()),
        other => other.clone(),
    }
}

#[test]
fn one_peering_with_routes_on_both_sides() {
    let t = global();
    t.resource_count_is("Custom::VpcPeering", 1);
    t.resource_count_is("AWS::EC2::VPCPeeringConnection", 0);
    // Requested from this region, whatever its role.
    let primary = here(&t);
    let standby = other(&t);
    t.has_resource_properties(
        "Custom::VpcPeering",
        &json!({
            "VpcId": get_att(&primary, "VpcId"), "VpcCidr": get_att(&primary, "VpcCidr"),
            "PeerVpcId": get_att(&standby, "VpcId"), "PeerVpcCidr": get_att(&standby, "VpcCidr"),
            "PeerRegion": {"Ref": "PeerRegion"},
            "RouteTableIds": [get_att(&primary, "PrivateRouteTable1Id"), get_att(&primary, "PrivateRouteTable2Id")],
            "PeerRouteTableIds": [get_att(&standby, "PrivateRouteTable1Id"), get_att(&standby, "PrivateRouteTable2Id")]
        }),
    );
}

#[test]
fn every_output_read_across_regions_is_requested_and_exported_by_the_region_stack() {
    let t = global();
    let region_outputs: BTreeSet<String> = Template::load("region.yaml").outputs().keys().cloned().collect();
    for (reader, r) in t.resources_of("Custom::CrossRegionOutputs") {
        let requested: BTreeSet<String> = r["Properties"]["OutputKeys"]
            .as_array()
            .expect("OutputKeys is a list")
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        for key in &requested {
            assert!(
                region_outputs.contains(key),
                "{reader} asks for {key}, which region.yaml does not output"
            );
        }
        let used = used_attributes(t.json(), reader);
        assert!(!used.is_empty());
        for key in used {
            assert!(
                requested.contains(&key),
                "{reader}.{key} is used but not in its OutputKeys"
            );
        }
    }
}

/// The attributes of `resource` that the template reads with `Fn::GetAtt`.
fn used_attributes(v: &Value, resource: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(a)) = o.get("Fn::GetAtt")
                && a[0] == resource
            {
                out.insert(a[1].as_str().unwrap().to_string());
            }
            o.values().for_each(|v| out.extend(used_attributes(v, resource)));
        }
        Value::Array(a) => a.iter().for_each(|v| out.extend(used_attributes(v, resource))),
        _ => {}
    }
    out
}

#[test]
fn every_import_names_an_export_of_the_bootstrap_stack() {
    assert!(!global().imports().is_empty());
    let missing = global().imports_missing_from(&Template::load("bootstrap.yaml"));
    assert!(
        missing.is_empty(),
        "global.yaml imports what bootstrap.yaml does not export: {missing:?}"
    );
}

#[test]
fn health_checks_are_off_on_the_local_aws() {
    let t = global();
    for params in t.condition_scenarios(&[&[("Env", "local")][..], &NORMAL[..]].concat()) {
        let c = t.evaluate_conditions(&params).unwrap();
        for (id, _) in t.resources_of("AWS::Route53::HealthCheck") {
            assert!(
                !t.is_created(id, &c),
                "{id} would be created on the local AWS with {params:?}"
            );
        }
    }
}

#[test]
fn every_named_thing_carries_env() {
    let t = global();
    for (id, r) in failover_records(&t) {
        assert!(
            name_carries(&r["Properties"]["SetIdentifier"], "Env"),
            "{id}.SetIdentifier"
        );
    }
    // The regional names are under the environment's own domain.
    for (id, r) in t.resources_of("AWS::Route53::RecordSet") {
        assert!(name_carries(&r["Properties"]["Name"], "DomainName"), "{id}.Name");
    }
    for (id, r) in t.resources_of("AWS::Route53::HealthCheck") {
        let tags = r["Properties"]["HealthCheckTags"]
            .as_array()
            .expect("health checks are tagged");
        assert!(
            tags.iter()
                .any(|tag| tag["Key"] == "Name" && name_carries(&tag["Value"], "Env")),
            "{id}"
        );
    }
    for (id, prop, name) in t.named_resources() {
        assert!(name_carries(name, "Env"), "{id}.{prop} = {name}");
    }
}

#[test]
fn every_reference_points_at_something_created_in_the_same_scenario() {
    let problems = global().dangling_references();
    assert!(problems.is_empty(), "dangling references:\n{}", problems.join("\n"));
}
