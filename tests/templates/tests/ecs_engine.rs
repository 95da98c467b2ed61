//! The second release engine (`ReleaseEngine: ecs`): ECS-native blue/green
//! in cfn/region.yaml, proved in every environment and role. Under it no
//! CodeDeploy resource or permission exists; the service names its strategy,
//! alarms, hooks, target groups and rules; the roles ECS assumes reach only
//! this service's pieces; and a failover still changes nothing but what
//! follows the role.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use template_tests::{Template, one_or_many, policy_statements, statement_actions};

const ENVS: &[&str] = &["dev", "prod", "local"];

fn region() -> Template {
    Template::load("region.yaml")
}

fn ecs(env: &str, extra: &[(&str, &str)]) -> Template {
    // Later pairs win: `extra` may set the role and the database's origin.
    let mut params = vec![
        ("Env", env),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("ReleaseEngine", "ecs"),
        ("DeployHookCodeKey", "functions/deploy-hook/k.zip"),
        ("RollbackCodeKey", "functions/rollback/k.zip"),
    ];
    if env != "local" {
        params.push(("CertificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/c"));
    }
    params.extend_from_slice(extra);
    region().resolved(&params)
}

fn codedeploy(env: &str) -> Template {
    region().resolved(&[
        ("Env", env),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("DeployHookCodeKey", "functions/deploy-hook/k.zip"),
        ("RollbackCodeKey", "functions/rollback/k.zip"),
    ])
}

fn service_config(t: &Template) -> &Value {
    &t.properties("Service")["DeploymentConfiguration"]
}

/// Every action any role of the stack grants.
fn all_actions(t: &Template) -> BTreeSet<String> {
    t.resources_of("AWS::IAM::Role")
        .into_iter()
        .flat_map(|(id, _)| policy_statements(t, id))
        .flat_map(|s| statement_actions(&s))
        .collect()
}

#[test]
fn under_ecs_no_codedeploy_resource_or_permission_exists() {
    for env in ENVS {
        let t = ecs(env, &[]);
        let codedeploy: Vec<&str> = (t.resources().iter())
            .filter(|(_, r)| r["Type"].as_str().is_some_and(|ty| ty.starts_with("AWS::CodeDeploy::")))
            .map(|(id, _)| id.as_str())
            .collect();
        assert!(codedeploy.is_empty(), "{env}: {codedeploy:?}");
        assert!(!t.resources().contains_key("CodeDeployRole"), "{env}");
        let granted: Vec<String> = all_actions(&t)
            .into_iter()
            .filter(|a| a.starts_with("codedeploy:"))
            .collect();
        assert!(granted.is_empty(), "{env}: a role still grants {granted:?}");
        assert!(!t.outputs().contains_key("DeploymentGroupName"), "{env}");
        let release = t.properties("Release");
        assert_eq!(release["Engine"], "ecs", "{env}");
        assert!(release.get("ApplicationName").is_none() && release.get("DeploymentGroupName").is_none());
    }
}

#[test]
fn under_codedeploy_no_ecs_engine_piece_exists() {
    for env in ENVS {
        let t = codedeploy(env);
        for id in ["ProdRule", "TestRule", "EcsInfrastructureRole", "EcsHookRole"] {
            assert!(!t.resources().contains_key(id), "{env}: {id}");
        }
        assert_eq!(
            t.properties("Service")["DeploymentController"],
            json!({"Type": "CODE_DEPLOY"})
        );
        assert!(t.properties("Service").get("DeploymentConfiguration").is_none());
        let granted: Vec<String> = all_actions(&t)
            .into_iter()
            .filter(|a| a.ends_with("ServiceDeployment") || a == "elasticloadbalancing:ModifyRule")
            .collect();
        // Only CodeDeploy's own role moves listeners (and their rules).
        assert_eq!(granted, ["elasticloadbalancing:ModifyRule"], "{env}");
        assert!(t.properties("Release").get("Engine").is_none());
    }
}

