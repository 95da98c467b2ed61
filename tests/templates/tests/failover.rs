//! The failover function in cfn/region.yaml: what triggers it, what it is
//! told, that nothing it needs to promote is in the other region (static
//! stability: there it may only read that region's roles and fences), that
//! a role change does not touch it, and that its role can do its job and no
//! more.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use template_tests::{Template, policy_statements as statements, references, statement_actions as actions};

fn region(env: &str, origin: &str, role: &str) -> Template {
    Template::load("region.yaml").resolved(&[
        ("Env", env),
        ("Role", role),
        ("DbOrigin", origin),
        ("FailoverCodeKey", "failover/abc.zip"),
        ("PeerHealthUrl", "https://peer.example/health"),
    ])
}

fn env_vars(t: &Template) -> Value {
    t.properties("FailoverFunction")["Environment"]["Variables"].clone()
}

#[test]
fn without_code_there_is_no_failover_function_yet() {
    let t = Template::load("region.yaml").resolved(&[("Env", "dev"), ("Role", "standby"), ("DbOrigin", "replica")]);
    for id in ["FailoverFunction", "FailoverSchedule", "FailoverPeerAlarmsRule"] {
        assert!(!t.resources().contains_key(id), "{id}");
    }
}

#[test]
fn it_is_told_this_regions_database_and_endpoint_secret_and_both_health_urls() {
    let replica = env_vars(&region("dev", "replica", "standby"));
    assert_eq!(
        replica["TANDEM_DB_INSTANCE"],
        json!({"Fn::Sub": "tandem-${Env}-db-replica"})
    );
    // The endpoint secret is the one it writes; it reads no credentials.
    assert_eq!(
        replica["TANDEM_DB_ENDPOINT_SECRET"],
        json!({"Fn::Sub": "tandem-${Env}/db-endpoint"})
    );
    assert!(replica.get("TANDEM_DB_SECRET").is_none(), "{replica}");
    assert_eq!(replica["TANDEM_CONFIGURED_PRIMARY"], json!({"Ref": "PeerRegion"}));
    assert_eq!(replica["TANDEM_PEER_HEALTH_URL"], json!({"Ref": "PeerHealthUrl"}));
    assert_eq!(
        replica["TANDEM_OWN_HEALTH_URL"],
        json!({"Fn::Sub": "https://${Alb.DNSName}${HealthPath}"}),
        "outside local the ALB serves HTTPS only"
    );
    let writer = env_vars(&region("dev", "writer", "primary"));
    assert_eq!(writer["TANDEM_DB_INSTANCE"], json!({"Fn::Sub": "tandem-${Env}-db"}));
    assert_eq!(writer["TANDEM_CONFIGURED_PRIMARY"], json!({"Ref": "AWS::Region"}));
    let with_tls = Template::load("region.yaml").resolved(&[
        ("Env", "prod"),
        ("Role", "standby"),
        ("DbOrigin", "replica"),
        ("FailoverCodeKey", "failover/abc.zip"),
        ("CertificateArn", "arn:aws:acm:us-east-2:1:certificate/x"),
    ]);
    assert_eq!(
        env_vars(&with_tls)["TANDEM_OWN_HEALTH_URL"],
        json!({"Fn::Sub": "https://${Alb.DNSName}${HealthPath}"})
    );
    let local = Template::load("region.yaml").resolved(&[
        ("Env", "local"),
        ("Role", "standby"),
        ("DbOrigin", "replica"),
        ("FailoverCodeKey", "failover/abc.zip"),
        ("HealthUrl", "http://127.0.0.1:18082/health"),
    ]);
    assert_eq!(env_vars(&local)["TANDEM_OWN_HEALTH_URL"], json!({"Ref": "HealthUrl"}));
}

#[test]
fn a_role_change_leaves_the_function_and_its_role_alone() {
    // It reads the roles from the state table at run time: a deploy after a
    // failover must not change what it is told (it may be mid-promotion).
    for origin in ["writer", "replica"] {
        let (a, b) = (region("prod", origin, "primary"), region("prod", origin, "standby"));
        for id in [
            "FailoverFunction",
            "FailoverRole",
            "FailoverSchedule",
            "FailoverPeerAlarmsRule",
            "ForwardAlarmsRule",
        ] {
            assert_eq!(a.resources().get(id), b.resources().get(id), "{origin}: {id}");
        }
    }
}

