//! The deploy hook in cfn/region.yaml: the path it probes by exists on a
//! real account (the function in the private subnets, the green tasks'
//! security group admitting it), and its role can do its job and no more.

use serde_json::{Value, json};
use template_tests::{Template, policy_statements as statements, statement_actions as actions};

fn region_on(env: &str) -> Template {
    Template::load("region.yaml").resolved(&[
        ("Env", env),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("DeployHookCodeKey", "deploy-hook/abc.zip"),
        ("CertificateArn", "arn:aws:acm:us-east-1:1:certificate/x"),
    ])
}

#[test]
fn on_aws_the_hook_runs_in_the_private_subnets_with_its_own_security_group() {
    let t = region_on("dev");
    let vpc = &t.properties("DeployHookFunction")["VpcConfig"];
    assert_eq!(
        vpc["SubnetIds"],
        json!([{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}])
    );
    assert_eq!(vpc["SecurityGroupIds"], json!([{"Ref": "DeployHookSecurityGroup"}]));
    // The local AWS runs functions on the host, outside any VPC.
    let local = region_on("local");
    assert!(local.properties("DeployHookFunction").get("VpcConfig").is_none());
}

#[test]
fn the_green_tasks_admit_the_hook_on_their_port_and_the_hook_reaches_only_them_and_aws() {
    let t = region_on("dev");
    let ingress = t.properties("ServiceSecurityGroup")["SecurityGroupIngress"]
        .as_array()
        .unwrap()
        .clone();
    let from_hook: Vec<&Value> = ingress
        .iter()
        .filter(|r| r["SourceSecurityGroupId"] == json!({"Ref": "DeployHookSecurityGroup"}))
        .collect();
    assert_eq!(from_hook.len(), 1, "{ingress:?}");
    assert_eq!(from_hook[0]["FromPort"], json!({"Ref": "ContainerPort"}));
    assert_eq!(from_hook[0]["ToPort"], json!({"Ref": "ContainerPort"}));
    let egress = t.properties("DeployHookSecurityGroup")["SecurityGroupEgress"]
        .as_array()
        .unwrap()
        .clone();
    let rules: Vec<(Value, Value)> = egress
        .iter()
        .map(|r| (r["FromPort"].clone(), r["CidrIp"].clone()))
        .collect();
    assert_eq!(
        rules,
        [
            (json!({"Ref": "ContainerPort"}), json!({"Ref": "VpcCidr"})),
            (json!(443), json!("0.0.0.0/0"))
        ],
        "egress is the tasks' port inside the VPC and HTTPS to the AWS APIs, nothing else"
    );
    // The private subnets reach the AWS APIs through a NAT on a real account.
    let aws = Template::load("region.yaml").resolved(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    assert!(
        aws.resources().contains_key("PrivateDefaultRoute1"),
        "private subnets route out via NAT"
    );
}

#[test]
fn the_hook_finds_the_green_side_through_the_test_listener() {
    let t = region_on("dev");
    let env = &t.properties("DeployHookFunction")["Environment"]["Variables"];
    assert_eq!(env["TANDEM_TEST_LISTENER_ARN"], json!({"Ref": "TestListener"}));
    assert_eq!(
        env["TANDEM_STATE_TABLE"],
        json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-state-table"}})
    );
    // The app contract's smoke paths; the sample app's by default.
    assert_eq!(env["TANDEM_SMOKE_PATHS"], json!({"Ref": "SmokePaths"}));
    assert_eq!(t.parameter("SmokePaths")["Default"], "/version=200,/db=200");
    assert!(
        env.get("TANDEM_HEALTH_PATH").is_none(),
        "the default health path is the hook's own"
    );
    let custom = Template::load("region.yaml").resolved(&[
        ("Env", "dev"),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("DeployHookCodeKey", "k"),
        ("HealthPath", "/ready"),
    ]);
    let env = &custom.properties("DeployHookFunction")["Environment"]["Variables"];
    assert_eq!(env["TANDEM_HEALTH_PATH"], json!({"Ref": "HealthPath"}));
}

#[test]
fn the_hook_may_answer_codedeploy_and_the_codedeploy_role_may_invoke_it() {
    let t = region_on("dev");
    let hook = statements(&t, "DeployHookRole");
    let answer = hook
        .iter()
        .find(|s| actions(s).contains(&"codedeploy:PutLifecycleEventHookExecutionStatus".to_owned()))
        .expect("without this permission every deployment hangs for an hour");
    // No resource type in the Service Authorization Reference: authorised
    // against "*", so a statement on the deployment group's ARN would refuse
    // every answer. A statement of its own, so "*" reaches nothing else.
    assert_eq!(answer["Resource"], json!("*"), "{answer}");
    assert_eq!(
        actions(answer),
        ["codedeploy:PutLifecycleEventHookExecutionStatus"],
        "{answer}"
    );
    let all: Vec<String> = hook.iter().flat_map(actions).collect();
    for needed in [
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTargetHealth",
        "dynamodb:PutItem",
        "ec2:CreateNetworkInterface",
    ] {
        assert!(all.contains(&needed.to_owned()), "{needed}");
    }
    assert!(!all.iter().any(|a| a.ends_with(":*") || a == "*"), "{all:?}");
    let invoke = statements(&t, "CodeDeployRole")
        .into_iter()
        .find(|s| actions(s) == ["lambda:InvokeFunction"])
        .expect("CodeDeploy must be able to invoke the hook");
    assert!(
        invoke["Resource"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":function:tandem-${Env}-deploy-hook"),
        "{invoke}"
    );
}

#[test]
fn without_code_there_is_no_hook_function_yet() {
    let t = Template::load("region.yaml").resolved(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    assert!(!t.resources().contains_key("DeployHookFunction"));
    assert!(
        t.resources().contains_key("DeployHookRole"),
        "the role and group exist from the start"
    );
}
