//! Assertions on cfn/global.yaml: DNS failover and the VPC peering.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use template_tests::{Template, name_carries};

fn global() -> Template {
    Template::load("global.yaml")
}

fn get_att(resource: &str, attribute: &str) -> Value {
    json!({"Fn::GetAtt": [resource, attribute]})
}

/// The cross-region outputs resource that reads `region`'s parameter's stack.
fn outputs_reader(t: &Template, region_parameter: &str) -> String {
    let ids = t.has_resource_properties(
        "Custom::CrossRegionOutputs",
        &json!({"Region": {"Ref": region_parameter}, "StackName": {"Fn::Sub": "tandem-${Env}-region"},
                "ServiceToken": {"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-topology-arn"}}}),
    );
    assert_eq!(ids.len(), 1, "one reader for {region_parameter}");
    ids[0].clone()
}

#[test]
fn one_hosted_zone_unless_one_is_given() {
    let t = global();
    t.resource_count_is("AWS::Route53::HostedZone", 1);
    let zone = t.has_resource_properties("AWS::Route53::HostedZone", &json!({"Name": {"Ref": "DomainName"}}));
    assert_eq!(t.condition_of(&zone[0]), Some("CreateZone"));
    assert_eq!(t.parameter("HostedZoneId")["Default"], json!(""));
    assert!(t.conditions_for(&[("Env", "prod")])["CreateZone"]);
    assert!(!t.conditions_for(&[("Env", "prod"), ("HostedZoneId", "Z123")])["CreateZone"]);
}

#[test]
fn primary_and_secondary_alias_records_point_at_each_regions_alb() {
    let t = global();
    t.resource_count_is("AWS::Route53::RecordSet", 2);
    for (failover, region_parameter) in [("PRIMARY", "PrimaryRegion"), ("SECONDARY", "StandbyRegion")] {
        let reader = outputs_reader(&t, region_parameter);
        assert_eq!(t.type_of(&reader), "Custom::CrossRegionOutputs");
        let records = t.has_resource_properties(
            "AWS::Route53::RecordSet",
            &json!({
                "Type": "A", "Failover": failover, "Name": {"Ref": "DomainName"},
                "HostedZoneId": {"Fn::If": ["CreateZone", {"Ref": "Zone"}, {"Ref": "HostedZoneId"}]},
                "AliasTarget": {"DNSName": get_att(&reader, "AlbDnsName"),
                                "HostedZoneId": get_att(&reader, "AlbHostedZoneId"),
                                "EvaluateTargetHealth": true}
            }),
        );
        assert_eq!(records.len(), 1, "{failover}");
        // On AWS the record carries the health check of the same ALB.
        let aws = t.conditions_for(&[("Env", "prod")]);
        let record = t.resolve(t.properties(&records[0]), &aws);
        let check = record["HealthCheckId"]["Ref"].as_str().expect("a health check on AWS");
        assert_eq!(
            t.properties(check)["HealthCheckConfig"]["FullyQualifiedDomainName"],
            get_att(&reader, "AlbDnsName")
        );
        let local = t.resolve(t.properties(&records[0]), &t.conditions_for(&[("Env", "local")]));
        assert!(
            local.get("HealthCheckId").is_none(),
            "the local AWS has no health checks"
        );
    }
}

#[test]
fn two_https_health_checks_on_slash_health() {
    let t = global();
    t.resource_count_is("AWS::Route53::HealthCheck", 2);
    let checks = t.find_resources(
        "AWS::Route53::HealthCheck",
        &json!({"HealthCheckConfig": {"Type": {"Ref": "HealthCheckProtocol"}, "ResourcePath": "/health",
                                      "Port": 443, "FailureThreshold": 3}}),
    );
    assert_eq!(checks.len(), 2);
    assert_eq!(t.parameter("HealthCheckProtocol")["Default"], json!("HTTPS"));
    let https = t.conditions_for(&[("Env", "prod")]);
    for (id, r) in checks {
        assert_eq!(t.condition_of(id), Some("IsRealAws"));
        assert_eq!(
            t.resolve(&r["Properties"], &https)["HealthCheckConfig"]["EnableSNI"],
            json!(true),
            "{id}"
        );
    }
}

#[test]
fn one_peering_with_routes_on_both_sides() {
    let t = global();
    t.resource_count_is("Custom::VpcPeering", 1);
    t.resource_count_is("AWS::EC2::VPCPeeringConnection", 0);
    let primary = outputs_reader(&t, "PrimaryRegion");
    let standby = outputs_reader(&t, "StandbyRegion");
    t.has_resource_properties(
        "Custom::VpcPeering",
        &json!({
            "VpcId": get_att(&primary, "VpcId"), "VpcCidr": get_att(&primary, "VpcCidr"),
            "PeerVpcId": get_att(&standby, "VpcId"), "PeerVpcCidr": get_att(&standby, "VpcCidr"),
            "PeerRegion": {"Ref": "StandbyRegion"},
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
    for params in t.condition_scenarios(&[("Env", "local")]) {
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
    for (id, r) in t.resources_of("AWS::Route53::RecordSet") {
        assert!(
            name_carries(&r["Properties"]["SetIdentifier"], "Env"),
            "{id}.SetIdentifier"
        );
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