#[test]
fn it_runs_every_minute_on_aws_and_long_enough_for_a_round_and_a_promotion() {
    let t = region("dev", "replica", "standby");
    assert_eq!(t.properties("FailoverSchedule")["ScheduleExpression"], "rate(1 minute)");
    assert_eq!(
        t.properties("FailoverSchedule")["Targets"][0]["Arn"],
        json!({"Fn::GetAtt": ["FailoverFunction", "Arn"]})
    );
    assert_eq!(
        t.properties("FailoverInvokedBySchedule")["SourceArn"],
        json!({"Fn::GetAtt": ["FailoverSchedule", "Arn"]})
    );
    let timeout = t.properties("FailoverFunction")["Timeout"].as_u64().unwrap();
    assert!(
        timeout >= 50 + 60 * 5,
        "a 50 s probe round plus minutes of waiting for RDS: {timeout}"
    );
    assert!(
        !region("local", "replica", "standby")
            .resources()
            .contains_key("FailoverSchedule"),
        "on the local AWS the drill drives it"
    );
    assert!(t.properties("FailoverFunction")["DeadLetterConfig"]["TargetArn"].is_object());
}

#[test]
fn the_other_regions_alarms_reach_it_and_never_this_regions_rollback() {
    let t = region("prod", "replica", "standby");
    let peer = &t.properties("FailoverPeerAlarmsRule")["EventPattern"];
    assert_eq!(peer["region"], json!([{"Ref": "PeerRegion"}]));
    assert_eq!(peer["detail"]["state"]["value"], json!(["ALARM"]));
    let forward = t.properties("ForwardAlarmsRule");
    assert_eq!(
        forward["EventPattern"]["region"],
        json!([{"Ref": "AWS::Region"}]),
        "no echo back"
    );
    assert_eq!(
        forward["Targets"][0]["Arn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:events:${PeerRegion}:${AWS::AccountId}:event-bus/default"})
    );
    // Rollback acts on this region's alarms only: a forwarded alarm is not about this release.
    let with_rollback = Template::load("region.yaml").resolved(&[
        ("Env", "prod"),
        ("Role", "standby"),
        ("DbOrigin", "replica"),
        ("RollbackCodeKey", "rollback/abc.zip"),
    ]);
    assert_eq!(
        with_rollback.properties("AlarmStateRule")["EventPattern"]["region"],
        json!([{"Ref": "AWS::Region"}])
    );
}

