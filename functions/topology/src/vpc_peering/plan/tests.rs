use super::*;
use crate::vpc_peering::props::sample;

const ALL_CODES: [&str; 9] = [
    "initiating-request",
    "pending-acceptance",
    "provisioning",
    "active",
    "deleting",
    "deleted",
    "rejected",
    "failed",
    "expired",
];

fn identity() -> Identity {
    Identity::of(&sample())
}

fn view(id: &str, code: &str) -> PeeringView {
    PeeringView {
        id: id.into(),
        status: Status::parse(code),
        message: String::new(),
        vpc_id: "vpc-0aaa".into(),
        peer_vpc_id: "vpc-0bbb".into(),
        peer_region: Some("us-east-2".into()),
        tags: tags("stack-1", "Peering", "tandem-dev-global").into_iter().collect(),
    }
}

#[test]
fn every_status_code_round_trips() {
    for code in ALL_CODES {
        let status = Status::parse(code);
        assert_ne!(status, Status::Other(code.into()), "{code} is known");
        assert_eq!(status.code(), code);
    }
    assert_eq!(Status::parse("teleporting"), Status::Other("teleporting".into()));
    assert_eq!(Status::parse("teleporting").code(), "teleporting");
}

#[test]
fn only_final_statuses_are_over() {
    let over: Vec<&str> = ALL_CODES.into_iter().filter(|c| Status::parse(c).is_over()).collect();
    assert_eq!(over, ["deleting", "deleted", "rejected", "failed", "expired"]);
    assert!(!Status::Other("x".into()).is_over());
}

#[test]
fn tags_identify_the_stack_and_resource_and_name_it() {
    let t = tags("arn:stack/s/1", "Peering", "s");
    assert_eq!(
        t,
        [
            ("tandem:stack-id".to_string(), "arn:stack/s/1".to_string()),
            ("tandem:logical-id".to_string(), "Peering".to_string()),
            ("Name".to_string(), "s-Peering".to_string()),
        ]
    );
}

#[test]
fn next_step_while_accepting_covers_every_status() {
    let step = |code| next_step(Phase::Accepting, "pcx-1", "us-east-2", Some(&view("pcx-1", code)));
    assert_eq!(step("pending-acceptance"), Step::Accept);
    assert_eq!(step("active"), Step::Configure);
    for code in ["initiating-request", "provisioning"] {
        assert_eq!(step(code), Step::Wait(format!("pcx-1 is {code} in us-east-2")));
    }
    for code in ["deleting", "deleted", "rejected", "failed", "expired", "teleporting"] {
        let Step::Fail(why) = step(code) else {
            panic!("{code} must fail")
        };
        assert!(
            why.starts_with("VPC peering pcx-1 (vpc-0aaa to vpc-0bbb in us-east-2)"),
            "{why}"
        );
    }
}

#[test]
fn next_step_while_activating_covers_every_status() {
    let step = |code| next_step(Phase::Activating, "pcx-1", "us-east-1", Some(&view("pcx-1", code)));
    assert_eq!(step("active"), Step::Configure);
    for code in ["initiating-request", "pending-acceptance", "provisioning"] {
        assert_eq!(
            step(code),
            Step::Wait(format!("pcx-1 is {code} in us-east-1")),
            "{code}"
        );
    }
    for code in ["deleting", "deleted", "rejected", "failed", "expired", "teleporting"] {
        assert!(matches!(step(code), Step::Fail(_)), "{code}");
    }
}

#[test]
fn a_peering_not_yet_visible_is_awaited_only_before_acceptance() {
    assert_eq!(
        next_step(Phase::Accepting, "pcx-1", "us-east-2", None),
        Step::Wait("pcx-1 is not visible in us-east-2 yet".into())
    );
    let Step::Fail(why) = next_step(Phase::Activating, "pcx-1", "us-east-1", None) else {
        panic!("a peering that vanished after acceptance must fail")
    };
    assert!(
        why.contains("no longer exists in us-east-1") && why.contains("update the stack"),
        "{why}"
    );
}

#[test]
fn failures_explain_the_status_with_aws_message_and_the_fix() {
    let fail = |code: &str, message: &str| {
        let mut v = view("pcx-1", code);
        v.message = message.into();
        match next_step(Phase::Accepting, "pcx-1", "us-east-2", Some(&v)) {
            Step::Fail(why) => why,
            other => panic!("{code}: {other:?}"),
        }
    };
    let why = fail("failed", "Overlapping CIDR range");
    assert!(
        why.contains("failed (Overlapping CIDR range)") && why.contains("do not overlap"),
        "{why}"
    );
    assert!(fail("rejected", "").contains("was rejected in us-east-2: someone refused it"));
    assert!(fail("expired", "").contains("not accepted within 7 days"));
    assert!(fail("deleted", "Deleted by x").contains("is deleted (Deleted by x): it was deleted outside"));
    assert!(fail("deleting", "").contains("is deleting"));
    assert!(fail("teleporting", "").contains("\"teleporting\", which tandem does not know"));
}

#[test]
fn combine_fails_first_then_waits_then_accepts_then_configures() {
    let fail = Step::Fail("f".into());
    let wait = Step::Wait("w".into());
    let all = [fail.clone(), wait.clone(), Step::Accept, Step::Configure];
    for a in &all {
        for b in &all {
            let expected = if a == &fail || b == &fail {
                fail.clone()
            } else if a == &wait || b == &wait {
                wait.clone()
            } else if a == &Step::Accept || b == &Step::Accept {
                Step::Accept
            } else {
                Step::Configure
            };
            assert_eq!(combine(a.clone(), b.clone()), expected, "{a:?} + {b:?}");
        }
    }
    assert_eq!(
        combine(Step::Wait("home".into()), Step::Wait("peer".into())),
        Step::Wait("home".into())
    );
}

