//! The runner's guarantees, one test each, with a scripted resource, a
//! recording transport and Tokio's paused clock.

use super::*;
use crate::cfn::event::service_timeout;
use crate::cfn::invocation::remaining_time;
use crate::cfn::props;
use crate::cfn::request::ResponseUrl;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Map;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// Behaves as its `Behaviour` property says.
#[derive(Default)]
struct Scripted {
    calls: Arc<AtomicU32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScriptedProps {
    behaviour: String,
    #[serde(default, deserialize_with = "props::opt_number")]
    polls: Option<u32>,
    #[serde(default, rename = "Password")]
    _password: Option<String>,
}

impl Scripted {
    async fn act(&self, p: &ScriptedProps, id: &str) -> Result<Outcome, super::super::HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match p.behaviour.as_str() {
            "ok" => Ok(Outcome::done(id).with_physical_id(id)),
            "data" => Ok(Outcome::done_with(
                id,
                json!({"Answer": "42"}).as_object().unwrap().clone(),
            )),
            "big-data" => Ok(Outcome::done_with(
                id,
                json!({"Blob": "x".repeat(5000)}).as_object().unwrap().clone(),
            )),
            "fail" => Err("the thing is broken: fix it".into()),
            "panic" => panic!("index out of bounds"),
            "hang" => std::future::pending().await,
            "long" => {
                Ok(Outcome::in_progress(json!({"polls": 0}), Duration::from_secs(30)).with_physical_id("partial-1"))
            }
            other => Err(format!("unknown behaviour {other}").into()),
        }
    }
}

impl CustomResource for Scripted {
    type Properties = ScriptedProps;
    const RESOURCE_TYPE: &'static str = "Custom::Scripted";
    const KNOWN_PROPERTIES: &'static [&'static str] = &["Behaviour", "Polls", "Password"];
    const SECRET_PROPERTIES: &'static [&'static str] = &["Password"];

    async fn create(&self, _: &Request, p: ScriptedProps) -> Result<Outcome, HandlerError> {
        self.act(&p, "new-id").await
    }
    async fn update(
        &self,
        _: &Request,
        id: &str,
        p: ScriptedProps,
        old: Option<ScriptedProps>,
    ) -> Result<Outcome, HandlerError> {
        let id = if old.is_none() {
            "rolled-back-id"
        } else if p.behaviour == "replace" {
            "replacement-id"
        } else {
            id
        };
        if p.behaviour == "replace" {
            return Ok(Outcome::done(id));
        }
        self.act(&p, id).await
    }
    async fn delete(&self, _: &Request, id: &str, p: ScriptedProps) -> Result<Outcome, HandlerError> {
        self.act(&p, id).await
    }
    async fn poll(&self, _: &Request, p: ScriptedProps, state: Value) -> Result<Outcome, HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let polls = state["polls"].as_u64().unwrap_or(0) as u32 + 1;
        if polls >= p.polls.unwrap_or(1) {
            Ok(Outcome::done("new-id"))
        } else {
            Ok(Outcome::in_progress(json!({"polls": polls}), Duration::from_secs(30)))
        }
    }
}

type HandlerError = super::super::HandlerError;

/// Records every body PUT, answering with the scripted statuses (then 200).
#[derive(Default)]
struct Recorder {
    bodies: Mutex<Vec<Value>>,
    statuses: Mutex<Vec<u16>>,
}

impl Transport for Recorder {
    fn put<'a>(&'a self, _: &'a ResponseUrl, body: Vec<u8>) -> BoxFuture<'a, Result<u16, String>> {
        self.bodies.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
        let status = self.statuses.lock().unwrap().pop().unwrap_or(200);
        Box::pin(async move { Ok(status) })
    }
}

/// Records hand-offs instead of invoking anything.
#[derive(Default)]
struct Relay {
    payloads: Mutex<Vec<(String, Value)>>,
}

impl Continuer for Relay {
    fn hand_off<'a>(&'a self, arn: &'a str, payload: Value) -> BoxFuture<'a, Result<(), String>> {
        self.payloads.lock().unwrap().push((arn.to_owned(), payload));
        Box::pin(async { Ok(()) })
    }
}

struct Harness {
    runner: Runner,
    recorder: Arc<Recorder>,
    relay: Arc<Relay>,
    calls: Arc<AtomicU32>,
}

