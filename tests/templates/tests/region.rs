//! Assertions on cfn/region.yaml: the service stack of one region.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use template_tests::{Template, name_carries, pattern_matches, policy_statements, statement_actions};

fn region() -> Template {
    Template::load("region.yaml")
}

/// `!ImportValue { "Fn::Sub": "tandem-${Env}-<name>" }` in long form.
fn import(name: &str) -> Value {
    json!({"Fn::ImportValue": {"Fn::Sub": format!("tandem-${{Env}}-{name}")}})
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn one_vpc_whose_cidr_is_a_per_region_parameter() {
    let t = region();
    t.resource_count_is("AWS::EC2::VPC", 1);
    t.has_resource_properties(
        "AWS::EC2::VPC",
        &json!({"CidrBlock": {"Ref": "VpcCidr"}, "EnableDnsSupport": true, "EnableDnsHostnames": true}),
    );
    let cidr = t.parameter("VpcCidr");
    assert!(
        cidr.get("Default").is_none(),
        "each region passes its own CIDR: no default"
    );
    let pattern = cidr["AllowedPattern"].as_str().expect("VpcCidr has an AllowedPattern");
    for ok in ["10.0.0.0/16", "10.1.0.0/16"] {
        assert!(pattern_matches(pattern, ok).unwrap(), "{pattern} must accept {ok}");
    }
    for bad in ["10.0.0.0/24", "192.168.0.0/16", "10.0.1.0/16", "not-a-cidr", ""] {
        assert!(!pattern_matches(pattern, bad).unwrap(), "{pattern} must refuse {bad}");
    }
    // The CIDRs come from parameters, not from a config file or a Mappings
    // table: no private CIDR is written into the template.
    let mappings: Vec<&String> = t.json()["Mappings"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        mappings,
        ["ElbLogDelivery"],
        "no CIDR Mappings: the CIDRs are parameters (the one table is ELB's log accounts)"
    );
    let text = t.json()["Resources"].to_string();
    for private in ["\"10.", "\"172.16.", "\"192.168."] {
        assert!(!text.contains(private), "a hard-coded CIDR ({private}...) in Resources");
    }
}

/// The public subnets route 0.0.0.0/0 to the internet gateway; the private ones do not.
fn subnet_route_tables(t: &Template) -> Vec<(String, String)> {
    t.resources_of("AWS::EC2::SubnetRouteTableAssociation")
        .iter()
        .map(|(_, r)| {
            let p = &r["Properties"];
            (
                p["SubnetId"]["Ref"].as_str().unwrap().to_string(),
                p["RouteTableId"]["Ref"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn routes_to_internet_gateway(t: &Template, route_table: &str) -> bool {
    t.find_resources(
        "AWS::EC2::Route",
        &json!({"RouteTableId": {"Ref": route_table}, "DestinationCidrBlock": "0.0.0.0/0"}),
    )
    .iter()
    .any(|(_, r)| {
        r["Properties"]["GatewayId"]
            .get("Ref")
            .and_then(Value::as_str)
            .is_some_and(|g| t.type_of(g) == "AWS::EC2::InternetGateway")
    })
}

#[test]
fn four_subnets_two_public_two_private_over_two_azs() {
    let t = region();
    t.resource_count_is("AWS::EC2::Subnet", 4);
    let associations = subnet_route_tables(&t);
    assert_eq!(
        associations.len(),
        4,
        "every subnet has a route table: {associations:?}"
    );
    let mut public = Vec::new();
    let mut private = Vec::new();
    for (subnet, table) in &associations {
        assert_eq!(t.type_of(subnet), "AWS::EC2::Subnet");
        if routes_to_internet_gateway(&t, table) {
            public.push(subnet.clone())
        } else {
            private.push(subnet.clone())
        }
    }
    assert_eq!(public, ["PublicSubnet1", "PublicSubnet2"]);
    assert_eq!(private, ["PrivateSubnet1", "PrivateSubnet2"]);
    let az = |id: &str| t.properties(id)["AvailabilityZone"].clone();
    let az_n = |n: u64| json!({"Fn::Select": [n, {"Fn::GetAZs": ""}]});
    assert_eq!((az("PublicSubnet1"), az("PublicSubnet2")), (az_n(0), az_n(1)));
    assert_eq!((az("PrivateSubnet1"), az("PrivateSubnet2")), (az_n(0), az_n(1)));
    // Four distinct /20s carved from the VPC's CIDR.
    let cidrs: BTreeSet<String> = t
        .resources_of("AWS::EC2::Subnet")
        .iter()
        .map(|(_, r)| r["Properties"]["CidrBlock"].to_string())
        .collect();
    assert_eq!(cidrs.len(), 4);
    for i in 0..4u64 {
        t.has_resource_properties(
            "AWS::EC2::Subnet",
            &json!({"CidrBlock": {"Fn::Select": [i, {"Fn::Cidr": [{"Ref": "VpcCidr"}, 4, 12]}]}, "VpcId": {"Ref": "Vpc"}}),
        );
    }
    // Private route tables are per AZ, so the peering can add routes to both.
    let private_tables: BTreeSet<&str> = associations
        .iter()
        .filter(|(s, _)| s.starts_with("Private"))
        .map(|(_, r)| r.as_str())
        .collect();
    assert_eq!(
        private_tables,
        ["PrivateRouteTable1", "PrivateRouteTable2"].into_iter().collect()
    );
}

#[test]
fn nat_gateways_one_on_aws_and_one_per_az_in_prod() {
    let t = region();
    t.resource_count_is("AWS::EC2::NatGateway", 2);
    assert_eq!(t.condition_of("NatGateway1"), Some("IsRealAws"));
    assert_eq!(t.condition_of("NatGateway2"), Some("NatPerAz"));
    assert_eq!(t.properties("NatGateway1")["SubnetId"], json!({"Ref": "PublicSubnet1"}));
    assert_eq!(t.properties("NatGateway2")["SubnetId"], json!({"Ref": "PublicSubnet2"}));
    for (env, real, per_az) in [("dev", true, false), ("prod", true, true), ("local", false, false)] {
        let c = t.conditions_for(&[("Env", env), ("Role", "primary"), ("DbOrigin", "writer")]);
        assert_eq!((c["IsRealAws"], c["NatPerAz"]), (real, per_az), "Env={env}");
    }
    // In dev the second AZ's private subnet shares the first NAT; in prod it has its own.
    let route = t.properties("PrivateDefaultRoute2");
    let dev = t.resolve(
        route,
        &t.conditions_for(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]),
    );
    let prod = t.resolve(
        route,
        &t.conditions_for(&[("Env", "prod"), ("Role", "primary"), ("DbOrigin", "writer")]),
    );
    assert_eq!(dev["NatGatewayId"], json!({"Ref": "NatGateway1"}));
    assert_eq!(prod["NatGatewayId"], json!({"Ref": "NatGateway2"}));
}

#[test]
fn vpc_flow_log_captures_all_traffic() {
    let t = region();
    t.resource_count_is("AWS::EC2::FlowLog", 1);
    let ids = t.has_resource_properties(
        "AWS::EC2::FlowLog",
        &json!({"ResourceType": "VPC", "ResourceId": {"Ref": "Vpc"}, "TrafficType": "ALL",
                "LogDestinationType": "cloud-watch-logs", "LogGroupName": {"Ref": "FlowLogGroup"}}),
    );
    assert_eq!(t.type_of("FlowLogGroup"), "AWS::Logs::LogGroup");
    assert_eq!(t.condition_of(&ids[0]), Some("IsRealAws"));
}

#[test]
fn fargate_task_definition_defaults_to_256_cpu_and_512_memory() {
    let t = region();
    // The template's own task definition is the never-run placeholder; the
    // release resource registers the real ones with the stack's size.
    t.resource_count_is("AWS::ECS::TaskDefinition", 1);
    t.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        &json!({"RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc"}),
    );
    t.has_resource_properties(
        "Custom::BlueGreenDeployment",
        &json!({"Cpu": {"Ref": "TaskCpu"}, "Memory": {"Ref": "TaskMemory"}}),
    );
    assert_eq!(t.parameter("TaskCpu")["Default"], json!("256"));
    assert_eq!(t.parameter("TaskMemory")["Default"], json!("512"));
}

#[test]
fn ecs_service_is_released_by_codedeploy_from_private_subnets() {
    // CodeDeploy is the default engine (tests/templates/tests/ecs_engine.rs has the other).
    let t = region().resolved(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    t.resource_count_is("AWS::ECS::Cluster", 1);
    t.resource_count_is("AWS::ECS::Service", 1);
    t.has_resource_properties(
        "AWS::ECS::Service",
        &json!({
            "LaunchType": "FARGATE",
            "DeploymentController": {"Type": "CODE_DEPLOY"},
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "AssignPublicIp": "DISABLED",
                "Subnets": [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}],
                "SecurityGroups": [{"Ref": "ServiceSecurityGroup"}]}},
            "LoadBalancers": [{"TargetGroupArn": {"Ref": "BlueTargetGroup"}}]
        }),
    );
}

#[test]
fn two_target_groups_health_check_slash_health() {
    let t = region();
    t.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 2);
    // The app contract's health path, /health (the sample app's) by default.
    assert_eq!(t.parameter("HealthPath")["Default"], "/health");
    let healthy = t.find_resources(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        &json!({"HealthCheckPath": {"Ref": "HealthPath"}, "TargetType": "ip", "VpcId": {"Ref": "Vpc"}}),
    );
    let ids: Vec<&str> = healthy.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["BlueTargetGroup", "GreenTargetGroup"]);
}