#[test]
fn pick_ours_ignores_peerings_that_are_over() {
    for code in ALL_CODES {
        let found = [view("pcx-1", code)];
        let picked = pick_ours(&found, &identity(), "stack-1", "Peering");
        assert_eq!(picked.is_some(), !Status::parse(code).is_over(), "{code}");
    }
}

#[test]
fn pick_ours_needs_both_tags_and_the_same_vpcs_and_region() {
    let ours = view("pcx-1", "active");
    let mut other_stack = view("pcx-2", "active");
    other_stack.tags.insert(STACK_ID_TAG.into(), "stack-2".into());
    let mut no_logical = view("pcx-3", "active");
    no_logical.tags.remove(LOGICAL_ID_TAG);
    let mut other_vpc = view("pcx-4", "active");
    other_vpc.vpc_id = "vpc-0ccc".into();
    let mut other_peer = view("pcx-5", "active");
    other_peer.peer_vpc_id = "vpc-0ccc".into();
    let mut other_region = view("pcx-6", "active");
    other_region.peer_region = Some("eu-west-1".into());
    let decoys = [other_stack, no_logical, other_vpc, other_peer, other_region];
    assert_eq!(pick_ours(&decoys, &identity(), "stack-1", "Peering"), None);
    let mut all = decoys.to_vec();
    all.push(ours.clone());
    assert_eq!(pick_ours(&all, &identity(), "stack-1", "Peering"), Some(&ours));
    let mut unknown_region = view("pcx-7", "active");
    unknown_region.peer_region = None;
    assert!(pick_ours(&[unknown_region], &identity(), "stack-1", "Peering").is_some());
}

#[test]
fn pick_ours_prefers_the_most_advanced_then_the_lowest_id() {
    let found = [
        view("pcx-1", "pending-acceptance"),
        view("pcx-3", "active"),
        view("pcx-2", "active"),
        view("pcx-0", "provisioning"),
    ];
    assert_eq!(
        pick_ours(&found, &identity(), "stack-1", "Peering").unwrap().id,
        "pcx-2"
    );
    let found = [view("pcx-1", "initiating-request"), view("pcx-2", "pending-acceptance")];
    assert_eq!(
        pick_ours(&found, &identity(), "stack-1", "Peering").unwrap().id,
        "pcx-2"
    );
}

#[test]
fn a_change_of_vpc_peer_vpc_or_region_is_a_replacement() {
    let old = identity();
    assert!(!is_replacement(&old, &identity()));
    for change in [
        |i: &mut Identity| i.vpc_id = "vpc-0new".into(),
        |i: &mut Identity| i.peer_vpc_id = "vpc-0new".into(),
        |i: &mut Identity| i.peer_region = "eu-west-1".into(),
    ] {
        let mut new = identity();
        change(&mut new);
        assert!(is_replacement(&old, &new), "{new}");
        let UpdatePlan::Replace(why) = plan_update("pcx-1", Some(&old), &new, Some(&view("pcx-1", "active"))) else {
            panic!("{new} must replace")
        };
        assert!(why.contains(&format!("from {old} to {new}")), "{why}");
    }
}

#[test]
fn route_and_cidr_changes_reconcile_the_same_peering() {
    let mut new_props = sample();
    new_props.route_table_ids = vec!["rtb-9".into()];
    new_props.peer_vpc_cidr = "10.9.0.0/16".into();
    for code in ["active", "pending-acceptance", "provisioning", "initiating-request"] {
        assert_eq!(
            plan_update(
                "pcx-1",
                Some(&identity()),
                &Identity::of(&new_props),
                Some(&view("pcx-1", code))
            ),
            UpdatePlan::Reconcile,
            "{code}"
        );
    }
}

#[test]
fn an_update_replaces_a_peering_that_is_gone_over_or_unknown() {
    let new = identity();
    for code in ["deleting", "deleted", "rejected", "failed", "expired"] {
        let plan = plan_update("pcx-1", Some(&new), &new, Some(&view("pcx-1", code)));
        assert_eq!(plan, UpdatePlan::Replace(format!("pcx-1 is {code}")));
    }
    assert_eq!(
        plan_update("tandem-create-failed-r", None, &new, None),
        UpdatePlan::Replace("tandem-create-failed-r is not an existing peering connection".into())
    );
}

#[test]
fn without_old_properties_the_current_peering_decides() {
    let new = identity();
    assert_eq!(
        plan_update("pcx-1", None, &new, Some(&view("pcx-1", "active"))),
        UpdatePlan::Reconcile
    );
    let mut elsewhere = view("pcx-1", "active");
    elsewhere.peer_vpc_id = "vpc-0old".into();
    let UpdatePlan::Replace(why) = plan_update("pcx-1", None, &new, Some(&elsewhere)) else {
        panic!("a peering of other VPCs must be replaced")
    };
    assert!(
        why.contains("connects vpc-0aaa to vpc-0old, not vpc-0aaa to vpc-0bbb"),
        "{why}"
    );
}

#[test]
fn delete_calls_aws_only_for_a_peering_that_is_not_over() {
    assert!(!needs_delete(None));
    for code in ALL_CODES {
        let v = view("pcx-1", code);
        assert_eq!(needs_delete(Some(&v)), !Status::parse(code).is_over(), "{code}");
    }
}
