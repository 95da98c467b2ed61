//! Releases in cfn/region.yaml and cfn/bootstrap.yaml, proved for a real
//! account (the local AWS forgives what these guard against): the service's
//! task definition never changes after create, the first deploy starts no
//! task without an image, a release changes only `ImageTag`, and the roles
//! can do what a release needs and no more.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use template_tests::{Template, policy_statements as statements, references, statement_actions as actions};

fn region() -> Template {
    Template::load("region.yaml")
}

fn on(params: &[(&str, &str)]) -> Template {
    region().resolved(params)
}

/// What CloudFormation would send for the service and its task definition,
/// as functions of the parameters: the references they contain.
fn service_inputs(t: &Template) -> BTreeSet<String> {
    let mut refs = references(t.properties("TaskDefinition"));
    refs.extend(references(t.properties("Service")));
    refs
}

#[test]
fn the_services_task_definition_never_changes_after_create() {
    // CloudFormation cannot change the task definition of a CODE_DEPLOY
    // service: nothing a release, a failover or a resize changes may reach it.
    let changing = [
        "ImageTag",
        "Role",
        "PeerRegion",
        "TaskCpu",
        "TaskMemory",
        "DesiredCount",
        "DeployHookCodeKey",
    ];
    for (env, role, image) in [
        ("dev", "primary", ""),
        ("prod", "standby", "v2"),
        ("local", "primary", "x"),
    ] {
        let t = on(&[
            ("Env", env),
            ("Role", role),
            ("DbOrigin", if role == "primary" { "writer" } else { "replica" }),
            ("ImageTag", image),
        ]);
        let inputs = service_inputs(&t);
        for name in changing {
            assert!(
                !inputs.contains(name),
                "{env}/{role}: the service or its task definition uses {name}"
            );
        }
        assert_eq!(
            t.properties("Service")["TaskDefinition"],
            json!({"Ref": "TaskDefinition"})
        );
    }
    let text = std::fs::read_to_string(template_tests::repo_root().join("cfn/region.yaml")).unwrap();
    assert!(
        !text.contains("TANDEM_REGION_ROLE"),
        "the region role is not baked into any task"
    );
}

#[test]
fn the_first_deploy_starts_no_task_and_scaling_waits_for_an_image() {
    for image in ["", "v1"] {
        let t = on(&[
            ("Env", "dev"),
            ("Role", "primary"),
            ("DbOrigin", "writer"),
            ("ImageTag", image),
            ("ServiceExists", "false"),
        ]);
        assert_eq!(
            t.properties("Service")["DesiredCount"],
            json!(0),
            "created with zero tasks: there is no image to run yet"
        );
        let min = &t.properties("ScalableTarget")["MinCapacity"];
        if image.is_empty() {
            assert_eq!(min, &json!(0), "no task may start before an image exists");
        } else {
            assert_eq!(min, &json!({"Ref": "DesiredCount"}));
        }
        assert_eq!(
            t.resource("ScalableTarget")["DependsOn"],
            json!("Release"),
            "the minimum rises after the release"
        );
        // The release itself scales the zero-task service to the stack's count.
        assert_eq!(t.properties("Release")["DesiredCount"], json!({"Ref": "DesiredCount"}));
    }
    let local = on(&[("Env", "local"), ("Role", "primary"), ("DbOrigin", "writer")]);
    assert_eq!(
        local.properties("Release")["DesiredCount"],
        json!("0"),
        "the local AWS runs no tasks"
    );
    assert_eq!(
        region().parameter("ImageTag")["Default"],
        json!(""),
        "no image before the first release"
    );
}

/// CloudFormation sends a template's DesiredCount in the UpdateService of
/// any change to the service, and ECS takes it for a CODE_DEPLOY service:
/// on every update the template leaves it out, so an edit of the service
/// keeps the count auto scaling set. The default is an update's, so a stack
/// updated by hand, without the parameter, is safe too.
#[test]
fn no_update_of_the_service_sends_a_task_count() {
    assert_eq!(region().parameter("ServiceExists")["Default"], json!("true"));
    for env in ["dev", "prod", "local"] {
        for (role, origin) in [("primary", "writer"), ("standby", "replica")] {
            for exists in [None, Some("true")] {
                let mut params = vec![("Env", env), ("Role", role), ("DbOrigin", origin), ("ImageTag", "v2")];
                params.extend(exists.map(|e| ("ServiceExists", e)));
                let service = on(&params).properties("Service").clone();
                assert!(
                    service.get("DesiredCount").is_none(),
                    "{env}/{role} (ServiceExists {exists:?}): an update would send DesiredCount {}",
                    service["DesiredCount"]
                );
                assert_eq!(service["DeploymentController"], json!({"Type": "CODE_DEPLOY"}));
            }
        }
    }
}

