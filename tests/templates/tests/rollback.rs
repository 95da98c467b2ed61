//! The rollback function in cfn/region.yaml: what reaches it (alarms through
//! the ops topic, this service's deployment failures here and from the other
//! region), that the alarms follow traffic, and that its role can do its job
//! and no more.

use serde_json::json;
use template_tests::{Template, policy_statements as statements, statement_actions as actions};

fn region_on(env: &str) -> Template {
    Template::load("region.yaml").resolved(&[
        ("Env", env),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("RollbackCodeKey", "rollback/abc.zip"),
        ("DeployHookCodeKey", "deploy-hook/abc.zip"),
    ])
}

#[test]
fn alarms_reach_it_through_the_ops_topic() {
    let t = region_on("dev");
    let topic = json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-ops-topic-arn"}});
    let sub = t.properties("RollbackFromOpsTopic");
    assert_eq!(sub["Protocol"], "lambda");
    assert_eq!(sub["TopicArn"], topic);
    assert_eq!(sub["Endpoint"], json!({"Fn::GetAtt": ["RollbackFunction", "Arn"]}));
    assert_eq!(sub["FilterPolicyScope"], "MessageBody");
    assert_eq!(
        sub["FilterPolicy"],
        json!({"AlarmName": [{"exists": true}]}),
        "alarms only: its own decisions, published to the same topic as text, do not come back to it"
    );
    let allow = t.properties("RollbackInvokedByTopic");
    assert_eq!(
        (&allow["Principal"], &allow["SourceArn"]),
        (&json!("sns.amazonaws.com"), &topic)
    );
    // Every service alarm notifies the topic.
    for alarm in [
        "Alb5xxRateAlarm",
        "UnhealthyHostsAlarm",
        "UnhealthyGreenHostsAlarm",
        "LatencyP99Alarm",
    ] {
        assert_eq!(t.properties(alarm)["AlarmActions"], json!([topic]), "{alarm}");
        let name = t.properties(alarm)["AlarmName"]["Fn::Sub"].as_str().unwrap().to_owned();
        assert!(
            name.starts_with("tandem-${Env}-"),
            "{alarm}: the function matches alarms by this prefix"
        );
    }
}

#[test]
fn alarms_also_reach_it_as_eventbridge_events_of_this_service_only() {
    let t = region_on("dev");
    let rule = t.properties("AlarmStateRule");
    let pattern = &rule["EventPattern"];
    assert_eq!(pattern["detail-type"], json!(["CloudWatch Alarm State Change"]));
    assert_eq!(
        pattern["detail"]["alarmName"],
        json!([{"prefix": {"Fn::Sub": "tandem-${Env}-"}}])
    );
    assert_eq!(pattern["detail"]["state"]["value"], json!(["ALARM"]));
    assert_eq!(
        rule["Targets"][0]["Arn"],
        json!({"Fn::GetAtt": ["RollbackFunction", "Arn"]})
    );
    let allow = t.properties("RollbackInvokedByAlarmState");
    assert_eq!(allow["SourceArn"], json!({"Fn::GetAtt": ["AlarmStateRule", "Arn"]}));
}

