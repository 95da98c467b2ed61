//! When the runner answers: deadlines, polls, hand-offs and the ServiceTimeout.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_hung_handler_is_answered_failed_before_the_lambda_deadline() {
    let h = harness();
    let start = Instant::now();
    h.run(event("Create", json!({"Behaviour": "hang"})), minutes(1))
        .await
        .unwrap();
    let took = Instant::now() - start;
    assert_eq!(
        took,
        Duration::from_secs(55),
        "answers at the deadline less the 5 s margin"
    );
    let a = h.only_answer();
    assert_eq!(a["Status"], "FAILED");
    assert!(
        a["Reason"]
            .as_str()
            .unwrap()
            .contains("was still running when the function's time ran out"),
        "{a}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_answer_margin_is_configurable() {
    let recorder = Arc::new(Recorder::default());
    let settings = Settings {
        answer_margin: Duration::from_secs(20),
        ..Settings::default()
    };
    let runner = Runner::new(recorder.clone(), settings).serve(Scripted::default());
    let start = Instant::now();
    runner
        .handle(event("Create", json!({"Behaviour": "hang"})), minutes(1))
        .await
        .unwrap();
    assert_eq!(Instant::now() - start, Duration::from_secs(40));
    assert_eq!(recorder.bodies.lock().unwrap()[0]["Status"], "FAILED");
}

#[tokio::test(start_paused = true)]
async fn a_short_wait_is_polled_inside_the_same_invocation() {
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "long", "Polls": "3"})), minutes(15))
        .await
        .unwrap();
    let a = h.only_answer();
    assert_eq!(
        (a["Status"].as_str(), a["PhysicalResourceId"].as_str()),
        (Some("SUCCESS"), Some("new-id"))
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 4, "one create and three polls");
    assert!(h.relay.payloads.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_long_operation_hands_on_and_the_next_invocation_finishes_it() {
    let h = harness();
    let first = h
        .run(event("Create", json!({"Behaviour": "long", "Polls": "3"})), minutes(1))
        .await
        .unwrap();
    assert_eq!(first["Status"], "IN_PROGRESS");
    assert!(h.sent().is_empty(), "nothing is answered while the work goes on");
    let (arn, payload) = h.relay.payloads.lock().unwrap().pop().unwrap();
    assert_eq!(arn, "arn:aws:lambda:us-east-1:1:function:topology");
    assert_eq!(payload["TandemContinuation"]["Hops"], 1);
    assert_eq!(payload["TandemContinuation"]["PhysicalResourceId"], "partial-1");
    h.run(payload, minutes(15)).await.unwrap();
    let a = h.only_answer();
    assert_eq!(
        (a["Status"].as_str(), a["RequestId"].as_str()),
        (Some("SUCCESS"), Some("req-1"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_after_progress_answers_with_the_partial_id_for_clean_up() {
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "long", "Polls": "5"})), minutes(1))
        .await
        .unwrap();
    let (_, mut payload) = h.relay.payloads.lock().unwrap().pop().unwrap();
    payload["TandemContinuation"]["Request"]["ResourceProperties"]["Polls"] = json!("x");
    h.run(payload, minutes(1)).await.unwrap();
    let a = h.only_answer();
    assert_eq!(
        (a["Status"].as_str(), a["PhysicalResourceId"].as_str()),
        (Some("FAILED"), Some("partial-1"))
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_continuer_a_long_operation_fails_clearly() {
    let recorder = Arc::new(Recorder::default());
    let runner = Runner::new(recorder.clone(), Settings::default()).serve(Scripted::default());
    runner
        .handle(event("Create", json!({"Behaviour": "long", "Polls": "9"})), minutes(1))
        .await
        .unwrap();
    let a = recorder.bodies.lock().unwrap()[0].clone();
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"].as_str().unwrap().contains("no continuation"), "{a}");
}

#[tokio::test(start_paused = true)]
async fn an_operation_past_its_service_timeout_fails() {
    let h = harness();
    h.run(
        event(
            "Create",
            json!({"Behaviour": "long", "Polls": "9", "ServiceTimeout": "60"}),
        ),
        minutes(1),
    )
    .await
    .unwrap();
    let (_, mut payload) = h.relay.payloads.lock().unwrap().pop().unwrap();
    let started = payload["TandemContinuation"]["StartedAt"].as_u64().unwrap();
    payload["TandemContinuation"]["StartedAt"] = json!(started - 45);
    h.run(payload, minutes(15)).await.unwrap();
    let reason = h.only_answer()["Reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("ServiceTimeout of 60s"), "{reason}");
}

#[tokio::test(start_paused = true)]
async fn a_chain_of_hand_offs_is_bounded() {
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "long", "Polls": "99"})), minutes(1))
        .await
        .unwrap();
    let (_, mut payload) = h.relay.payloads.lock().unwrap().pop().unwrap();
    payload["TandemContinuation"]["Hops"] = json!(10);
    h.run(payload, minutes(1)).await.unwrap();
    let reason = h.only_answer()["Reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("handed on 10 times"), "{reason}");
}

#[test]
fn service_timeout_defaults_to_an_hour_and_is_capped() {
    let with = |v: Value| {
        let mut r: Request = serde_json::from_value(event("Create", json!({}))).unwrap();
        if !v.is_null() {
            r.resource_properties = Map::from_iter([("ServiceTimeout".to_owned(), v)]);
        }
        service_timeout(&r)
    };
    assert_eq!(with(Value::Null), Duration::from_secs(3600));
    assert_eq!(with(json!("120")), Duration::from_secs(120));
    assert_eq!(with(json!(90)), Duration::from_secs(90));
    assert_eq!(with(json!("99999")), Duration::from_secs(3600));
}

#[test]
fn remaining_time_reads_real_deadlines_and_local_emulator_values() {
    let now = 1_795_680_941_541;
    assert_eq!(remaining_time(now + 30_000, now), Duration::from_secs(30));
    assert_eq!(
        remaining_time(now - 5, now),
        Duration::ZERO,
        "a passed deadline leaves nothing"
    );
    assert_eq!(
        remaining_time(600_000, now),
        Duration::from_secs(600),
        "cargo lambda watch sends the timeout"
    );
    assert_eq!(
        remaining_time(5_000_000, now),
        Duration::from_secs(900),
        "capped at Lambda's maximum"
    );
    assert_eq!(remaining_time(0, now), Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn a_hung_handler_is_answered_before_the_service_timeout_when_that_comes_first() {
    let h = harness();
    let start = Instant::now();
    h.run(
        event("Create", json!({"Behaviour": "hang", "ServiceTimeout": "120"})),
        minutes(15),
    )
    .await
    .unwrap();
    assert_eq!(
        Instant::now() - start,
        Duration::from_secs(115),
        "CloudFormation gives up at 120 s; the answer comes 5 s before"
    );
    let a = h.only_answer();
    assert_eq!(a["Status"], "FAILED");
    let reason = a["Reason"].as_str().unwrap();
    assert!(reason.contains("ServiceTimeout of 120s"), "{reason}");
}
