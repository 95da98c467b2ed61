//! Every branch of the hook's decisions.

use super::*;

const S: fn(u64) -> Duration = Duration::from_secs;

fn target(ip: &str, state: &str, reason: Option<&str>) -> Target {
    Target {
        ip: ip.into(),
        port: 8080,
        state: state.into(),
        reason: reason.map(str::to_owned),
    }
}

fn probe(endpoint: &str, path: &str, expected: u16, answer: Result<u16, &str>) -> Probe {
    Probe {
        endpoint: endpoint.into(),
        expected: SmokePath {
            path: path.into(),
            status: expected,
        },
        answer: answer.map_err(str::to_owned),
    }
}

#[test]
fn all_healthy_targets_are_ready_to_probe() {
    let targets = [target("10.0.1.5", "healthy", None), target("10.0.2.6", "healthy", None)];
    assert_eq!(
        readiness("tandem-dev-green", &targets),
        Readiness::Ready(vec!["10.0.1.5:8080".into(), "10.0.2.6:8080".into()])
    );
}

#[test]
fn no_targets_or_any_unhealthy_one_is_not_ready_naming_each() {
    assert_eq!(
        readiness("g", &[]),
        Readiness::NotYet("the green target group g has no targets yet".into())
    );
    let targets = [
        target("10.0.1.5", "healthy", None),
        target("10.0.2.6", "unhealthy", Some("Target.ResponseCodeMismatch")),
        target("10.0.2.7", "initial", None),
    ];
    let Readiness::NotYet(why) = readiness("g", &targets) else {
        panic!("not ready")
    };
    assert_eq!(
        why,
        "in the green target group g, 2 of 3 targets are not healthy: \
         10.0.2.6:8080 is unhealthy (Target.ResponseCodeMismatch); 10.0.2.7:8080 is initial"
    );
}

#[test]
fn probes_pass_only_when_every_answer_is_the_expected_status() {
    let ok = [
        probe("a:1", "/health", 200, Ok(200)),
        probe("a:1", "/gone", 404, Ok(404)),
    ];
    assert_eq!(
        probes_pass(&ok).unwrap(),
        "the green targets are healthy and answered /health, /gone as expected"
    );
    let bad = [
        probe("a:1", "/health", 200, Ok(200)),
        probe("a:1", "/db", 200, Ok(503)),
        probe("b:1", "/db", 200, Err("connection refused")),
    ];
    assert_eq!(
        probes_pass(&bad).unwrap_err(),
        "GET /db on a:1 answered 503, not 200; GET /db on b:1 failed: connection refused"
    );
    assert_eq!(probes_pass(&[]).unwrap_err(), "nothing was probed");
}

#[test]
fn many_failures_are_summarised() {
    let bad: Vec<Probe> = (0..5)
        .map(|i| probe(&format!("h{i}:1"), "/health", 200, Ok(500)))
        .collect();
    let why = probes_pass(&bad).unwrap_err();
    assert!(why.ends_with(" (and 2 more)"), "{why}");
}

#[test]
fn a_probe_verdict_is_answered_at_once() {
    let ok = next(Look::Probed(Ok("fine".into())), S(1), S(240), S(5), false);
    assert_eq!(ok, Next::Answer(Verdict::Succeeded("fine".into())));
    for can_wait in [false, true] {
        let bad = next(Look::Probed(Err("GET /db failed".into())), S(1), S(240), S(5), can_wait);
        assert_eq!(
            bad,
            Next::Answer(Verdict::Failed("GET /db failed".into())),
            "{can_wait}"
        );
    }
}

#[test]
fn not_ready_looks_again_within_the_budget_then_fails_with_the_last_reason() {
    let look = || Look::NotReady("10.0.2.6:8080 is initial".into());
    assert_eq!(next(look(), S(0), S(240), S(5), false), Next::LookAgain(S(5)));
    assert_eq!(next(look(), S(234), S(240), S(5), false), Next::LookAgain(S(5)));
    assert_eq!(
        next(look(), S(235), S(240), S(5), false),
        Next::Answer(Verdict::Failed(
            "still not ready after 235s of the 240s budget: 10.0.2.6:8080 is initial".into()
        ))
    );
    let missing = next(Look::NoGreen("no listener".into()), S(300), S(240), S(5), false);
    assert!(matches!(missing, Next::Answer(Verdict::Failed(why)) if why.ends_with("no listener")));
}