#[test]
fn listeners_redirect_80_serve_443_and_test_on_8443() {
    let t = region();
    t.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 3);
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        &json!({"Port": 80, "Protocol": "HTTP",
                "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Port": "443", "StatusCode": "HTTP_301"}}]}),
    );
    let prod = t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        &json!({"Port": 443, "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "BlueTargetGroup"}}]}),
    );
    let test = t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        &json!({"Port": 8443, "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "GreenTargetGroup"}}]}),
    );
    assert_eq!((prod[0].as_str(), test[0].as_str()), ("ProdListener", "TestListener"));
    // With a certificate both serve TLS and the redirect goes to HTTPS.
    let aws = t.conditions_for(&[
        ("Env", "prod"),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("CertificateArn", "arn:aws:acm:cert"),
    ]);
    for id in ["ProdListener", "TestListener"] {
        let p = t.resolve(t.properties(id), &aws);
        assert_eq!(p["Protocol"], "HTTPS", "{id}");
        assert_eq!(
            p["Certificates"],
            json!([{"CertificateArn": {"Ref": "CertificateArn"}}]),
            "{id}"
        );
    }
    let redirect = t.resolve(t.properties("RedirectListener"), &aws);
    assert_eq!(redirect["DefaultActions"][0]["RedirectConfig"]["Protocol"], "HTTPS");
}

/// Every ingress rule open to the internet, as (security group, from port, to port).
fn internet_ingress(t: &Template) -> BTreeSet<(String, i64, i64)> {
    let mut open = BTreeSet::new();
    let mut check = |group: String, rule: &Value| {
        if rule.get("CidrIp") == Some(&json!("0.0.0.0/0")) || rule.get("CidrIpv6") == Some(&json!("::/0")) {
            open.insert((
                group,
                rule["FromPort"].as_i64().unwrap_or(-1),
                rule["ToPort"].as_i64().unwrap_or(-1),
            ));
        }
    };
    for (id, r) in t.resources_of("AWS::EC2::SecurityGroup") {
        for rule in r["Properties"]["SecurityGroupIngress"].as_array().into_iter().flatten() {
            check(id.to_string(), rule);
        }
    }
    for (_, r) in t.resources_of("AWS::EC2::SecurityGroupIngress") {
        check(r["Properties"]["GroupId"].to_string(), &r["Properties"]);
    }
    open
}

#[test]
fn only_the_alb_accepts_the_internet_and_only_on_443_and_80() {
    let t = region();
    let open = internet_ingress(&t);
    let expected: BTreeSet<(String, i64, i64)> = [
        ("AlbSecurityGroup".to_string(), 80, 80),
        ("AlbSecurityGroup".to_string(), 443, 443),
    ]
    .into_iter()
    .collect();
    assert_eq!(open, expected);
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        &json!({"Scheme": "internet-facing", "SecurityGroups": [{"Ref": "AlbSecurityGroup"}],
                "Subnets": [{"Ref": "PublicSubnet1"}, {"Ref": "PublicSubnet2"}]}),
    );
    // The test listener is reachable from inside the VPC only; the tasks and the DB from their callers only.
    t.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        &json!({"SecurityGroupIngress": [{}, {}, {"FromPort": 8443, "CidrIp": {"Ref": "VpcCidr"}}]}),
    );
    t.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        &json!({"SecurityGroupIngress": [{"FromPort": 3306, "SourceSecurityGroupId": {"Ref": "ServiceSecurityGroup"}}, {}]}),
    );
}

