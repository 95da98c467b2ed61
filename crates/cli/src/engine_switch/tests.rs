use super::*;
use std::collections::BTreeMap;

fn switch(region: &str, from: &str, to: &str) -> Switch {
    Switch {
        stack: "tandem-dev-region".into(),
        region: region.into(),
        from: from.into(),
        to: to.into(),
    }
}

#[test]
fn a_stack_from_before_the_parameter_was_deployed_with_codedeploy() {
    assert_eq!(deployed_engine(&BTreeMap::new()), "codedeploy");
    let empty = BTreeMap::from([("ReleaseEngine".to_string(), String::new())]);
    assert_eq!(deployed_engine(&empty), "codedeploy");
    let ecs = BTreeMap::from([("ReleaseEngine".to_string(), "ecs".to_string())]);
    assert_eq!(deployed_engine(&ecs), "ecs");
}

#[test]
fn no_switch_no_refusal() {
    assert_eq!(refusal("dev", &[]), None);
}

#[test]
fn a_switch_is_refused_naming_each_stack_the_reason_and_the_way_back() {
    let message = refusal(
        "dev",
        &[
            switch("us-east-1", "codedeploy", "ecs"),
            switch("us-east-2", "codedeploy", "ecs"),
        ],
    )
    .unwrap();
    for needle in [
        "release_engine = \"ecs\"",
        "tandem-dev-region in us-east-1 releases with codedeploy",
        "us-east-2",
        "Nothing was changed",
        "deployment controller in place",
        "blue target group",
        "tandem-dev-app",
        "set release_engine = \"codedeploy\" again",
        "Switching the release engine",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
}

#[test]
fn the_way_back_is_the_engine_the_stack_has() {
    let message = refusal("prod", &[switch("us-east-1", "ecs", "codedeploy")]).unwrap();
    assert!(message.contains("set release_engine = \"ecs\" again"), "{message}");
    assert!(message.contains("tandem-prod-app"), "{message}");
}