#[test]
fn the_service_is_released_by_ecs_with_the_configured_strategy() {
    for env in ENVS {
        let t = ecs(env, &[]);
        let service = t.properties("Service");
        assert_eq!(service["DeploymentController"], json!({"Type": "ECS"}), "{env}");
        let c = service_config(&t);
        assert_eq!(c["Strategy"], json!({"Ref": "EcsStrategy"}));
        // The local AWS takes the parameters' defaults as literals (it keeps
        // a parameter's string where ECS answers an integer).
        let number = |param: &str| {
            if *env == "local" {
                let default = region().parameter(param)["Default"].as_str().unwrap().to_owned();
                json!(default.parse::<u64>().unwrap())
            } else {
                json!({ "Ref": param })
            }
        };
        assert_eq!(c["BakeTimeInMinutes"], number("EcsBakeMinutes"), "{env}");
        assert_eq!(
            c["CanaryConfiguration"],
            json!({"CanaryPercent": number("EcsCanaryPercent"), "CanaryBakeTimeInMinutes": number("EcsCanaryBakeMinutes")}),
            "{env}"
        );
        assert!(c.get("LinearConfiguration").is_none(), "the default is a canary");
        let linear = ecs(env, &[("EcsStrategy", "LINEAR")]);
        let c = service_config(&linear);
        assert!(c.get("CanaryConfiguration").is_none());
        assert_eq!(c["LinearConfiguration"]["StepPercent"], number("EcsLinearStepPercent"));
        assert_eq!(
            c["LinearConfiguration"]["StepBakeTimeInMinutes"],
            number("EcsLinearStepBakeMinutes")
        );
        let all_at_once = ecs(env, &[("EcsStrategy", "BLUE_GREEN")]);
        let c = service_config(&all_at_once);
        assert!(c.get("CanaryConfiguration").is_none() && c.get("LinearConfiguration").is_none());
    }
}

#[test]
fn the_alarms_roll_a_release_back_and_are_the_ones_codedeploy_watched() {
    let group = codedeploy("prod");
    let watched: Vec<Value> = one_or_many(&group.properties("DeploymentGroup")["AlarmConfiguration"]["Alarms"])
        .into_iter()
        .map(|a| a["Name"].clone())
        .collect();
    for env in ENVS {
        let t = ecs(env, &[]);
        let alarms = &service_config(&t)["Alarms"];
        assert_eq!(alarms["Enable"], true, "{env}");
        assert_eq!(alarms["Rollback"], true, "{env}");
        assert_eq!(alarms["AlarmNames"].as_array().unwrap(), &watched, "{env}");
        for name in &watched {
            let id = name["Ref"].as_str().unwrap();
            assert_eq!(t.type_of(id), "AWS::CloudWatch::Alarm", "{env}: {id}");
        }
    }
}