#[test]
fn the_database_admits_mysql_from_this_regions_service_only() {
    // Each region's app uses its own region's database (the standby's its
    // replica): no database port is open across the peering, by address or
    // otherwise (a security group cannot be named across an inter-region
    // peering, so anything from there would be a CIDR).
    // (The writer's region also admits its rotation function, by its group:
    // tests/rotation.rs.)
    let t = region();
    t.resource_count_is("AWS::EC2::SecurityGroupIngress", 0);
    for db_origin in ["writer", "replica"] {
        let resolved = t.resolved(&[("Env", "prod"), ("Role", "standby"), ("DbOrigin", db_origin)]);
        let ingress = resolved.properties("DbSecurityGroup")["SecurityGroupIngress"]
            .as_array()
            .expect("inline rules (the local AWS refuses AWS::EC2::SecurityGroupIngress)")
            .clone();
        assert_eq!(
            ingress,
            [json!({"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306,
                    "SourceSecurityGroupId": {"Ref": "ServiceSecurityGroup"},
                    "Description": "from the service"})],
            "{db_origin}: one rule, this region's service tasks, by their group; nothing by CIDR"
        );
    }
    assert_eq!(t.properties("ServiceSecurityGroup")["VpcId"], json!({"Ref": "Vpc"}));
    assert_eq!(
        t.properties("Service")["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"],
        json!([{"Ref": "ServiceSecurityGroup"}]),
        "the group the database admits is the service's own"
    );
    // Every database instance, in either region, sits behind that group only.
    for id in ["WriterDb", "ReplicaDb"] {
        assert_eq!(
            t.properties(id)["VPCSecurityGroups"],
            json!([{"Ref": "DbSecurityGroup"}]),
            "{id}"
        );
    }
    assert!(
        !t.parameters().contains_key("PeerVpcCidr"),
        "nothing here needs the other region's addresses"
    );
}

#[test]
fn ecr_scans_on_push_is_immutable_and_expires_old_images() {
    let t = region();
    t.resource_count_is("AWS::ECR::Repository", 1);
    let ids = t.has_resource_properties(
        "AWS::ECR::Repository",
        &json!({"ImageScanningConfiguration": {"ScanOnPush": true}, "ImageTagMutability": "IMMUTABLE",
                "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": import("key-arn")}}),
    );
    let text = t.properties(&ids[0])["LifecyclePolicy"]["LifecyclePolicyText"]
        .as_str()
        .expect("a lifecycle policy");
    let policy: Value = serde_json::from_str(text).expect("the lifecycle policy is JSON");
    let rule = &policy["rules"][0];
    assert_eq!(rule["action"]["type"], "expire");
    assert_eq!(rule["selection"]["countType"], "imageCountMoreThan");
    assert!(rule["selection"]["countNumber"].as_u64().is_some_and(|n| n > 0));
}

