//! What a real account would do with the templates (issue 12's findings),
//! held so that none can come back: TLS on every listener outside `local`,
//! MySQL 8.4 that refuses plain connections, what a delete keeps, one ECR
//! replication per registry, confused-deputy conditions on the key, the
//! peering role kept to this environment, the ops topic's subscriptions and
//! the zone's name servers.

use serde_json::{Value, json};
use template_tests::{Template, policy_statements, statement_actions};

fn region() -> Template {
    Template::load("region.yaml")
}

fn bootstrap() -> Template {
    Template::load("bootstrap.yaml")
}

/// The region stack as CloudFormation builds it in `env` (the writer's region).
fn region_in(env: &str) -> Template {
    let cert = if env == "local" {
        ""
    } else {
        "arn:aws:acm:us-east-1:111122223333:certificate/x"
    };
    region().resolved(&[
        ("Env", env),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("CertificateArn", cert),
        ("AWS::Region", "us-east-1"),
    ])
}

#[test]
fn every_listener_serves_https_outside_local_and_port_80_only_redirects() {
    for env in ["dev", "prod"] {
        let t = region_in(env);
        let listeners = t.resources_of("AWS::ElasticLoadBalancingV2::Listener");
        assert_eq!(listeners.len(), 3, "{env}: the redirect, production and test listeners");
        for (id, l) in listeners {
            let p = &l["Properties"];
            if p["Port"] == json!(80) {
                assert_eq!(p["DefaultActions"][0]["Type"], "redirect", "{env}: {id} only redirects");
                assert_eq!(
                    p["DefaultActions"][0]["RedirectConfig"]["Protocol"], "HTTPS",
                    "{env}: {id} redirects to HTTPS"
                );
                continue;
            }
            assert_eq!(p["Protocol"], "HTTPS", "{env}: {id} must serve HTTPS");
            assert_eq!(
                p["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "{env}: {id} allows TLS 1.2+ only"
            );
            assert_eq!(
                p["Certificates"][0]["CertificateArn"],
                json!({"Ref": "CertificateArn"}),
                "{env}: {id}"
            );
        }
    }
    // On the local AWS (no TLS there) the listeners are plain HTTP.
    let local = region_in("local");
    assert!(
        local
            .resources_of("AWS::ElasticLoadBalancingV2::Listener")
            .iter()
            .all(|(_, l)| l["Properties"]["Protocol"] == "HTTP")
    );
}

#[test]
fn a_stack_outside_local_without_a_certificate_is_refused_before_anything_is_built() {
    let t = region();
    let rule = &t.json()["Rules"]["CertificateOutsideLocal"];
    assert_eq!(
        rule["RuleCondition"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "Env"}, "local"]}]}),
        "the rule applies to every environment but local"
    );
    assert_eq!(
        rule["Assertions"][0]["Assert"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]})
    );
    let says = rule["Assertions"][0]["AssertDescription"].as_str().unwrap();
    assert!(
        says.contains("certificate_arn"),
        "the refusal names the setting to fix: {says}"
    );
}

