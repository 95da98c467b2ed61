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