#[test]
fn ecs_is_told_in_progress_instead_of_waiting_here() {
    assert_eq!(
        next(Look::NotReady("initial".into()), S(0), S(240), S(5), true),
        Next::Pending("initial".into())
    );
}

const RULE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/tandem-dev/1/2/3";

fn weighted(groups: &[(&str, Option<i32>)]) -> Forward {
    Forward {
        target_group_arn: None,
        weighted: groups.iter().map(|(g, w)| ((*g).to_owned(), *w)).collect(),
    }
}

#[test]
fn the_rule_green_is_the_group_with_the_highest_weight() {
    let green = |groups: &[(&str, Option<i32>)]| rule_green(RULE, Some(&weighted(groups)));
    assert_eq!(green(&[("blue", Some(100)), ("green", Some(0))]).unwrap(), "blue");
    assert_eq!(green(&[("blue", Some(0)), ("green", Some(100))]).unwrap(), "green");
    assert_eq!(green(&[("blue", Some(10)), ("green", Some(90))]).unwrap(), "green");
    assert_eq!(green(&[("green", None)]).unwrap(), "green", "no weight counts as 1");
    assert_eq!(green(&[("blue", Some(0)), ("green", None)]).unwrap(), "green");
}

#[test]
fn a_single_target_group_is_green() {
    let forward = Forward {
        target_group_arn: Some("green".into()),
        weighted: Vec::new(),
    };
    assert_eq!(rule_green(RULE, Some(&forward)).unwrap(), "green");
}

#[test]
fn a_rule_that_can_never_name_green_is_misconfigured_naming_the_rule_and_the_fix() {
    let Err(Look::Misconfigured(e)) = rule_green(RULE, None) else {
        panic!("no forward action is a setting to fix")
    };
    assert!(
        e.starts_with(&format!("the test listener rule {RULE} has no forward action")),
        "{e}"
    );
    assert!(
        e.contains("TANDEM_TEST_LISTENER_RULE_ARN must name the ECS service's TestListenerRule"),
        "{e}"
    );
    assert_eq!(
        rule_green(RULE, Some(&Forward::default())),
        Err(Look::Misconfigured(format!(
            "the test listener rule {RULE} has a forward action with no target group"
        )))
    );
}

#[test]
fn a_rule_whose_weights_name_no_green_yet_is_looked_at_again() {
    assert_eq!(
        rule_green(RULE, Some(&weighted(&[("blue", Some(0)), ("green", Some(0))]))),
        Err(Look::NoGreen(format!(
            "the test listener rule {RULE} forwards to no target group with a weight above zero"
        )))
    );
    let Err(Look::NoGreen(e)) = rule_green(RULE, Some(&weighted(&[("blue", Some(50)), ("green", Some(50))]))) else {
        panic!("an even split may change")
    };
    assert!(
        e.contains("splits its traffic evenly (50 each) between blue and green"),
        "{e}"
    );
}

#[test]
fn a_misconfigured_look_fails_at_once_even_where_it_could_wait() {
    for can_wait in [false, true] {
        assert_eq!(
            next(
                Look::Misconfigured("no forward action".into()),
                S(0),
                S(240),
                S(5),
                can_wait
            ),
            Next::Answer(Verdict::Failed("no forward action".into())),
            "{can_wait}"
        );
    }
}

#[test]
fn a_rollback_stage_never_fails_nor_waits_and_keeps_what_was_seen() {
    let stage = "PRODUCTION_TRAFFIC_SHIFT";
    let ok = Next::Answer(Verdict::Succeeded("fine".into()));
    assert_eq!(at_rollback_stage(stage, ok.clone()), ok);
    for (decided, seen) in [
        (Next::Answer(Verdict::Failed("GET /db failed".into())), "GET /db failed"),
        (
            Next::Pending("10.0.2.6:8080 is initial".into()),
            "10.0.2.6:8080 is initial",
        ),
        (Next::LookAgain(S(5)), "the green side was not ready"),
    ] {
        let Next::Answer(Verdict::Succeeded(why)) = at_rollback_stage(stage, decided.clone()) else {
            panic!("{decided:?} must be answered SUCCEEDED")
        };
        assert!(
            why.starts_with("not failed at PRODUCTION_TRAFFIC_SHIFT, which ECS also runs while it rolls"),
            "{why}"
        );
        assert!(why.ends_with(seen), "{why}");
    }
}