#[test]
fn the_release_resource_deploys_the_image_tag_through_this_regions_group_and_hook() {
    let t = on(&[
        ("Env", "dev"),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("DeployHookCodeKey", "deploy-hook/a.zip"),
    ]);
    let p = t.properties("Release");
    assert_eq!(t.type_of("Release"), "Custom::BlueGreenDeployment");
    assert_eq!(p["ImageTag"], json!({"Ref": "ImageTag"}));
    assert_eq!(
        p["RepositoryUri"],
        json!({"Fn::GetAtt": ["Repository", "RepositoryUri"]})
    );
    assert_eq!(p["ApplicationName"], json!({"Ref": "DeployApplication"}));
    assert_eq!(p["DeploymentGroupName"], json!({"Ref": "DeploymentGroup"}));
    assert_eq!(p["HookFunction"], json!({"Ref": "DeployHookFunction"}));
    assert_eq!(p["ContainerName"], json!("app"));
    assert!(
        p["ServiceTimeout"].as_u64().is_some_and(|s| s <= 3600),
        "CloudFormation's maximum"
    );
    let env = p["Environment"].as_object().unwrap();
    assert_eq!(env["TANDEM_DB_SECRET"], json!({"Fn::Sub": "tandem-${Env}/db"}));
    assert!(!env.contains_key("TANDEM_REGION_ROLE"));
    // The container name and port match what the service's load balancer targets.
    let lb = &t.properties("Service")["LoadBalancers"][0];
    assert_eq!(lb["ContainerName"], p["ContainerName"]);
    assert_eq!(lb["ContainerPort"], p["ContainerPort"]);
    // Before the hook's code is uploaded there is no hook to name.
    let early = on(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    assert_eq!(early.properties("Release")["HookFunction"], json!(""));
}

#[test]
fn the_app_finds_the_writer_in_its_secret_and_may_read_only_that() {
    let t = on(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    assert_eq!(
        t.type_of("DbSecretAttachment"),
        "AWS::SecretsManager::SecretTargetAttachment"
    );
    let a = t.properties("DbSecretAttachment");
    assert_eq!(
        (&a["SecretId"], &a["TargetId"], &a["TargetType"]),
        (
            &json!({"Ref": "DbSecret"}),
            &json!({"Ref": "WriterDb"}),
            &json!("AWS::RDS::DBInstance")
        )
    );
    let task = statements(&t, "TaskRole");
    let read = task
        .iter()
        .find(|s| actions(s) == ["secretsmanager:GetSecretValue"])
        .expect("the app reads its secret");
    assert!(
        read["Resource"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":secret:tandem-${Env}/db-*")
    );
    let execution: Vec<String> = statements(&t, "TaskExecutionRole").iter().flat_map(actions).collect();
    assert!(
        !execution.iter().any(|a| a.starts_with("secretsmanager:")),
        "ECS injects no secret any more: {execution:?}"
    );
}

#[test]
fn the_app_reads_both_regions_roles_and_fences_and_writes_neither() {
    // The write fence: before it writes, the app reads the roles and the
    // fences in its own region's state table and the other's.
    for (origin, role) in [("writer", "primary"), ("replica", "standby")] {
        let t = on(&[
            ("Env", "prod"),
            ("Role", role),
            ("DbOrigin", origin),
            ("FailoverCodeKey", "failover/abc.zip"),
        ]);
        let task = statements(&t, "TaskRole");
        let tables: Vec<&Value> = task
            .iter()
            .filter(|s| actions(s).iter().any(|a| a.starts_with("dynamodb:")))
            .collect();
        assert_eq!(tables.len(), 1, "{tables:?}");
        assert_eq!(actions(tables[0]), ["dynamodb:GetItem", "dynamodb:Query"], "read only");
        assert_eq!(
            tables[0]["Resource"],
            json!([
                {"Fn::Sub": ["arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}",
                             {"Table": {"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-state-table"}}}]},
                {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${PeerRegion}:${AWS::AccountId}:table/tandem-${Env}-state"}
            ])
        );
        // Each table's key: this region's by ARN, the other's by alias through
        // DynamoDB there (the same statement as the failover role's).
        let decrypt = |sid: &str, role: &str| -> Value {
            statements(&t, role)
                .into_iter()
                .find(|s| s["Sid"] == sid)
                .unwrap_or_else(|| panic!("{role} has no {sid}"))
        };
        assert_eq!(
            decrypt("DecryptWithTandemKey", "TaskRole")["Resource"],
            json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-key-arn"}})
        );
        assert_eq!(
            decrypt("DecryptThePeersTable", "TaskRole"),
            decrypt("DecryptThePeersTable", "FailoverRole")
        );
        // It is told which region is its own and which the other; the roles
        // it reads at run time.
        let env = &t.properties("Release")["Environment"];
        assert_eq!(env["TANDEM_REGION"], json!({"Ref": "AWS::Region"}));
        assert_eq!(env["TANDEM_PEER_REGION"], json!({"Ref": "PeerRegion"}));
        // The app needs the configured primary too once TANDEM_ENV is set
        // (app/src/config.rs): from DbOrigin, as the failover function's.
        assert_eq!(
            env["TANDEM_CONFIGURED_PRIMARY"],
            t.properties("FailoverFunction")["Environment"]["Variables"]["TANDEM_CONFIGURED_PRIMARY"],
        );
        let expected = if origin == "writer" {
            "AWS::Region"
        } else {
            "PeerRegion"
        };
        assert_eq!(env["TANDEM_CONFIGURED_PRIMARY"], json!({"Ref": expected}), "{origin}");
    }
}

#[test]
fn the_codedeploy_role_is_scoped_to_this_service_without_the_managed_policy() {
    let t = on(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    let role = t.properties("CodeDeployRole");
    assert!(
        role.get("ManagedPolicyArns").is_none(),
        "AWSCodeDeployRoleForECS grants * on several services"
    );
    let all = statements(&t, "CodeDeployRole");
    let granted: Vec<String> = all.iter().flat_map(actions).collect();
    for needed in [
        "ecs:CreateTaskSet",
        "ecs:UpdateServicePrimaryTaskSet",
        "ecs:DeleteTaskSet",
        "ecs:DescribeServices",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:DescribeTargetGroups",
        "cloudwatch:DescribeAlarms",
        "lambda:InvokeFunction",
        "iam:PassRole",
    ] {
        assert!(granted.contains(&needed.to_owned()), "blue/green needs {needed}");
    }
    // CodeDeploy polls the group's alarms with DescribeAlarms, and a call that
    // names no alarm is authorised against alarm:*: a statement scoped to
    // alarm:tandem-<env>-* would refuse the poll, and with
    // ignorePollAlarmFailure false that stops every deployment.
    let alarms = all
        .iter()
        .find(|s| actions(s).contains(&"cloudwatch:DescribeAlarms".to_owned()))
        .unwrap();
    assert_eq!(alarms["Resource"], json!("*"), "{alarms}");
    for s in &all {
        if s["Resource"] == json!("*") {
            assert!(
                actions(s)
                    .iter()
                    .all(|a| a.starts_with("elasticloadbalancing:Describe") || a == "cloudwatch:DescribeAlarms"),
                "{s}"
            );
        }
        if actions(s).contains(&"iam:PassRole".to_owned()) {
            assert_eq!(
                s["Condition"]["StringEquals"]["iam:PassedToService"],
                "ecs-tasks.amazonaws.com"
            );
        }
    }
}

#[test]
fn the_topology_role_may_make_every_call_of_a_release_on_this_service_only() {
    let t = Template::load("bootstrap.yaml").resolved(&[("Env", "dev")]);
    let all = statements(&t, "TopologyRole");
    let granted: Vec<String> = all.iter().flat_map(actions).collect();
    // Every call functions/topology/src/blue_green/calls.rs and the state table make.
    for needed in [
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:RegisterTaskDefinition",
        "ecs:TagResource",
        "ecs:UpdateService",
        "iam:PassRole",
        "codedeploy:CreateDeployment",
        "codedeploy:GetDeployment",
        "codedeploy:StopDeployment",
        "codedeploy:ListDeploymentTargets",
        "codedeploy:BatchGetDeploymentTargets",
        "codedeploy:RegisterApplicationRevision",
        "codedeploy:GetDeploymentConfig",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    ] {
        assert!(granted.contains(&needed.to_owned()), "a release needs {needed}");
    }
    let deploy = all
        .iter()
        .find(|s| actions(s).contains(&"codedeploy:CreateDeployment".to_owned()))
        .unwrap();
    assert!(
        deploy["Resource"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":deploymentgroup:tandem-${Env}/tandem-${Env}-app")
    );
    // No resource type in the Service Authorization Reference: authorised
    // against "*", so a deployment group's ARN would refuse a release's stop
    // of a failed deployment and its read of the targets.
    for unscoped in [
        "codedeploy:StopDeployment",
        "codedeploy:ListDeploymentTargets",
        "codedeploy:BatchGetDeploymentTargets",
    ] {
        for s in all.iter().filter(|s| actions(s).contains(&unscoped.to_owned())) {
            assert_eq!(s["Resource"], json!("*"), "{unscoped} has no resource type: {s}");
        }
    }
    for s in all.iter().filter(|s| s["Resource"] == json!("*")) {
        for action in actions(s) {
            assert!(
                [
                    "codedeploy:StopDeployment",
                    "codedeploy:ListDeploymentTargets",
                    "codedeploy:BatchGetDeploymentTargets",
                    "ecs:DescribeTaskDefinition",
                    "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeVpcs",
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                ]
                .contains(&action.as_str()),
                "{action} on \"*\": it takes a resource, name it"
            );
        }
    }
    // RegisterTaskDefinition takes the task-definition resource type: this
    // environment's family only. DescribeTaskDefinition has none ("*").
    let family = json!({"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/tandem-${Env}-app:*"});
    for s in all
        .iter()
        .filter(|s| actions(s).contains(&"ecs:RegisterTaskDefinition".to_owned()))
    {
        assert_eq!(s["Resource"], family, "{s}");
    }
    // The release tags each task definition it registers (calls.rs: `.tags(`),
    // which is authorised as ecs:TagResource too: at registration only.
    let tag = all
        .iter()
        .find(|s| actions(s).contains(&"ecs:TagResource".to_owned()))
        .unwrap();
    assert_eq!(actions(tag), ["ecs:TagResource"]);
    assert_eq!(tag["Resource"], family);
    assert_eq!(
        tag["Condition"],
        json!({"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}})
    );
    let pass = all.iter().find(|s| actions(s) == ["iam:PassRole"]).unwrap();
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "ecs-tasks.amazonaws.com"
    );
}

#[test]
fn the_local_literal_port_is_the_parameters_default_and_local_config_keeps_it() {
    // The local AWS stores CloudFormation's string "8080" where ECS answers
    // an integer, and the SDK cannot read the service back; locally the
    // service and its task definition use the default as a literal.
    let local = on(&[("Env", "local"), ("Role", "primary"), ("DbOrigin", "writer")]);
    let default: u64 = region().parameter("ContainerPort")["Default"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        local.properties("Service")["LoadBalancers"][0]["ContainerPort"],
        json!(default)
    );
    assert_eq!(
        local.properties("TaskDefinition")["ContainerDefinitions"][0]["PortMappings"][0]["ContainerPort"],
        json!(default)
    );
    let config = std::fs::read_to_string(template_tests::repo_root().join("config/local.toml")).unwrap();
    assert!(
        !config.contains("ContainerPort"),
        "config/local.toml must not move the port off the literal"
    );
    let aws = on(&[("Env", "dev"), ("Role", "primary"), ("DbOrigin", "writer")]);
    assert_eq!(
        aws.properties("Service")["LoadBalancers"][0]["ContainerPort"],
        json!({"Ref": "ContainerPort"})
    );
}

#[test]
fn the_stack_reports_what_is_released() {
    let t = on(&[
        ("Env", "dev"),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("ImageTag", "v3"),
    ]);
    assert_eq!(t.output("ImageTag")["Value"], json!({"Ref": "ImageTag"}));
    assert_eq!(
        t.output("ReleasedTaskDefinitionArn")["Value"],
        json!({"Fn::GetAtt": ["Release", "TaskDefinitionArn"]})
    );
}

/// A first release onto a service with no tasks names CodeDeploy's
/// all-at-once configuration (later ones keep the group's canary), and
/// CreateDeployment reads the configuration it names as its caller: every
/// role that may create a deployment may read both.
#[test]
fn whoever_creates_a_deployment_may_read_the_canary_and_the_all_at_once_configuration() {
    let configs = [
        "CodeDeployDefault.ECSCanary10Percent5Minutes",
        "CodeDeployDefault.ECSAllAtOnce",
    ];
    let mut creators = 0;
    for file in ["region.yaml", "bootstrap.yaml"] {
        let t = Template::load(file);
        for (role, _) in t.resources_of("AWS::IAM::Role") {
            let stmts = statements(&t, role);
            if !stmts
                .iter()
                .any(|s| actions(s).iter().any(|a| a == "codedeploy:CreateDeployment"))
            {
                continue;
            }
            creators += 1;
            let readable: Vec<String> = stmts
                .iter()
                .filter(|s| actions(s).iter().any(|a| a == "codedeploy:GetDeploymentConfig"))
                .flat_map(|s| match &s["Resource"] {
                    Value::Array(list) => list.clone(),
                    one => vec![one.clone()],
                })
                .map(|r| r.to_string())
                .collect();
            for config in configs {
                assert!(
                    readable
                        .iter()
                        .any(|r| r.contains(&format!(":deploymentconfig:{config}"))),
                    "{file}/{role} creates deployments but may not read {config}: {readable:?}"
                );
            }
        }
    }
    assert!(creators >= 1, "no role creates deployments");
}