#[test]
fn the_deploy_hook_answers_both_traffic_shifts_through_a_role_that_may_only_invoke_it() {
    for env in ENVS {
        let t = ecs(env, &[]);
        let hooks = service_config(&t)["LifecycleHooks"].as_array().unwrap().clone();
        assert_eq!(hooks.len(), 1, "{env}: no approval, one hook");
        assert_eq!(
            hooks[0]["HookTargetArn"],
            json!({"Fn::GetAtt": ["DeployHookFunction", "Arn"]})
        );
        assert_eq!(hooks[0]["RoleArn"], json!({"Fn::GetAtt": ["EcsHookRole", "Arn"]}));
        assert_eq!(
            hooks[0]["LifecycleStages"],
            json!(["POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"])
        );
        let statements = policy_statements(&t, "EcsHookRole");
        assert_eq!(statements.len(), 1, "{env}");
        assert_eq!(statement_actions(&statements[0]), ["lambda:InvokeFunction"]);
        let target = statements[0]["Resource"]["Fn::Sub"].as_str().unwrap();
        assert!(target.ends_with(":function:tandem-${Env}-deploy-hook"), "{target}");
        let trust = &t.properties("EcsHookRole")["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(trust["Principal"], json!({"Service": "ecs.amazonaws.com"}));
        // The hook reads green from the rule ECS moves.
        let hook_env = &t.properties("DeployHookFunction")["Environment"]["Variables"];
        assert_eq!(hook_env["TANDEM_TEST_LISTENER_RULE_ARN"], json!({"Ref": "TestRule"}));
        assert!(
            policy_statements(&t, "DeployHookRole")
                .iter()
                .any(|s| statement_actions(s).contains(&"elasticloadbalancing:DescribeRules".to_string()))
        );
        // Before the hook's code exists, no hook is wired (nothing to invoke).
        let bare = region().resolved(&[
            ("Env", env),
            ("Role", "primary"),
            ("DbOrigin", "writer"),
            ("ReleaseEngine", "ecs"),
        ]);
        assert_eq!(service_config(&bare)["LifecycleHooks"], json!([]), "{env}");
    }
}

#[test]
fn approval_pauses_before_production_moves_and_rolls_back_unanswered() {
    for env in ENVS {
        let t = ecs(env, &[("ReleaseApproval", "true")]);
        let hooks = service_config(&t)["LifecycleHooks"].as_array().unwrap().clone();
        let pause: Vec<&Value> = hooks.iter().filter(|h| h["TargetType"] == "PAUSE").collect();
        assert_eq!(pause.len(), 1, "{env}");
        assert_eq!(pause[0]["LifecycleStages"], json!(["POST_TEST_TRAFFIC_SHIFT"]));
        let minutes = if *env == "local" {
            json!(20)
        } else {
            json!({"Ref": "ApprovalTimeoutMinutes"})
        };
        assert_eq!(region().parameter("ApprovalTimeoutMinutes")["Default"], "20");
        assert_eq!(
            pause[0]["TimeoutConfiguration"],
            json!({"TimeoutInMinutes": minutes, "Action": "ROLLBACK"})
        );
        assert!(pause[0].get("HookTargetArn").is_none() && pause[0].get("RoleArn").is_none());
    }
}

#[test]
fn ecs_moves_traffic_on_two_rules_between_the_two_target_groups() {
    for env in ENVS {
        let t = ecs(env, &[]);
        let lb = &t.properties("Service")["LoadBalancers"][0];
        assert_eq!(lb["TargetGroupArn"], json!({"Ref": "BlueTargetGroup"}));
        let advanced = &lb["AdvancedConfiguration"];
        assert_eq!(advanced["AlternateTargetGroupArn"], json!({"Ref": "GreenTargetGroup"}));
        assert_eq!(advanced["ProductionListenerRule"], json!({"Ref": "ProdRule"}));
        assert_eq!(advanced["TestListenerRule"], json!({"Ref": "TestRule"}));
        assert_eq!(
            advanced["RoleArn"],
            json!({"Fn::GetAtt": ["EcsInfrastructureRole", "Arn"]})
        );
        // Each rule starts with all its traffic on one group: production on
        // blue (the service's), test on green (the alternate), as ECS requires.
        for (rule, listener, full, empty) in [
            ("ProdRule", "ProdListener", "BlueTargetGroup", "GreenTargetGroup"),
            ("TestRule", "TestListener", "GreenTargetGroup", "BlueTargetGroup"),
        ] {
            let p = t.properties(rule);
            assert_eq!(p["ListenerArn"], json!({"Ref": listener}), "{env} {rule}");
            let groups = &p["Actions"][0]["ForwardConfig"]["TargetGroups"];
            let weight = |tg: &str| {
                groups
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|g| g["TargetGroupArn"] == json!({"Ref": tg}))
                    .map(|g| g["Weight"].clone())
            };
            assert_eq!(weight(full), Some(json!(100)), "{env} {rule}");
            assert_eq!(weight(empty), Some(json!(0)), "{env} {rule}");
        }
    }
}

