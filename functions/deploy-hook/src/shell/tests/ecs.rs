//! ECS-native hooks: the status returned, green read from the test
//! listener rule that ECS moves, and the stages ECS runs again in a rollback.

use super::*;
use aws_sdk_elasticloadbalancingv2::operation::describe_rules::{DescribeRulesError, DescribeRulesOutput};
use aws_sdk_elasticloadbalancingv2::types::{
    FixedResponseActionConfig, ForwardActionConfig, Rule as ListenerRule, TargetGroupTuple,
};

#[tokio::test(start_paused = true)]
async fn ecs_native_hooks_get_their_status_returned_and_nothing_reported() {
    // ECS sends `resourceArn` with every hook; one without is refused.
    let ecs = json!({"executionId": "x-1", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "resourceArn": "arn:d",
                     "executionDetails": {"serviceArn": "arn:s", "targetServiceRevisionArn": "arn:r"}});
    let (listen, targets) = healthy_look();
    let audit = put_claimed("hook#ecs#x-1#POST_TEST_TRAFFIC_SHIFT");
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[],
        dynamodb: &[&audit],
    };
    let (hook, _) = make_hook(mocks, healthy_answers());
    assert_eq!(
        hook.handle(ecs.clone(), MINUTES).await.unwrap(),
        json!({"hookStatus": "SUCCEEDED"})
    );

    let (listen, targets) = (listener(), health(&[("10.0.1.5", TargetHealthStateEnum::Initial)]));
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[],
        dynamodb: &[],
    };
    let (hook, _) = make_hook(mocks, healthy_answers());
    assert_eq!(
        hook.handle(ecs, MINUTES).await.unwrap(),
        json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 30}),
        "not ready yet: ECS calls again, nothing is audited"
    );
}

const RULE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/tandem-dev/1/8443/9";
const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tandem-dev-blue/1";

/// DescribeRules of the test listener rule, answering one rule with `actions`.
fn rule(actions: Vec<Action>) -> Rule {
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_rules)
        .match_requests(|input| input.rule_arns() == [RULE])
        .then_output(move || {
            let rule = ListenerRule::builder()
                .rule_arn(RULE)
                .set_actions(Some(actions.clone()))
                .build();
            DescribeRulesOutput::builder().rules(rule).build()
        })
}

/// A forward action that weighs blue and green as ECS set them.
fn weighted(blue: i32, green: i32) -> Action {
    let group = |arn: &str, weight: i32| TargetGroupTuple::builder().target_group_arn(arn).weight(weight).build();
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(
            ForwardActionConfig::builder()
                .target_groups(group(BLUE, blue))
                .target_groups(group(GREEN, green))
                .build(),
        )
        .build()
}

fn ecs_event(stage: &str) -> Value {
    json!({"executionId": "x-1", "lifecycleStage": stage, "resourceArn": "arn:d",
           "executionDetails": {"serviceArn": "arn:s", "targetServiceRevisionArn": "arn:r"}})
}

/// The hook with `TANDEM_TEST_LISTENER_RULE_ARN` set.
fn rule_hook(mocks: Mocks<'_>, answers: Answers) -> Hook {
    let (mut hook, _) = make_hook(mocks, answers);
    hook.settings.test_listener_rule_arn = Some(RULE.into());
    hook
}

