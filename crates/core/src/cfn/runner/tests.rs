//! The runner's guarantees, one test each, with a scripted resource, a
//! recording transport and Tokio's paused clock: the answers it gives
//! (`answers`) and its timing (`time`); its logs are tested in
//! `tests/logs.rs`, a binary of their own.

mod answers;
mod time;

use super::*;
use crate::cfn::event::service_timeout;
use crate::cfn::invocation::remaining_time;
use crate::cfn::props;
use crate::cfn::request::ResponseUrl;
use crate::cfn::{CustomResource, Outcome};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Map;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// Behaves as its `Behaviour` property says.
#[derive(Default)]
struct Scripted {
    calls: Arc<AtomicU32>,
    /// What the `made-once` behaviour made, by request id.
    made: Arc<Mutex<std::collections::BTreeSet<String>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
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
    const SECRET_PROPERTIES: &'static [&'static str] = &["Password"];

    fn validate(p: &ScriptedProps) -> Result<(), String> {
        match p.behaviour.as_str() {
            "invalid" => Err("property `Behaviour`: \"invalid\" is refused: use \"ok\"".into()),
            _ => Ok(()),
        }
    }

    async fn create(&self, request: &Request, p: ScriptedProps) -> Result<Outcome, HandlerError> {
        if p.behaviour == "made-once" {
            // Idempotent by request id, as a real resource is by tag or name.
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.made.lock().unwrap().insert(request.request_id.clone());
            return Ok(Outcome::done(format!("thing-{}", request.request_id)));
        }
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
    made: Arc<Mutex<std::collections::BTreeSet<String>>>,
}

fn harness() -> Harness {
    let recorder = Arc::new(Recorder::default());
    let relay = Arc::new(Relay::default());
    let resource = Scripted::default();
    let calls = resource.calls.clone();
    let made = resource.made.clone();
    let runner = Runner::new(recorder.clone(), Settings::default())
        .serve(resource)
        .continue_with(relay.clone());
    Harness {
        runner,
        recorder,
        relay,
        calls,
        made,
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