#[test]
fn the_repository_name_is_an_output_for_destroy_to_empty() {
    let t = region();
    let ids = t.has_resource_properties(
        "AWS::ECR::Repository",
        &json!({"RepositoryName": {"Fn::Sub": "tandem-${Env}-app"}}),
    );
    assert_eq!(t.output("RepositoryName")["Value"], json!({"Ref": ids[0]}));
    assert!(
        t.condition_of(&ids[0]).is_none(),
        "the repository exists in every scenario"
    );
    assert!(
        t.outputs()["RepositoryName"].get("Condition").is_none(),
        "the output exists in every scenario"
    );
}

#[test]
fn ecr_replication_is_declared_and_runs_from_the_primary_on_aws() {
    let t = region();
    t.resource_count_is("AWS::ECR::ReplicationConfiguration", 1);
    let ids = t.has_resource_properties(
        "AWS::ECR::ReplicationConfiguration",
        &json!({"ReplicationConfiguration": {"Rules": [{
            "Destinations": [{"Region": {"Ref": "PeerRegion"}, "RegistryId": {"Ref": "AWS::AccountId"}}],
            "RepositoryFilters": [{"Filter": "tandem-", "FilterType": "PREFIX_MATCH"}]}]}}),
    );
    assert_eq!(t.condition_of(&ids[0]), Some("ReplicateFromHere"));
    for (env, role, expected) in [
        ("dev", "primary", true),
        ("dev", "standby", false),
        ("local", "primary", false),
    ] {
        let c = t.conditions_for(&[
            ("Env", env),
            ("Role", role),
            ("DbOrigin", if role == "primary" { "writer" } else { "replica" }),
        ]);
        assert_eq!(c["ReplicateFromHere"], expected, "Env={env} Role={role}");
    }
}

#[test]
fn rds_writer_is_multi_az_encrypted_private_with_7_day_backups() {
    let t = region();
    t.resource_count_is("AWS::RDS::DBInstance", 2);
    let writers = t.has_resource_properties(
        "AWS::RDS::DBInstance",
        &json!({"Engine": "mysql", "MultiAZ": true, "StorageEncrypted": true, "BackupRetentionPeriod": 7,
                "PubliclyAccessible": false, "DeletionProtection": {"Fn::If": ["IsProd", true, false]},
                "KmsKeyId": import("key-arn"), "DBSubnetGroupName": {"Ref": "DbSubnetGroup"}}),
    );
    assert_eq!(writers, ["WriterDb"]);
    assert_eq!(t.condition_of("WriterDb"), Some("BuiltAsWriter"));
    t.has_resource_properties(
        "AWS::RDS::DBSubnetGroup",
        &json!({"SubnetIds": [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]}),
    );
}

#[test]
fn standby_replica_reads_its_source_from_cross_region_outputs() {
    let t = region();
    let replicas = t.has_resource_properties(
        "AWS::RDS::DBInstance",
        &json!({"SourceDBInstanceIdentifier": {"Fn::GetAtt": ["PrimaryOutputs", "DbArn"]},
                "SourceRegion": {"Ref": "PeerRegion"}, "KmsKeyId": import("key-arn"),
                "PubliclyAccessible": false, "MultiAZ": true, "BackupRetentionPeriod": 7}),
    );
    assert_eq!(replicas, ["ReplicaDb"]);
    assert_eq!(t.condition_of("ReplicaDb"), Some("CreateReplica"));
    assert_eq!(t.type_of("PrimaryOutputs"), "Custom::CrossRegionOutputs");
    assert_eq!(t.properties("PrimaryOutputs")["Region"], json!({"Ref": "PeerRegion"}));
    assert_eq!(t.properties("PrimaryOutputs")["OutputKeys"], json!(["DbArn"]));
    assert!(
        t.outputs().contains_key("DbArn"),
        "the primary's stack exports what the standby reads"
    );
    // A promoted replica may be the only current copy: never deleted without a snapshot.
    assert_eq!(t.resource("ReplicaDb")["DeletionPolicy"], "Snapshot");
    assert_eq!(t.resource("ReplicaDb")["UpdateReplacePolicy"], "Snapshot");
    for (env, origin, expected) in [
        ("dev", "replica", true),
        ("prod", "replica", true),
        ("dev", "writer", false),
    ] {
        for role in ["primary", "standby"] {
            assert_eq!(
                t.conditions_for(&[("Env", env), ("Role", role), ("DbOrigin", origin)])["CreateReplica"],
                expected,
                "{env} {origin} as {role}"
            );
        }
    }
    assert!(!t.conditions_for(&[("Env", "local"), ("Role", "standby"), ("DbOrigin", "replica")])["CreateReplica"]);
}