fn harness() -> Harness {
    let recorder = Arc::new(Recorder::default());
    let relay = Arc::new(Relay::default());
    let resource = Scripted::default();
    let calls = resource.calls.clone();
    let runner = Runner::new(recorder.clone(), Settings::default())
        .serve(resource)
        .continue_with(relay.clone());
    Harness {
        runner,
        recorder,
        relay,
        calls,
    }
}

fn event(kind: &str, props: Value) -> Value {
    let mut e = json!({
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/presigned?X-Amz-Signature=topsecret",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/tandem-test/abc",
        "RequestId": "req-1",
        "ResourceType": "Custom::Scripted",
        "LogicalResourceId": "Thing",
        "ResourceProperties": props,
    });
    if kind != "Create" {
        e["PhysicalResourceId"] = json!("old-id");
    }
    if kind == "Update" {
        e["OldResourceProperties"] = e["ResourceProperties"].clone();
    }
    e
}

fn minutes(n: u64) -> Invocation {
    Invocation {
        remaining: Duration::from_secs(60 * n),
        function_arn: "arn:aws:lambda:us-east-1:1:function:topology".into(),
    }
}

impl Harness {
    async fn run(&self, event: Value, invocation: Invocation) -> Result<Value, RunnerError> {
        self.runner.handle(event, invocation).await
    }
    fn sent(&self) -> Vec<Value> {
        self.recorder.bodies.lock().unwrap().clone()
    }
    fn only_answer(&self) -> Value {
        let sent = self.sent();
        assert_eq!(sent.len(), 1, "expected exactly one answer, got {sent:?}");
        sent[0].clone()
    }
}

#[tokio::test(start_paused = true)]
async fn a_successful_create_answers_success_with_its_id_data_and_the_echoed_fields() {
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "data"})), minutes(1))
        .await
        .unwrap();
    let a = h.only_answer();
    assert_eq!(a["Status"], "SUCCESS");
    assert_eq!(a["PhysicalResourceId"], "new-id");
    assert_eq!(a["Data"]["Answer"], "42");
    assert_eq!(
        (a["RequestId"].as_str(), a["LogicalResourceId"].as_str()),
        (Some("req-1"), Some("Thing"))
    );
    assert_eq!(
        a["StackId"],
        "arn:aws:cloudformation:us-east-1:123456789012:stack/tandem-test/abc"
    );
}

#[tokio::test(start_paused = true)]
async fn a_handler_error_answers_failed_with_its_text_and_a_placeholder_id() {
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "fail"})), minutes(1))
        .await
        .unwrap();
    let a = h.only_answer();
    assert_eq!(a["Status"], "FAILED");
    assert_eq!(a["Reason"], "the thing is broken: fix it");
    assert_eq!(a["PhysicalResourceId"], "tandem-create-failed-req-1");
}

#[tokio::test(start_paused = true)]
async fn a_panic_answers_failed() {
    let h = harness();
    h.run(event("Update", json!({"Behaviour": "panic"})), minutes(1))
        .await
        .unwrap();
    let a = h.only_answer();
    assert_eq!(a["Status"], "FAILED");
    assert!(
        a["Reason"].as_str().unwrap().contains("panicked (index out of bounds)"),
        "{a}"
    );
    assert_eq!(a["PhysicalResourceId"], "old-id", "a failed update keeps its id");
}

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
            .contains("did not finish within the function's timeout"),
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
async fn an_unparseable_request_with_a_response_url_is_answered_failed_naming_the_field() {
    let h = harness();
    let mut e = event("Create", json!({"Behaviour": "ok"}));
    e["RequestType"] = json!("Upsert");
    h.run(e, minutes(1)).await.unwrap();
    let a = h.only_answer();
    assert_eq!(a["Status"], "FAILED");
    assert!(a["Reason"].as_str().unwrap().contains("field `RequestType`"), "{a}");
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn an_event_with_nowhere_to_answer_is_an_error_not_a_panic() {
    let h = harness();
    let error = h.run(json!({"hello": "world"}), minutes(1)).await.unwrap_err();
    assert!(matches!(error, RunnerError::NotARequest(_)), "{error}");
    assert!(h.sent().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_bad_property_is_answered_failed_naming_it() {
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "ok", "Polls": "many"})), minutes(1))
        .await
        .unwrap();
    let reason = h.only_answer()["Reason"].as_str().unwrap().to_owned();
    assert!(reason.starts_with("property `Polls`"), "{reason}");
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "ok", "Behavior": "x"})), minutes(1))
        .await
        .unwrap();
    let reason = h.only_answer()["Reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("`Behavior`: unknown property"), "{reason}");
}

