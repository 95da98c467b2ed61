//! What the runner logs, and what it never logs: no ResponseURL (a
//! presigned credential), no secret property, and properties bounded. A test
//! binary of its own, with one test, because `tracing`'s per-thread
//! subscriber and its global interest cache race when other tests log
//! alongside it.

use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_core::cfn::request::ResponseUrl;
use tandem_core::cfn::sender::Transport;
use tandem_core::cfn::{CustomResource, HandlerError, Invocation, Outcome, Request, Runner, Settings};

/// Succeeds or fails as its `Behaviour` says; `Password` is secret.
struct Resource;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Props {
    behaviour: String,
    #[serde(default)]
    #[allow(dead_code)]
    password: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    blob: Option<String>,
}

impl CustomResource for Resource {
    type Properties = Props;
    const RESOURCE_TYPE: &'static str = "Custom::Logged";
    const SECRET_PROPERTIES: &'static [&'static str] = &["Password"];

    async fn create(&self, _: &Request, p: Props) -> Result<Outcome, HandlerError> {
        match p.behaviour.as_str() {
            "ok" => Ok(Outcome::done("id-1")),
            _ => Err("the thing is broken: fix it".into()),
        }
    }
    async fn update(&self, r: &Request, _: &str, p: Props, _: Option<Props>) -> Result<Outcome, HandlerError> {
        self.create(r, p).await
    }
    async fn delete(&self, _: &Request, id: &str, _: Props) -> Result<Outcome, HandlerError> {
        Ok(Outcome::done(id))
    }
}

/// Answers the PUTs with the statuses queued (then 200).
#[derive(Default)]
struct Statuses(Mutex<Vec<u16>>);

impl Transport for Statuses {
    fn put<'a>(&'a self, _: &'a ResponseUrl, _: Vec<u8>) -> BoxFuture<'a, Result<u16, String>> {
        let status = self.0.lock().unwrap().pop().unwrap_or(200);
        Box::pin(async move { Ok(status) })
    }
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

fn event(kind: &str, props: Value) -> Value {
    json!({
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/presigned?X-Amz-Signature=topsecret",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/tandem-test/abc",
        "RequestId": "req-1",
        "ResourceType": "Custom::Logged",
        "LogicalResourceId": "Thing",
        "PhysicalResourceId": "id-1",
        "ResourceProperties": props,
        "OldResourceProperties": props,
    })
}

#[tokio::test(start_paused = true)]
async fn logs_never_contain_the_response_url_or_a_secret_property_and_stay_bounded() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let transport = Arc::new(Statuses::default());
    let runner = Runner::new(transport.clone(), Settings::default()).serve(Resource);
    let invocation = || Invocation {
        remaining: Duration::from_secs(60),
        function_arn: "arn:aws:lambda:us-east-1:1:function:topology".into(),
    };
    let huge = "b".repeat(200_000);
    let ok = json!({"Behaviour": "ok", "Password": "hunter2", "Blob": huge});
    runner.handle(event("Create", ok), invocation()).await.unwrap();
    *transport.0.lock().unwrap() = vec![500];
    let fail = json!({"Behaviour": "fail", "Password": "hunter2"});
    runner.handle(event("Update", fail), invocation()).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("custom-resource request") && logs.contains("answering CloudFormation"),
        "{logs}"
    );
    assert!(
        logs.contains(r#""request_type":"Create""#) && !logs.contains("Request {"),
        "the request is logged field by field, not as a Debug dump: {logs}"
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
    assert!(logs.contains("(200000 characters)"), "the huge property is shortened");
    let longest = logs.lines().map(str::len).max().unwrap_or(0);
    let long = logs.lines().find(|l| l.len() == longest).unwrap_or_default();
    assert!(
        longest < 8192,
        "a log line of {longest} bytes: {}",
        &long[..long.len().min(600)]
    );
}