#[test]
fn db_credentials_are_a_generated_secret() {
    let t = region();
    // The credentials, the endpoint override (below), and the chat
    // webhook's URL (tests/notify.rs).
    t.resource_count_is("AWS::SecretsManager::Secret", 3);
    t.has_resource_properties(
        "AWS::SecretsManager::Secret",
        &json!({"Name": {"Fn::Sub": "tandem-${Env}/db"}, "KmsKeyId": import("key-arn"),
                "GenerateSecretString": {"GenerateStringKey": "password", "PasswordLength": 32}}),
    );
    // The writer takes its credentials from it, never from a literal.
    let writer = t.properties("WriterDb");
    assert!(
        writer["MasterUserPassword"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .starts_with("{{resolve:secretsmanager:${DbSecret}")
    );
}

#[test]
fn every_region_has_its_own_endpoint_override_that_the_app_and_the_failover_read() {
    let t = region();
    let id = "DbEndpointSecret";
    assert_eq!(t.type_of(id), "AWS::SecretsManager::Secret");
    assert_eq!(t.condition_of(id), None, "in both regions: either may be promoted");
    let p = t.properties(id);
    assert_eq!(p["Name"], json!({"Fn::Sub": "tandem-${Env}/db-endpoint"}));
    assert_eq!(p["KmsKeyId"], import("key-arn"));
    assert!(p.get("ReplicaRegions").is_none(), "each region's own, never a replica");
    assert!(p.get("GenerateSecretString").is_none());
    for env in ["dev", "prod", "local"] {
        let r = region().resolved(&[
            ("Env", env),
            ("Role", "standby"),
            ("DbOrigin", "replica"),
            ("FailoverCodeKey", "failover/abc.zip"),
        ]);
        let name = json!({"Fn::Sub": "tandem-${Env}/db-endpoint"});
        assert_eq!(
            r.properties("Release")["Environment"]["TANDEM_DB_ENDPOINT_SECRET"],
            name,
            "{env}"
        );
        assert_eq!(
            r.properties("FailoverFunction")["Environment"]["Variables"]["TANDEM_DB_ENDPOINT_SECRET"],
            name,
            "{env}"
        );
    }
    assert_eq!(
        t.resource("Release")["DependsOn"],
        json!(id),
        "the tasks read it at start"
    );
    // The app may read it (and the credentials: tandem-<env>/db-*), and the
    // failover function read and write it and no other secret.
    for (role, action, suffix) in [
        ("TaskRole", "secretsmanager:GetSecretValue", "db-*"),
        ("FailoverRole", "secretsmanager:PutSecretValue", "db-endpoint-*"),
    ] {
        let statement = policy_statements(&t, role)
            .into_iter()
            .find(|s| statement_actions(s).contains(&action.to_owned()))
            .unwrap_or_else(|| panic!("{role} may not {action}"));
        let arn = statement["Resource"]["Fn::Sub"].as_str().unwrap();
        assert_eq!(
            arn,
            format!(
                "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:tandem-${{Env}}/{suffix}"
            ),
            "{role}: this region's tandem-<env>/db-endpoint-<suffix> is among those"
        );
    }
}

/// The endpoint secret's value as `env`'s stack, built as `origin`, creates it.
fn endpoint_value(env: &str, origin: &str, role: &str) -> Value {
    as_role(env, origin, role).properties("DbEndpointSecret")["SecretString"].clone()
}

#[test]
fn each_regions_app_uses_its_own_regions_database() {
    // The replica's region names its own replica instance (on AWS its
    // credentials secret is a replica of the writer's, whose host is the
    // other region's writer); the writer's region names nothing ({}), so its
    // credentials secret's own host, its writer, applies.
    let replica_endpoint =
        json!({"Fn::Sub": r#"{"host": "${ReplicaDb.Endpoint.Address}", "port": ${ReplicaDb.Endpoint.Port}}"#});
    for env in ["dev", "prod"] {
        for role in ["primary", "standby"] {
            let replica = as_role(env, "replica", role);
            assert_eq!(
                replica.properties("DbEndpointSecret")["SecretString"],
                replica_endpoint,
                "{env}, the replica's region as {role}"
            );
            assert_eq!(replica.type_of("ReplicaDb"), "AWS::RDS::DBInstance");
            assert!(
                replica
                    .properties("ReplicaDb")
                    .get("SourceDBInstanceIdentifier")
                    .is_some(),
                "{env}: the instance named is this region's read replica"
            );
            assert!(
                !replica.resources().contains_key("DbSecret"),
                "{env}: the credentials there are the writer's secret's replica, which names the writer's host"
            );
            assert_eq!(
                endpoint_value(env, "writer", role),
                "{}",
                "{env}, the writer's region as {role}"
            );
            assert!(
                as_role(env, "writer", role)
                    .resources()
                    .contains_key("DbSecretAttachment")
            );
        }
    }
    // Filled in, the value is the JSON object the app merges (app/src/secret/endpoint.rs).
    let text = replica_endpoint["Fn::Sub"]
        .as_str()
        .unwrap()
        .replace(
            "${ReplicaDb.Endpoint.Address}",
            "tandem-dev-db-replica.abc.us-east-2.rds.amazonaws.com",
        )
        .replace("${ReplicaDb.Endpoint.Port}", "3306");
    let filled: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        filled,
        json!({"host": "tandem-dev-db-replica.abc.us-east-2.rds.amazonaws.com", "port": 3306})
    );
    // The local AWS makes no replica: `{}` there, in both regions.
    for origin in ["writer", "replica"] {
        assert_eq!(endpoint_value("local", origin, "standby"), "{}", "local {origin}");
    }
}

#[test]
fn app_logs_go_to_the_ecs_log_group() {
    let t = region();
    let ids = t.has_resource_properties(
        "AWS::Logs::LogGroup",
        &json!({"LogGroupName": {"Fn::Sub": "/ecs/tandem-${Env}"}, "KmsKeyId": import("key-arn")}),
    );
    assert!(t.properties(&ids[0])["RetentionInDays"].as_u64().is_some_and(|d| d > 0));
    t.has_resource_properties("Custom::BlueGreenDeployment", &json!({"LogGroup": {"Ref": ids[0]}}));
}

#[test]
fn one_dashboard() {
    let t = region();
    t.resource_count_is("AWS::CloudWatch::Dashboard", 1);
}

#[test]
fn alarms_cover_5xx_health_latency_db_cpu_and_replica_lag_and_notify_ops() {
    let t = region();
    t.resource_count_is("AWS::CloudWatch::Alarm", 7);
    let primary = t.resolved(&[("Env", "prod"), ("Role", "primary"), ("DbOrigin", "writer")]);
    // On AWS the 5xx alarm is a rate: 5xx / requests, in percent.
    let five_xx = primary.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        &json!({"Threshold": 5, "ComparisonOperator": "GreaterThanThreshold",
                "Metrics": [{"Expression": "IF(requests > 0, 100 * errors / requests, 0)", "ReturnData": true},
                            {"MetricStat": {"Metric": {"MetricName": "HTTPCode_Target_5XX_Count"}}},
                            {"MetricStat": {"Metric": {"MetricName": "RequestCount"}}}]}),
    );
    let unhealthy = primary.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        &json!({"MetricName": "UnHealthyHostCount", "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}),
    );
    let latency = primary.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        &json!({"MetricName": "TargetResponseTime", "ExtendedStatistic": "p99"}),
    );
    let db_cpu = primary.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        &json!({"Namespace": "AWS/RDS", "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": {"Ref": "WriterDb"}}]}),
    );
    let fenced = primary.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        &json!({"Namespace": "tandem", "MetricName": "RegionFenced"}),
    );
    primary.resource_count_is("AWS::CloudWatch::Alarm", 6);
    // The standby watches its replica's lag (and its CPU).
    let standby = t.resolved(&[("Env", "prod"), ("Role", "standby"), ("DbOrigin", "replica")]);
    let lag = standby.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        &json!({"Namespace": "AWS/RDS", "MetricName": "ReplicaLag", "TreatMissingData": "breaching",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": {"Ref": "ReplicaDb"}}]}),
    );
    standby.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        &json!({"MetricName": "CPUUtilization", "Dimensions": [{"Value": {"Ref": "ReplicaDb"}}]}),
    );
    let all: BTreeSet<String> = [five_xx, unhealthy, latency, db_cpu, lag, fenced]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        all.len(),
        7,
        "seven distinct alarms (unhealthy hosts on either target group): {all:?}"
    );
    // Every alarm notifies the ops topic, in every scenario.
    let ops = json!([import("ops-topic-arn")]);
    for params in t.condition_scenarios(&[]) {
        let c = t.evaluate_conditions(&params).unwrap();
        for (id, alarm) in t.resources_of("AWS::CloudWatch::Alarm") {
            if t.is_created(id, &c) {
                assert_eq!(
                    t.resolve(alarm, &c)["Properties"]["AlarmActions"],
                    ops,
                    "{id} with {params:?}"
                );
            }
        }
    }
}