#[test]
fn the_unhealthy_hosts_check_follows_traffic_to_either_target_group() {
    let t = region_on("dev");
    let group = |alarm: &str| {
        t.properties(alarm)["Dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["Name"] == "TargetGroup")
            .map(|d| d["Value"]["Fn::GetAtt"][0].clone())
            .unwrap()
    };
    assert_eq!(group("UnhealthyHostsAlarm"), "BlueTargetGroup");
    assert_eq!(group("UnhealthyGreenHostsAlarm"), "GreenTargetGroup");
    let watched = &t.properties("DeploymentGroup")["AlarmConfiguration"]["Alarms"];
    assert!(
        watched
            .as_array()
            .unwrap()
            .contains(&json!({"Name": {"Ref": "UnhealthyGreenHostsAlarm"}}))
    );
}

#[test]
fn deployment_failures_reach_it_here_and_are_forwarded_to_the_other_region_once() {
    let t = region_on("dev");
    let rule = t.properties("DeploymentFailuresRule");
    let pattern = &rule["EventPattern"];
    assert_eq!(pattern["source"], json!(["aws.codedeploy"]));
    assert_eq!(pattern["detail"]["state"], json!(["FAILURE", "STOP"]));
    assert!(
        pattern.get("region").is_none(),
        "it takes the other region's forwarded failures too"
    );
    assert_eq!(
        rule["Targets"][0]["Arn"],
        json!({"Fn::GetAtt": ["RollbackFunction", "Arn"]})
    );
    let forward = t.properties("ForwardFailuresRule");
    assert_eq!(
        forward["EventPattern"]["region"],
        json!([{"Ref": "AWS::Region"}]),
        "only this region's own failures, or they would echo back and forth"
    );
    assert_eq!(
        forward["Targets"][0]["Arn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:events:${PeerRegion}:${AWS::AccountId}:event-bus/default"})
    );
    let put = &statements(&t, "ForwardFailuresRole")[0];
    assert_eq!(actions(put), ["events:PutEvents"]);
    assert_eq!(put["Resource"], forward["Targets"][0]["Arn"]);
    let local = region_on("local");
    assert!(
        !local.resources().contains_key("ForwardFailuresRule"),
        "one local AWS holds both regions"
    );
    assert!(local.resources().contains_key("DeploymentFailuresRule"));
}

#[test]
fn its_role_may_stop_or_redeploy_this_group_record_and_notify_and_no_more() {
    let t = region_on("dev");
    let all = statements(&t, "RollbackRole");
    let mut granted: Vec<String> = all.iter().flat_map(actions).collect();
    granted.sort();
    let mut expected = vec![
        "codedeploy:CreateDeployment",
        "codedeploy:GetApplicationRevision",
        "codedeploy:GetDeploymentConfig",
        "codedeploy:RegisterApplicationRevision",
        "codedeploy:StopDeployment",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sns:Publish",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ];
    expected.sort();
    assert_eq!(granted, expected);
    let redeploy = all
        .iter()
        .find(|s| actions(s).contains(&"codedeploy:CreateDeployment".to_owned()))
        .unwrap();
    assert!(
        redeploy["Resource"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":deploymentgroup:tandem-${Env}/tandem-${Env}-app")
    );
    // StopDeployment, its main action, has no resource type in the Service
    // Authorization Reference: it is authorised against "*", and a statement
    // on the deployment group's ARN would have it refused.
    let stop = all
        .iter()
        .find(|s| actions(s).contains(&"codedeploy:StopDeployment".to_owned()))
        .unwrap();
    assert_eq!(actions(stop), ["codedeploy:StopDeployment"], "a statement of its own");
    assert_eq!(stop["Resource"], json!("*"));
    for s in &all {
        if s["Resource"] == json!("*") {
            assert!(
                actions(s)
                    .iter()
                    .all(|a| a.starts_with("xray:") || a == "codedeploy:StopDeployment"),
                "{s}"
            );
        }
    }
}

#[test]
fn it_can_be_switched_to_dry_run_and_dead_letters_what_fails() {
    let t = region_on("dev");
    let f = t.properties("RollbackFunction");
    let env = &f["Environment"]["Variables"];
    assert_eq!(env["DRY_RUN"], json!({"Ref": "RollbackDryRun"}));
    assert_eq!(env["TANDEM_BAKE_WINDOW_SECS"], json!({"Ref": "BakeWindowSeconds"}));
    assert_eq!(
        Template::load("region.yaml").parameter("RollbackDryRun")["Default"],
        "false"
    );
    assert_eq!(
        f["DeadLetterConfig"]["TargetArn"],
        json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-dlq-arn"}})
    );
    let without =
        Template::load("region.yaml").resolved(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    assert!(
        !without.resources().contains_key("RollbackFunction"),
        "none before its code is uploaded"
    );
}
