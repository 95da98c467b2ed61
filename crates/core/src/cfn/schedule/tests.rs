//! Every branch of the runner's decisions, with no clock.

use super::*;
use serde_json::json;

const S: fn(u64) -> Duration = Duration::from_secs;

// ---- deadlines ----

#[test]
fn the_lambda_deadline_sets_the_answer_when_it_comes_first() {
    let d = deadlines(S(60), S(3600), S(5));
    assert_eq!(d.answer, S(55));
    assert_eq!(d.limit, Limit::Lambda);
    assert_eq!(d.send, S(60) - SEND_RESERVE);
}

#[test]
fn the_service_timeout_sets_the_answer_when_it_comes_first() {
    // A 900 s function on a resource with ServiceTimeout 120: CloudFormation
    // stops waiting at 120 s, so the answer must come before that.
    let d = deadlines(S(900), S(120), S(5));
    assert_eq!(d.answer, S(115));
    assert_eq!(d.limit, Limit::ServiceTimeout);
    assert_eq!(d.send, S(900) - SEND_RESERVE, "the PUT may still use the Lambda's time");
}

#[test]
fn a_short_window_shrinks_the_margin_to_a_third() {
    let d = deadlines(S(9), S(3600), S(5));
    assert_eq!((d.answer, d.margin), (S(6), S(3)));
    let d = deadlines(S(900), S(6), S(5));
    assert_eq!((d.answer, d.margin, d.limit), (S(4), S(2), Limit::ServiceTimeout));
}

#[test]
fn nothing_left_means_answer_at_once() {
    let d = deadlines(S(60), Duration::ZERO, S(5));
    assert_eq!(d.answer, Duration::ZERO);
    let d = deadlines(Duration::ZERO, S(60), S(5));
    assert_eq!((d.answer, d.send), (Duration::ZERO, Duration::ZERO));
}

#[test]
fn equal_limits_are_read_as_the_lambda_deadline() {
    assert_eq!(deadlines(S(60), S(60), S(5)).limit, Limit::Lambda);
}

// ---- after_step ----

fn moment() -> Moment {
    Moment {
        was_poll: false,
        state: Value::Null,
        partial_id: Some("pcx-0".into()),
        elapsed: S(10),
        service_timeout: S(3600),
        until_answer: S(600),
        poll_reserve: S(20),
        hops: 0,
        max_hops: 10,
        can_hand_off: true,
        limit: Limit::Lambda,
        margin: S(5),
        request_type: "Create",
    }
}

fn in_progress(id: Option<&str>, after: u64) -> StepEnd {
    StepEnd::Returned(Outcome::InProgress {
        physical_id: id.map(str::to_owned),
        state: json!({"n": 1}),
        check_after: S(after),
    })
}

fn reason(next: Next) -> (String, Option<String>) {
    match next {
        Next::Finish(Final::Failed { reason, partial_id }) => (reason, partial_id),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn done_answers_success_with_the_handler_s_id_and_data() {
    let next = after_step(StepEnd::Returned(Outcome::done("id-1").no_echo()), moment());
    assert_eq!(
        next,
        Next::Finish(Final::Done {
            physical_id: "id-1".into(),
            data: Default::default(),
            no_echo: true
        })
    );
}

#[test]
fn a_failure_answers_failed_with_the_partial_id() {
    let (why, id) = reason(after_step(StepEnd::Failed("broken: fix it".into()), moment()));
    assert_eq!((why.as_str(), id.as_deref()), ("broken: fix it", Some("pcx-0")));
}

#[test]
fn a_short_wait_polls_here_with_the_newest_id() {
    let next = after_step(in_progress(Some("pcx-1"), 30), moment());
    assert_eq!(
        next,
        Next::Poll {
            after: S(30),
            state: json!({"n": 1}),
            partial_id: Some("pcx-1".into())
        }
    );
    let Next::Poll { partial_id, .. } = after_step(in_progress(None, 30), moment()) else {
        panic!("polls")
    };
    assert_eq!(partial_id.as_deref(), Some("pcx-0"), "no new id keeps the old one");
}

#[test]
fn a_wait_that_leaves_no_time_for_the_poll_hands_off() {
    // 600 s left: a 580 s wait plus the 20 s reserve does not fit.
    let next = after_step(in_progress(None, 580), moment());
    assert_eq!(
        next,
        Next::HandOff {
            state: json!({"n": 1}),
            partial_id: Some("pcx-0".into()),
            hops: 1
        }
    );
    assert!(matches!(
        after_step(in_progress(None, 579), moment()),
        Next::Poll { .. }
    ));
}

#[test]
fn a_wait_past_the_service_timeout_fails_naming_it() {
    let at = Moment {
        elapsed: S(100),
        service_timeout: S(120),
        ..moment()
    };
    let (why, id) = reason(after_step(in_progress(Some("pcx-2"), 20), at.clone()));
    assert!(
        why.contains("ServiceTimeout of 120s") && why.contains("raise ServiceTimeout"),
        "{why}"
    );
    assert_eq!(id.as_deref(), Some("pcx-2"));
    assert!(matches!(after_step(in_progress(None, 19), at), Next::Poll { .. }));
}

#[test]
fn hand_offs_need_a_continuer_and_are_bounded() {
    let far = || in_progress(None, 900);
    let without = Moment {
        can_hand_off: false,
        ..moment()
    };
    assert!(reason(after_step(far(), without)).0.contains("no continuation"));
    let last = Moment { hops: 9, ..moment() };
    assert!(matches!(after_step(far(), last), Next::HandOff { hops: 10, .. }));
    let over = Moment { hops: 10, ..moment() };
    assert!(reason(after_step(far(), over)).0.contains("handed on 10 times"));
}

#[test]
fn a_poll_out_of_time_hands_off_with_its_own_state() {
    let at = Moment {
        was_poll: true,
        state: json!({"phase": "Activating"}),
        ..moment()
    };
    assert_eq!(
        after_step(StepEnd::OutOfTime, at),
        Next::HandOff {
            state: json!({"phase": "Activating"}),
            partial_id: Some("pcx-0".into()),
            hops: 1
        }
    );
}

#[test]
fn a_poll_out_of_time_past_the_service_timeout_fails() {
    let at = Moment {
        was_poll: true,
        elapsed: S(120),
        service_timeout: S(120),
        ..moment()
    };
    assert!(
        reason(after_step(StepEnd::OutOfTime, at))
            .0
            .contains("ServiceTimeout of 120s")
    );
}

#[test]
fn a_first_step_out_of_time_fails_naming_the_limit_that_ran_out() {
    let (lambda, id) = reason(after_step(StepEnd::OutOfTime, moment()));
    assert!(
        lambda.starts_with("Create was still running when the function's time ran out"),
        "{lambda}"
    );
    assert!(
        lambda.contains("raise the function's timeout (at most 900s)"),
        "{lambda}"
    );
    assert_eq!(id.as_deref(), Some("pcx-0"));
    let at = Moment {
        limit: Limit::ServiceTimeout,
        elapsed: S(115),
        service_timeout: S(120),
        request_type: "Update",
        ..moment()
    };
    let (service, _) = reason(after_step(StepEnd::OutOfTime, at));
    assert!(
        service.starts_with("Update was still running 115s into its ServiceTimeout of 120s (answering 5s before it)"),
        "{service}"
    );
    assert!(!service.contains("function's timeout"), "{service}");
}