#[test]
fn the_peer_fenced_alarm_says_this_region_fences_the_other_and_holds_through_silence() {
    let t = region();
    let id = "PeerFencedAlarm";
    assert_eq!(t.type_of(id), "AWS::CloudWatch::Alarm");
    assert_eq!(
        t.condition_of(id),
        None,
        "in every region, whatever its role or environment"
    );
    let ops = json!([import("ops-topic-arn")]);
    assert_eq!(
        t.properties(id),
        &json!({
            "AlarmName": {"Fn::Sub": "tandem-${Env}-peer-fenced"},
            "AlarmDescription": t.properties(id)["AlarmDescription"],
            "Namespace": "tandem",
            "MetricName": "RegionFenced",
            "Dimensions": [{"Name": "Env", "Value": {"Ref": "Env"}},
                           {"Name": "Region", "Value": {"Ref": "PeerRegion"}}],
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "ignore",
            "AlarmActions": ops,
            "OKActions": ops
        }),
        "no fence is lifted by silence: missing data keeps the state"
    );
    // Not one of the release alarms: a fence is no reason to stop a deployment.
    let group = &t.properties("DeploymentGroup")["AlarmConfiguration"]["Alarms"];
    assert!(!group.to_string().contains(id), "{group}");
}

#[test]
fn the_alarm_watches_the_metric_the_failover_function_publishes() {
    // tandem_core::fence names the metric, its namespace and the alarm for
    // the failover function (which publishes) and the CLI (which reads the alarm).
    use tandem_core::fence;
    let t = region();
    let alarm = t.properties("PeerFencedAlarm");
    assert_eq!(alarm["Namespace"], fence::METRIC_NAMESPACE);
    assert_eq!(alarm["MetricName"], fence::METRIC_NAME);
    let name = alarm["AlarmName"]["Fn::Sub"].as_str().expect("a !Sub name");
    for env in ["dev", "prod", "local"] {
        assert_eq!(name.replace("${Env}", env), fence::alarm_name(env));
    }
    // The failover role may publish to that namespace and no other.
    let publish = policy_statements(&t, "FailoverRole")
        .into_iter()
        .find(|s| s["Sid"] == "PublishTheFence")
        .expect("FailoverRole publishes the fence");
    assert_eq!(
        publish["Condition"]["StringEquals"]["cloudwatch:namespace"],
        fence::METRIC_NAMESPACE
    );
}