#[tokio::test(start_paused = true)]
async fn an_unknown_resource_type_is_answered_failed_listing_the_served_ones() {
    let h = harness();
    let mut e = event("Create", json!({"Behaviour": "ok"}));
    e["ResourceType"] = json!("Custom::Other");
    h.run(e, minutes(1)).await.unwrap();
    let reason = h.only_answer()["Reason"].as_str().unwrap().to_owned();
    assert!(
        reason.contains("serves Custom::Scripted") && reason.contains("Custom::Other"),
        "{reason}"
    );
}

#[tokio::test(start_paused = true)]
async fn deleting_a_failed_create_succeeds_without_touching_anything() {
    let h = harness();
    let mut e = event("Delete", json!({"Behaviour": "fail"}));
    e["PhysicalResourceId"] = json!("tandem-create-failed-req-0");
    h.run(e, minutes(1)).await.unwrap();
    let a = h.only_answer();
    assert_eq!(
        (a["Status"].as_str(), a["PhysicalResourceId"].as_str()),
        (Some("SUCCESS"), Some("tandem-create-failed-req-0"))
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn deleting_a_failed_create_with_bad_properties_still_succeeds() {
    let h = harness();
    let mut e = event("Delete", json!({"Nonsense": "1"}));
    e["PhysicalResourceId"] = json!("tandem-create-failed-req-0");
    h.run(e, minutes(1)).await.unwrap();
    assert_eq!(h.only_answer()["Status"], "SUCCESS");
}

#[tokio::test(start_paused = true)]
async fn an_update_that_returns_a_new_id_is_a_replacement() {
    let h = harness();
    h.run(event("Update", json!({"Behaviour": "replace"})), minutes(1))
        .await
        .unwrap();
    let a = h.only_answer();
    assert_eq!(
        (a["Status"].as_str(), a["PhysicalResourceId"].as_str()),
        (Some("SUCCESS"), Some("replacement-id"))
    );
}

#[tokio::test(start_paused = true)]
async fn an_update_whose_old_properties_no_longer_parse_still_runs() {
    let h = harness();
    let mut e = event("Update", json!({"Behaviour": "ok"}));
    e["OldResourceProperties"] = json!({"Behaviour": "ok", "Polls": "not a number"});
    h.run(e, minutes(1)).await.unwrap();
    let a = h.only_answer();
    assert_eq!(
        (a["Status"].as_str(), a["PhysicalResourceId"].as_str()),
        (Some("SUCCESS"), Some("rolled-back-id"))
    );
}

#[tokio::test(start_paused = true)]
async fn oversized_data_is_answered_failed_within_the_limit() {
    let h = harness();
    h.run(event("Create", json!({"Behaviour": "big-data"})), minutes(1))
        .await
        .unwrap();
    let a = h.only_answer();
    assert_eq!(a["Status"], "FAILED");
    assert!(a.to_string().len() <= 4096);
    assert_eq!(
        a["PhysicalResourceId"], "new-id",
        "the resource exists, so its id is kept for the clean-up Delete"
    );
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

#[tokio::test(start_paused = true)]
async fn an_undeliverable_answer_is_an_error_for_lambda_to_retry() {
    let h = harness();
    *h.recorder.statuses.lock().unwrap() = vec![403];
    let error = h
        .run(event("Create", json!({"Behaviour": "ok"})), minutes(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RunnerError::Delivery {
                source: SendError::Rejected(403),
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_same_request_twice_gets_the_same_answer() {
    let h = harness();
    let e = event("Create", json!({"Behaviour": "data"}));
    h.run(e.clone(), minutes(1)).await.unwrap();
    h.run(e, minutes(1)).await.unwrap();
    let sent = h.sent();
    assert_eq!(sent[0], sent[1]);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn logs_never_contain_the_response_url_or_a_secret_property() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = harness();
    h.run(
        event("Create", json!({"Behaviour": "ok", "Password": "hunter2"})),
        minutes(1),
    )
    .await
    .unwrap();
    *h.recorder.statuses.lock().unwrap() = vec![500];
    h.run(
        event("Update", json!({"Behaviour": "fail", "Password": "hunter2"})),
        minutes(1),
    )
    .await
    .unwrap();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("custom-resource request") && logs.contains("answering CloudFormation"),
        "{logs}"
    );
    assert!(
        logs.contains("<redacted>"),
        "the secret's name is logged, its value hidden: {logs}"
    );
    for secret in [
        "hunter2",
        "topsecret",
        "presigned",
        "cloudformation-custom-resource-response",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs: {logs}");
    }
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