#[test]
fn mysql_is_8_4_refuses_plain_connections_and_is_monitored() {
    let t = region_in("prod");
    let group = t.properties("DbParameterGroup");
    assert_eq!(group["Family"], "mysql8.4");
    assert_eq!(group["Parameters"]["require_secure_transport"], "1");
    let writer = t.properties("WriterDb");
    let version = writer["EngineVersion"].as_str().unwrap();
    assert!(
        version.starts_with("8.4."),
        "pinned to an 8.4 minor version, not {version}"
    );
    let standby = region().resolved(&[
        ("Env", "prod"),
        ("Role", "standby"),
        ("DbOrigin", "replica"),
        ("CertificateArn", "arn:aws:acm:us-east-2:111122223333:certificate/x"),
    ]);
    for (t, db) in [(&t, "WriterDb"), (&standby, "ReplicaDb")] {
        let p = t.properties(db);
        assert_eq!(
            p["DBParameterGroupName"],
            json!({"Ref": "DbParameterGroup"}),
            "{db}: TLS-only parameters"
        );
        assert_eq!(p["EnableIAMDatabaseAuthentication"], json!(true), "{db}");
        assert_eq!(p["MonitoringInterval"], json!(60), "{db}: enhanced monitoring");
        assert_eq!(
            p["MonitoringRoleArn"],
            json!({"Fn::GetAtt": ["DbMonitoringRole", "Arn"]}),
            "{db}"
        );
        assert_eq!(p["MultiAZ"], json!(true), "{db}");
        assert_eq!(
            t.resource(db)["DeletionPolicy"],
            "Snapshot",
            "{db}: a delete leaves a final snapshot"
        );
    }
    let trust = &t.properties("DbMonitoringRole")["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "monitoring.rds.amazonaws.com");
    // AmazonRDSEnhancedMonitoringRole's two statements (log-group:RDS* and
    // log-group:RDS*:log-stream:*), scoped to RDSOSMetrics: the group in both
    // of its ARN forms, and everything in it (log-group:RDSOSMetrics:*). A
    // stream-only grant (…:log-stream:*) misses DescribeLogStreams, which is
    // authorised against the group (log-group:RDSOSMetrics:*).
    let group = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:RDSOSMetrics";
    let both = json!([{"Fn::Sub": group}, {"Fn::Sub": format!("{group}:*")}]);
    let statements = policy_statements(&t, "DbMonitoringRole");
    let mut granted = Vec::new();
    for s in &statements {
        assert_eq!(
            s["Resource"], both,
            "monitoring reaches RDSOSMetrics and its streams only: {s}"
        );
        granted.extend(statement_actions(s));
    }
    granted.sort();
    assert_eq!(
        granted,
        [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:GetLogEvents",
            "logs:PutLogEvents",
            "logs:PutRetentionPolicy",
        ],
        "AmazonRDSEnhancedMonitoringRole's actions, no more"
    );
}

/// The DeletionPolicy and UpdateReplacePolicy of `id` in `t`, resolved.
fn policies(t: &Template, id: &str) -> (String, String) {
    let r = t.resource(id);
    let s = |k: &str| {
        r[k].as_str()
            .unwrap_or_else(|| panic!("{}: {id} has no literal {k}", t.name()))
            .to_string()
    };
    (s("DeletionPolicy"), s("UpdateReplacePolicy"))
}

#[test]
fn what_a_delete_keeps_is_stated_and_prod_keeps_the_records() {
    let kept_in_prod: [(&str, Template, Template, Vec<&str>); 2] = [
        (
            "bootstrap",
            bootstrap().resolved(&[("Env", "prod")]),
            bootstrap().resolved(&[("Env", "dev")]),
            vec!["DeadLetterQueue", "TopologyLogGroup", "StateTable"],
        ),
        (
            "region",
            region_in("prod"),
            region_in("dev"),
            vec![
                "DbSecret",
                "FlowLogGroup",
                "AppLogGroup",
                "DeployHookLogGroup",
                "RollbackLogGroup",
                "FailoverLogGroup",
            ],
        ),
    ];
    for (name, prod, dev, ids) in &kept_in_prod {
        for id in ids {
            assert_eq!(policies(prod, id).0, "Retain", "{name}: prod keeps {id}");
            assert_eq!(policies(dev, id).0, "Delete", "{name}: dev deletes {id} with its stack");
        }
    }
    // The key outlives a dev database's final snapshot, which it encrypts.
    for env in ["dev", "prod"] {
        let b = bootstrap().resolved(&[("Env", env)]);
        assert_eq!(
            policies(&b, "Key"),
            ("Retain".into(), "Retain".into()),
            "{env}: the key is kept"
        );
    }
    // An Fn::If in a policy is valid on AWS only under the LanguageExtensions transform.
    for t in [bootstrap(), region()] {
        let conditional = t
            .resources()
            .values()
            .any(|r| r.get("DeletionPolicy").is_some_and(Value::is_object));
        if conditional {
            assert_eq!(t.json()["Transform"], "AWS::LanguageExtensions", "{}", t.name());
        }
    }
}

#[test]
fn ecr_replication_is_the_same_for_every_environment_and_outlives_a_stack() {
    let t = region_in("dev");
    let (deletion, _) = policies(&t, "Replication");
    assert_eq!(
        deletion, "Retain",
        "deleting one environment leaves the registry's replication"
    );
    let rule = &t.properties("Replication")["ReplicationConfiguration"]["Rules"][0];
    assert_eq!(
        rule["RepositoryFilters"],
        json!([{"Filter": "tandem-", "FilterType": "PREFIX_MATCH"}]),
        "no environment in the filter: dev and prod write the same configuration"
    );
}

#[test]
fn alb_access_logs_go_to_a_kept_bucket_that_only_the_regions_elb_account_writes() {
    let t = region_in("dev");
    let attributes = t.properties("Alb")["LoadBalancerAttributes"]
        .as_array()
        .unwrap()
        .clone();
    assert!(attributes.contains(&json!({"Key": "access_logs.s3.enabled", "Value": "true"})));
    assert!(attributes.contains(&json!({"Key": "access_logs.s3.bucket", "Value": {"Ref": "AccessLogBucket"}})));
    assert_eq!(policies(&t, "AccessLogBucket").0, "Retain");
    let statements = t.properties("AccessLogBucketPolicy")["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    let allow: Vec<&Value> = statements.iter().filter(|s| s["Effect"] == "Allow").collect();
    assert_eq!(allow.len(), 1);
    assert_eq!(statement_actions(allow[0]), vec!["s3:PutObject"]);
    assert!(allow[0]["Principal"]["AWS"].to_string().contains("ElbLogDelivery"));
    assert!(
        allow[0]["Resource"]
            .to_string()
            .contains("/AWSLogs/${AWS::AccountId}/*")
    );
    let accounts = region().json()["Mappings"]["ElbLogDelivery"].clone();
    assert_eq!(accounts["us-east-1"]["Account"], "127311923021");
    assert_eq!(accounts["us-east-2"]["Account"], "033677994240");
    assert!(
        region_in("local").resources().get("AccessLogBucket").is_none(),
        "the local AWS delivers no logs"
    );
}

#[test]
fn the_key_serves_alarms_of_this_account_only() {
    let statements = bootstrap().properties("Key")["KeyPolicy"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    let service = "cloudwatch.amazonaws.com";
    let grants: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Principal"]["Service"].to_string().contains(service))
        .collect();
    assert_eq!(grants.len(), 1, "{service}: one statement of its own");
    let c = &grants[0]["Condition"];
    assert_eq!(
        c["StringEquals"]["aws:SourceAccount"],
        json!({"Ref": "AWS::AccountId"}),
        "{service}"
    );
    assert!(
        c["ArnLike"]["aws:SourceArn"].to_string().contains("${AWS::AccountId}"),
        "{service}"
    );
}

/// EventBridge needs the key only to deliver to the encrypted ops topic, and a
/// grant with no rule behind it is one no one holds to anything: the key
/// policy has an events.amazonaws.com statement exactly when some rule in the
/// templates targets the topic.
#[test]
fn eventbridge_may_use_the_key_only_if_a_rule_targets_the_ops_topic() {
    let topic_here = json!({"Ref": "OpsTopic"});
    let topic_imported = json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-ops-topic-arn"}});
    let mut rules_to_topic = Vec::new();
    for file in ["bootstrap.yaml", "region.yaml", "global.yaml"] {
        let t = Template::load(file);
        for (id, rule) in t.resources_of("AWS::Events::Rule") {
            let targets = rule["Properties"]["Targets"].as_array().cloned().unwrap_or_default();
            if targets.iter().any(|target| {
                let arn = &target["Arn"];
                *arn == topic_here || *arn == topic_imported || arn.to_string().contains("ops-topic")
            }) {
                rules_to_topic.push(format!("{file}: {id}"));
            }
        }
    }
    let statements = bootstrap().properties("Key")["KeyPolicy"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    let events: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Principal"]["Service"].to_string().contains("events.amazonaws.com"))
        .collect();
    assert_eq!(
        !events.is_empty(),
        !rules_to_topic.is_empty(),
        "rules that target the ops topic: {rules_to_topic:?}; key-policy statements for EventBridge: {events:?}"
    );
}

#[test]
fn the_peering_role_touches_this_environments_vpcs_and_route_tables_only() {
    let b = bootstrap();
    for s in policy_statements(&b, "TopologyRole") {
        let resource = s["Resource"].to_string();
        if resource.contains(":vpc/*") || resource.contains(":route-table/*") {
            assert_eq!(
                s["Condition"]["StringEquals"]["ec2:ResourceTag/tandem:env"],
                json!({"Ref": "Env"}),
                "{} must be kept to VPCs and route tables tagged with this environment",
                s["Sid"]
            );
        }
    }
}

#[test]
fn the_ops_topic_reaches_a_person_from_config() {
    let b = bootstrap();
    let with = b.resolved(&[("Env", "prod"), ("OpsEmail", "ops@example.com")]);
    assert_eq!(with.properties("OpsEmailSubscription")["Protocol"], "email");
    assert_eq!(
        with.properties("OpsEmailSubscription")["TopicArn"],
        json!({"Ref": "OpsTopic"})
    );
    let without = b.resolved(&[("Env", "prod")]);
    assert!(
        without.resources().get("OpsEmailSubscription").is_none(),
        "no address, no subscription"
    );
    // The chat webhook: the region stack's notify function (tests/notify.rs).
    assert!(
        b.parameters().get("OpsWebhookUrl").is_none(),
        "no HTTPS subscription here: a chat webhook cannot confirm one"
    );
    assert_eq!(
        Template::load("region.yaml").parameter("OpsWebhookUrl")["NoEcho"],
        json!(true),
        "a webhook URL is a credential"
    );
}

#[test]
fn the_global_stack_says_where_to_delegate_a_zone_it_made() {
    let g = Template::load("global.yaml");
    assert_eq!(
        g.output("NameServers")["Value"],
        json!({"Fn::If": ["CreateZone", {"Fn::Join": [",", {"Fn::GetAtt": ["Zone", "NameServers"]}]}, ""]})
    );
    assert_eq!(
        g.parameter("HostedZoneId")["Default"],
        "",
        "an existing zone is optional"
    );
}

#[test]
fn tls_reaches_the_tasks_outside_local() {
    for (env, protocol, tls, scheme) in [
        ("dev", "HTTPS", "self-signed", "https"),
        ("prod", "HTTPS", "self-signed", "https"),
        ("local", "HTTP", "off", "http"),
    ] {
        let t = region_in(env);
        for group in ["BlueTargetGroup", "GreenTargetGroup"] {
            let p = t.properties(group);
            assert_eq!(p["Protocol"], protocol, "{env}: {group}");
            assert_eq!(p["HealthCheckProtocol"], protocol, "{env}: {group}'s health check");
        }
        let release = region().resolved(&[
            ("Env", env),
            ("Role", "primary"),
            ("DbOrigin", "writer"),
            (
                "CertificateArn",
                if env == "local" {
                    ""
                } else {
                    "arn:aws:acm:us-east-1:1:certificate/x"
                },
            ),
            ("DeployHookCodeKey", "deploy-hook/1.zip"),
        ]);
        assert_eq!(
            release.properties("Release")["Environment"]["TANDEM_TLS"],
            tls,
            "{env}: the app serves what the ALB expects"
        );
        assert_eq!(
            release.properties("DeployHookFunction")["Environment"]["Variables"]["TANDEM_PROBE_SCHEME"],
            scheme,
            "{env}: the hook probes the tasks as they serve"
        );
    }
}