#[test]
fn the_alarm_global_yaml_fences_with_is_the_one_each_region_makes() {
    // The two templates name it independently: this fails if they drift.
    let t = region();
    let alarm = t.properties("PeerFencedAlarm");
    let global = Template::load("global.yaml");
    let fences: Vec<&Value> = global
        .resources_of("AWS::Route53::HealthCheck")
        .into_iter()
        .map(|(_, r)| &r["Properties"]["HealthCheckConfig"])
        .filter(|c| c["Type"] == "CLOUDWATCH_METRIC")
        .collect();
    assert_eq!(fences.len(), 2, "one fence check per region");
    for fence in fences {
        assert_eq!(fence["AlarmIdentifier"]["Name"], alarm["AlarmName"]);
    }
    // Both stacks take the same Env, so the Subs render the same name.
    assert_eq!(
        t.parameter("Env")["AllowedValues"],
        global.parameter("Env")["AllowedValues"]
    );
}

#[test]
fn codedeploy_blue_green_with_automatic_rollback() {
    let t = region();
    t.resource_count_is("AWS::CodeDeploy::Application", 1);
    t.has_resource_properties("AWS::CodeDeploy::Application", &json!({"ComputePlatform": "ECS"}));
    t.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 1);
    let groups = t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        &json!({
            "ApplicationName": {"Ref": "DeployApplication"},
            "DeploymentStyle": {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"},
            "ECSServices": [{"ClusterName": {"Ref": "Cluster"}, "ServiceName": {"Fn::GetAtt": ["Service", "Name"]}}],
            "LoadBalancerInfo": {"TargetGroupPairInfoList": [{
                "TargetGroups": [{"Name": {"Fn::GetAtt": ["BlueTargetGroup", "TargetGroupName"]}},
                                 {"Name": {"Fn::GetAtt": ["GreenTargetGroup", "TargetGroupName"]}}],
                "ProdTrafficRoute": {"ListenerArns": [{"Ref": "ProdListener"}]},
                "TestTrafficRoute": {"ListenerArns": [{"Ref": "TestListener"}]}}]},
            "AlarmConfiguration": {"Enabled": true}
        }),
    );
    let rollback = &t.properties(&groups[0])["AutoRollbackConfiguration"];
    assert_eq!(rollback["Enabled"], true);
    let events: BTreeSet<&str> = rollback["Events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        events.contains("DEPLOYMENT_FAILURE") && events.contains("DEPLOYMENT_STOP_ON_ALARM"),
        "rollback events: {events:?}"
    );
    // The deployment is stopped by the release alarms.
    let alarms: BTreeSet<String> = t.properties(&groups[0])["AlarmConfiguration"]["Alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"]["Ref"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        alarms,
        set(&[
            "Alb5xxRateAlarm",
            "LatencyP99Alarm",
            "UnhealthyGreenHostsAlarm",
            "UnhealthyHostsAlarm"
        ])
    );
}

#[test]
fn service_scales_on_cpu() {
    let t = region();
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        &json!({"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
                "MinCapacity": {"Fn::If": ["HasImage", {"Ref": "DesiredCount"}, 0]},
                "MaxCapacity": {"Ref": "MaxCount"}}),
    );
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        &json!({"PolicyType": "TargetTrackingScaling", "ScalingTargetId": {"Ref": "ScalableTarget"},
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}),
    );
}