#[tokio::test(start_paused = true)]
async fn with_a_test_listener_rule_green_is_the_group_it_weighs_most() {
    // 0/100: green serves the test traffic, so its targets are the ones read;
    // 100/0 (a deployment from green back to blue): blue's are.
    for (weights, green) in [(weighted(0, 100), GREEN), (weighted(100, 0), BLUE)] {
        let (moved, targets) = (
            rule(vec![weights]),
            health_of(green, &[("10.0.1.5", TargetHealthStateEnum::Healthy)]),
        );
        let audit = put_claimed("hook#ecs#x-1#POST_TEST_TRAFFIC_SHIFT");
        let mocks = Mocks {
            elb: &[&moved, &targets],
            codedeploy: &[],
            dynamodb: &[&audit],
        };
        let hook = rule_hook(mocks, healthy_answers());
        let answer = hook
            .handle(ecs_event("POST_TEST_TRAFFIC_SHIFT"), MINUTES)
            .await
            .unwrap();
        assert_eq!(answer, json!({"hookStatus": "SUCCEEDED"}), "green {green}");
        assert_eq!(
            (moved.num_calls(), targets.num_calls()),
            (1, 1),
            "green {green}: the rule and its group's targets are read, not the listener's default action"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_rule_with_a_single_target_group_names_it() {
    let single = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(GREEN)
        .build();
    let (moved, targets) = (
        rule(vec![single]),
        health(&[("10.0.1.5", TargetHealthStateEnum::Healthy)]),
    );
    let audit = put_claimed("hook#ecs#x-1#POST_PRODUCTION_TRAFFIC_SHIFT");
    let mocks = Mocks {
        elb: &[&moved, &targets],
        codedeploy: &[],
        dynamodb: &[&audit],
    };
    let hook = rule_hook(mocks, healthy_answers());
    let answer = hook
        .handle(ecs_event("POST_PRODUCTION_TRAFFIC_SHIFT"), MINUTES)
        .await
        .unwrap();
    assert_eq!(answer, json!({"hookStatus": "SUCCEEDED"}));
}

/// An audit write of `decision` whose reason holds `reason`.
fn audited_ecs(stage: &'static str, decision: &'static str, reason: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |input| {
            let item = input.item().unwrap();
            assert_eq!(item["sk"].as_s().unwrap(), &format!("hook#ecs#x-1#{stage}"));
            assert_eq!(item["decision"].as_s().unwrap(), decision);
            let why = item["reason"].as_s().unwrap();
            assert!(why.contains(reason), "{why}");
            true
        })
        .then_output(|| PutItemOutput::builder().build())
}

#[tokio::test(start_paused = true)]
async fn a_rule_with_no_forward_action_fails_at_once_saying_what_to_fix() {
    let fixed = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(FixedResponseActionConfig::builder().status_code("404").build())
        .build();
    let moved = rule(vec![fixed]);
    let audit = audited_ecs(
        "POST_TEST_TRAFFIC_SHIFT",
        "Failed",
        "has no forward action, so the green target group cannot be found: TANDEM_TEST_LISTENER_RULE_ARN must name",
    );
    let mocks = Mocks {
        elb: &[&moved],
        codedeploy: &[],
        dynamodb: &[&audit],
    };
    let hook = rule_hook(mocks, Answers::default());
    let answer = hook
        .handle(ecs_event("POST_TEST_TRAFFIC_SHIFT"), MINUTES)
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"hookStatus": "FAILED"}),
        "not IN_PROGRESS: waiting will not add one"
    );
    assert_eq!(audit.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rule_that_is_not_there_fails_naming_the_setting() {
    let gone = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_rules).then_error(|| {
        DescribeRulesError::generic(
            ErrorMetadata::builder()
                .code("RuleNotFound")
                .message("One or more rules not found")
                .build(),
        )
    });
    let audit = audited_ecs(
        "POST_TEST_TRAFFIC_SHIFT",
        "Failed",
        "was not found: TANDEM_TEST_LISTENER_RULE_ARN must name the ECS service's TestListenerRule",
    );
    let mocks = Mocks {
        elb: &[&gone],
        codedeploy: &[],
        dynamodb: &[&audit],
    };
    let hook = rule_hook(mocks, Answers::default());
    let answer = hook
        .handle(ecs_event("POST_TEST_TRAFFIC_SHIFT"), MINUTES)
        .await
        .unwrap();
    assert_eq!(answer, json!({"hookStatus": "FAILED"}));
}

#[tokio::test(start_paused = true)]
async fn at_a_stage_ecs_runs_again_in_a_rollback_the_hook_never_fails_nor_waits() {
    // A green target that answers 503: FAILED at POST_TEST_TRAFFIC_SHIFT...
    let (listen, targets) = healthy_look();
    let audit = put_claimed("hook#ecs#x-1#POST_TEST_TRAFFIC_SHIFT");
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[],
        dynamodb: &[&audit],
    };
    let failing = || {
        Answers::default()
            .with("10.0.1.5:8080", "/health", Ok(200))
            .with("10.0.1.5:8080", "/db", Ok(503))
    };
    let (hook, _) = make_hook(mocks, failing());
    let answer = hook
        .handle(ecs_event("POST_TEST_TRAFFIC_SHIFT"), MINUTES)
        .await
        .unwrap();
    assert_eq!(answer, json!({"hookStatus": "FAILED"}));

    // ...but SUCCEEDED, saying what was seen, where the invocation may be a rollback's.
    for stage in ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"] {
        let (listen, targets) = healthy_look();
        let audit = audited_ecs(
            stage,
            "Succeeded",
            "which ECS also runs while it rolls a deployment back",
        );
        let mocks = Mocks {
            elb: &[&listen, &targets],
            codedeploy: &[],
            dynamodb: &[&audit],
        };
        let (hook, _) = make_hook(mocks, failing());
        let answer = hook.handle(ecs_event(stage), MINUTES).await.unwrap();
        assert_eq!(answer, json!({"hookStatus": "SUCCEEDED"}), "{stage}");
        assert_eq!(audit.num_calls(), 1, "{stage}: audited");
    }

    // Not ready there is not IN_PROGRESS either: one look, then SUCCEEDED.
    let (listen, targets) = (listener(), health(&[("10.0.1.5", TargetHealthStateEnum::Initial)]));
    let audit = audited_ecs("PRODUCTION_TRAFFIC_SHIFT", "Succeeded", "10.0.1.5:8080 is initial");
    let mocks = Mocks {
        elb: &[&listen, &targets],
        codedeploy: &[],
        dynamodb: &[&audit],
    };
    let (hook, _) = make_hook(mocks, healthy_answers());
    let answer = hook
        .handle(ecs_event("PRODUCTION_TRAFFIC_SHIFT"), MINUTES)
        .await
        .unwrap();
    assert_eq!(answer, json!({"hookStatus": "SUCCEEDED"}));
}