#[test]
fn the_infrastructure_role_reaches_only_this_services_groups_and_rules() {
    let own: Vec<Value> = ["BlueTargetGroup", "GreenTargetGroup", "ProdRule", "TestRule"]
        .iter()
        .map(|id| json!({"Ref": id}))
        .collect();
    for env in ENVS {
        let t = ecs(env, &[]);
        let role = t.properties("EcsInfrastructureRole");
        assert!(role.get("ManagedPolicyArns").is_none(), "{env}: no managed policy");
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            json!({"Service": "ecs.amazonaws.com"})
        );
        let mut granted = BTreeSet::new();
        for s in policy_statements(&t, "EcsInfrastructureRole") {
            let actions = statement_actions(&s);
            granted.extend(actions.iter().cloned());
            let describes_only = actions.iter().all(|a| a.starts_with("elasticloadbalancing:Describe"));
            for resource in one_or_many(&s["Resource"]) {
                if describes_only {
                    assert_eq!(resource, "*", "{env}: Describe calls take no resource");
                } else {
                    assert!(own.contains(resource), "{env}: {actions:?} reaches {resource}");
                }
            }
        }
        for needed in [
            "elasticloadbalancing:RegisterTargets",
            "elasticloadbalancing:DeregisterTargets",
            "elasticloadbalancing:ModifyRule",
            "elasticloadbalancing:DescribeTargetHealth",
        ] {
            assert!(granted.contains(needed), "{env}: {needed}");
        }
        assert!(
            !granted.iter().any(|a| a == "elasticloadbalancing:ModifyListener"),
            "{env}"
        );
    }
}

#[test]
fn rollback_under_ecs_stops_or_redeploys_this_service_only() {
    for env in ENVS {
        let t = ecs(env, &[]);
        let vars = &t.properties("RollbackFunction")["Environment"]["Variables"];
        assert_eq!(vars["TANDEM_RELEASE_ENGINE"], "ecs");
        assert_eq!(vars["TANDEM_CLUSTER"], json!({"Ref": "Cluster"}));
        assert_eq!(vars["TANDEM_SERVICE"], json!({"Fn::GetAtt": ["Service", "Name"]}));
        let mut ecs_actions = BTreeSet::new();
        for s in policy_statements(&t, "RollbackRole") {
            for action in statement_actions(&s).into_iter().filter(|a| a.starts_with("ecs:")) {
                for resource in one_or_many(&s["Resource"]) {
                    let arn = resource["Fn::Sub"].as_str().unwrap_or_default();
                    assert!(
                        arn.contains(":service/tandem-${Env}/tandem-${Env}-app")
                            || arn.contains(":service-deployment/tandem-${Env}/tandem-${Env}-app/"),
                        "{env}: {action} reaches {resource}"
                    );
                }
                ecs_actions.insert(action);
            }
        }
        assert_eq!(
            ecs_actions,
            BTreeSet::from([
                "ecs:DescribeServiceDeployments".to_string(),
                "ecs:StopServiceDeployment".to_string(),
                "ecs:UpdateService".to_string()
            ])
        );
        let pattern = &t.properties("DeploymentFailuresRule")["EventPattern"];
        assert_eq!(pattern["source"], json!(["aws.ecs"]));
        assert_eq!(pattern["detail"]["eventName"], json!(["SERVICE_DEPLOYMENT_FAILED"]));
    }
}

#[test]
fn a_failover_under_ecs_changes_only_what_follows_the_role() {
    let follow_the_role = BTreeSet::from(["Replication", "ReplicaLagAlarm"]);
    for env in ENVS {
        for (origin, from, to) in [("writer", "primary", "standby"), ("replica", "standby", "primary")] {
            let before = ecs(env, &[("DbOrigin", origin), ("Role", from)]);
            let after = ecs(env, &[("DbOrigin", origin), ("Role", to)]);
            let changed = before.changed_resources(&after);
            assert!(
                changed.is_subset(&follow_the_role),
                "{env}, built as the {origin}: a role change also changes {changed:?}"
            );
        }
    }
}