#[test]
fn prod_alb_has_a_waf_with_aws_managed_rules() {
    let t = region();
    t.resource_count_is("AWS::WAFv2::WebACL", 1);
    let acl = t.has_resource_properties("AWS::WAFv2::WebACL", &json!({"Scope": "REGIONAL"}));
    assert_eq!(t.condition_of(&acl[0]), Some("IsRealAws"), "dev and prod alike");
    let managed: BTreeSet<String> = t.properties(&acl[0])["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS")
        .map(|r| {
            r["Statement"]["ManagedRuleGroupStatement"]["Name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(managed.contains("AWSManagedRulesCommonRuleSet"), "{managed:?}");
    assert!(managed.len() >= 2, "{managed:?}");
    t.resource_count_is("AWS::WAFv2::WebACLAssociation", 1);
    let assoc = t.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        &json!({"ResourceArn": {"Ref": "Alb"}, "WebACLArn": {"Fn::GetAtt": [acl[0].as_str(), "Arn"]}}),
    );
    assert_eq!(t.condition_of(&assoc[0]), Some("IsRealAws"));
    for env in ["dev", "prod"] {
        assert!(t.conditions_for(&[("Env", env), ("Role", "primary"), ("DbOrigin", "writer")])["IsRealAws"]);
    }
}

/// Resource types the local AWS's CloudFormation lacks (docs/local-aws.md).
fn local_aws_lacks(resource_type: &str) -> bool {
    const EXACT: &[&str] = &[
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::FlowLog",
        "AWS::Route53::HealthCheck",
        "AWS::WAFv2::WebACLAssociation",
        "AWS::ECR::ReplicationConfiguration",
    ];
    EXACT.contains(&resource_type)
        || resource_type.starts_with("AWS::CodeDeploy::")
        || resource_type.starts_with("AWS::ApplicationAutoScaling::")
}

#[test]
fn every_type_the_local_aws_lacks_is_off_when_env_is_local() {
    let t = region();
    let lacking: Vec<(&str, &str)> = t
        .resources()
        .iter()
        .map(|(id, r)| (id.as_str(), r["Type"].as_str().unwrap()))
        .filter(|(_, ty)| local_aws_lacks(ty))
        .collect();
    assert!(
        lacking.len() >= 10,
        "the list covers NAT, EIP, flow log, CodeDeploy, scaling, WAF, ECR: {lacking:?}"
    );
    let scenarios = t.condition_scenarios(&[("Env", "local")]);
    assert!(scenarios.len() >= 4, "every Role and certificate value: {scenarios:?}");
    for params in &scenarios {
        let c = t.evaluate_conditions(params).unwrap();
        for (id, ty) in &lacking {
            assert!(t.condition_of(id).is_some(), "{id} ({ty}) has no Condition");
            assert!(
                !t.is_created(id, &c),
                "{id} ({ty}) would be created on the local AWS with {params:?}"
            );
        }
    }
    // And on AWS they exist: the guard is the local AWS, nothing else.
    let prod = t.conditions_for(&[("Env", "prod"), ("Role", "primary"), ("DbOrigin", "writer")]);
    for (id, ty) in &lacking {
        assert!(t.is_created(id, &prod), "{id} ({ty}) is missing from a prod primary");
    }
}

#[test]
fn every_reference_points_at_something_created_in_the_same_scenario() {
    let problems = region().dangling_references();
    assert!(problems.is_empty(), "dangling references:\n{}", problems.join("\n"));
}

#[test]
fn every_iam_role_name_carries_the_region_and_env() {
    let t = region();
    let roles = t.resources_of("AWS::IAM::Role");
    assert!(roles.len() >= 4, "{roles:?}");
    for (id, r) in roles {
        let name = r["Properties"]["RoleName"]["Fn::Sub"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} has no !Sub RoleName"));
        assert!(
            name.contains("${AWS::Region}"),
            "{id}: IAM is global, the role name needs the region: {name}"
        );
        assert!(name.contains("${Env}"), "{id}: {name}");
    }
}

#[test]
fn every_named_resource_carries_env_in_its_name() {
    let t = region();
    let named = t.named_resources();
    assert!(
        named.len() >= 20,
        "only {} named resources found: is NAME_PROPERTIES stale?",
        named.len()
    );
    for (id, prop, name) in named {
        assert!(
            name_carries(name, "Env"),
            "{id}.{prop} = {name} does not carry ${{Env}}"
        );
    }
}

#[test]
fn every_import_names_an_export_of_the_bootstrap_stack() {
    assert!(region().imports().len() >= 3, "{:?}", region().imports());
    let missing = region().imports_missing_from(&Template::load("bootstrap.yaml"));
    assert!(
        missing.is_empty(),
        "region.yaml imports what bootstrap.yaml does not export: {missing:?}"
    );
}

/// What a stack in `env`, built with `origin`, creates while its region has `role`.
fn as_role(env: &str, origin: &str, role: &str) -> Template {
    region().resolved(&[("Env", env), ("DbOrigin", origin), ("Role", role)])
}

#[test]
fn a_failover_keeps_every_database_and_secret() {
    // A deploy after a failover renders each region with its role swapped:
    // the databases, their secret and everything they hang on must not
    // change at all (CloudFormation would delete, replace or re-create them).
    // The endpoint secret too: CloudFormation writes its value again only
    // when the template's changes, and a failover must not change it.
    let kept = [
        "WriterDb",
        "ReplicaDb",
        "DbSecret",
        "DbSecretAttachment",
        "DbEndpointSecret",
        "DbSubnetGroup",
        "DbSecurityGroup",
        "PrimaryOutputs",
    ];
    // Only these follow the role: what gets replicated from here, and the
    // lag alarm of a replica that is still one.
    let follow_the_role = BTreeSet::from(["Replication", "ReplicaLagAlarm"]);
    for env in ["dev", "prod", "local"] {
        for origin in ["writer", "replica"] {
            let (before, after) = if origin == "writer" {
                (as_role(env, origin, "primary"), as_role(env, origin, "standby"))
            } else {
                (as_role(env, origin, "standby"), as_role(env, origin, "primary"))
            };
            for id in kept {
                assert_eq!(
                    before.resources().get(id),
                    after.resources().get(id),
                    "{env}, built as the {origin}: {id} must be the same resource before and after a failover"
                );
            }
            let changed = before.changed_resources(&after);
            assert!(
                changed.is_subset(&follow_the_role),
                "{env}, built as the {origin}: a role change also changes {changed:?}"
            );
            for output in ["DbArn", "DbEndpoint", "DbSecretName"] {
                assert_eq!(
                    before.outputs().get(output),
                    after.outputs().get(output),
                    "{env} {origin}: {output}"
                );
            }
        }
    }
    // On AWS each region has exactly one database, whatever the roles.
    for (origin, id) in [("writer", "WriterDb"), ("replica", "ReplicaDb")] {
        for role in ["primary", "standby"] {
            let rendered = as_role("prod", origin, role);
            let dbs: Vec<&str> = rendered
                .resources_of("AWS::RDS::DBInstance")
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert_eq!(dbs, [id], "{origin} as {role}");
        }
    }
    // The writer's secret replicates to the replica's region; that region
    // never makes its own (its name is the replica's).
    assert!(
        as_role("prod", "writer", "standby")
            .resources()
            .contains_key("DbSecret")
    );
    assert!(
        !as_role("prod", "replica", "primary")
            .resources()
            .contains_key("DbSecret")
    );
}

#[test]
fn the_db_origin_has_no_default_so_no_stack_gets_one_by_accident() {
    let t = region();
    assert!(t.parameter("DbOrigin").get("Default").is_none());
    assert_eq!(t.parameter("DbOrigin")["AllowedValues"], json!(["writer", "replica"]));
}