#[test]
fn its_role_acts_in_this_region_only_and_on_this_environments_things() {
    let t = region("prod", "replica", "standby");
    let statements = statements(&t, "FailoverRole");
    let granted: BTreeSet<String> = statements.iter().flat_map(actions).collect();
    let expected: BTreeSet<String> = [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "rds:DescribeDBInstances",
        "rds:PromoteReadReplica",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "cloudwatch:GetMetricStatistics",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "cloudwatch:PutMetricData",
        "sns:Publish",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sqs:SendMessage",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(granted, expected);
    // Static stability: in the other region it may only read (its roles and
    // fences, and the key that decrypts them); everything else is here.
    let in_the_peer: Vec<&Value> = statements
        .iter()
        .filter(|s| references(s).contains("PeerRegion"))
        .collect();
    let sids: BTreeSet<&str> = in_the_peer.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
    assert_eq!(sids, BTreeSet::from(["DecryptThePeersTable", "PeersRolesAndFences"]));
    let read_only: BTreeSet<String> = ["dynamodb:GetItem", "dynamodb:Query", "kms:Decrypt"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    for s in &in_the_peer {
        assert!(actions(s).iter().all(|a| read_only.contains(a)), "{s}");
    }
    let rds = statements
        .iter()
        .find(|s| actions(s).contains(&"rds:PromoteReadReplica".to_owned()))
        .unwrap();
    assert_eq!(
        rds["Resource"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:${Db}"
    );
    assert_eq!(
        rds["Resource"]["Fn::Sub"][1]["Db"],
        json!({"Fn::Sub": "tandem-${Env}-db-replica"})
    );
    // The endpoint override only (tandem_core::db::point_endpoint reads and
    // writes it), never the credentials secret, which on AWS is a replica in
    // the replica's region and stays one.
    let secret: Vec<&Value> = statements
        .iter()
        .filter(|s| actions(s).iter().any(|a| a.starts_with("secretsmanager:")))
        .collect();
    assert_eq!(secret.len(), 1, "{secret:?}");
    assert_eq!(
        actions(secret[0]),
        ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
    );
    assert_eq!(
        secret[0]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:tandem-${Env}/db-endpoint-*"})
    );
}

/// The statement with this Sid.
fn sid<'a>(statements: &'a [Value], sid: &str) -> &'a Value {
    statements
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

#[test]
fn it_reads_both_regions_roles_and_fences_and_publishes_the_fence_in_tandems_namespace_only() {
    let t = region("prod", "writer", "primary");
    let statements = statements(&t, "FailoverRole");
    // Its own table: the roles and fences partition is read with Query.
    let own = sid(&statements, "ProbesLockRolesAndAudit");
    assert!(actions(own).contains(&"dynamodb:Query".to_owned()));
    assert_eq!(
        own["Resource"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}"
    );
    // The other region's table, named as cfn/bootstrap.yaml names it there.
    let peer = sid(&statements, "PeersRolesAndFences");
    assert_eq!(actions(peer), ["dynamodb:GetItem", "dynamodb:Query"]);
    assert_eq!(
        peer["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${PeerRegion}:${AWS::AccountId}:table/tandem-${Env}-state"})
    );
    let bootstrap = Template::load("bootstrap.yaml");
    assert_eq!(
        bootstrap.properties("StateTable")["TableName"],
        json!({"Fn::Sub": "tandem-${Env}-state"})
    );
    assert_peer_key_read_through_dynamodb_only(sid(&statements, "DecryptThePeersTable"));
    // PutMetricData has no resource type: the namespace condition scopes it.
    let publish = sid(&statements, "PublishTheFence");
    assert_eq!(actions(publish), ["cloudwatch:PutMetricData"]);
    assert_eq!(publish["Resource"], "*");
    assert_eq!(
        publish["Condition"],
        json!({"StringEquals": {"cloudwatch:namespace": "tandem"}})
    );
    let alarm = t.properties("PeerFencedAlarm");
    assert_eq!(
        alarm["Namespace"],
        publish["Condition"]["StringEquals"]["cloudwatch:namespace"]
    );
}

/// kms:Decrypt on the other region's tandem key only (by its alias: IAM needs
/// a key ARN, and the key's id is not known here), and only through DynamoDB there.
fn assert_peer_key_read_through_dynamodb_only(statement: &Value) {
    assert_eq!(actions(statement), ["kms:Decrypt"]);
    assert_eq!(
        statement["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:kms:${PeerRegion}:${AWS::AccountId}:key/*"})
    );
    assert_eq!(
        statement["Condition"],
        json!({
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": {"Fn::Sub": "alias/tandem-${Env}"}},
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${PeerRegion}.amazonaws.com"}}
        })
    );
    let bootstrap = Template::load("bootstrap.yaml");
    assert_eq!(
        bootstrap.properties("KeyAlias")["AliasName"],
        json!({"Fn::Sub": "alias/tandem-${Env}"}),
        "the alias each region's bootstrap stack gives its key"
    );
}

#[test]
fn its_threshold_and_rpo_are_parameters_an_operator_sets_from_config() {
    let t = Template::load("region.yaml");
    let vars = env_vars(&region("dev", "replica", "standby"));
    for (param, var, default) in [
        ("FailoverThreshold", "TANDEM_FAILURE_THRESHOLD", "3"),
        ("FailoverRpoSeconds", "TANDEM_RPO_SECS", "60"),
    ] {
        assert_eq!(vars[var], json!({"Ref": param}), "{var} comes from {param}");
        let p = t.parameter(param);
        assert_eq!(p["Default"], json!(default), "{param}'s default is the function's own");
        let pattern = p["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{param} has an AllowedPattern"));
        for good in ["1", default, "99"] {
            assert!(
                template_tests::pattern_matches(pattern, good).unwrap(),
                "{param} takes {good:?}"
            );
        }
        // 0 would fail over with no failed probe, or refuse every promotion.
        for bad in ["", "0", "-1", "x", "3 ", "1.5", "007"] {
            assert!(
                !template_tests::pattern_matches(pattern, bad).unwrap(),
                "{param} refuses {bad:?}"
            );
        }
    }
}
