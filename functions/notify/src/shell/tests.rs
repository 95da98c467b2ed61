//! The shell against mocked Secrets Manager and DynamoDB, and a poster that
//! answers as told: what it claims, posts and records, in order.

use super::*;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_smithy_mocks::{Rule, mock};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex};
use tandem_testing::mock_client;
use tandem_testing::state::{put_already_claimed, put_claimed};

const URL: &str = "https://hooks.example.com/services/T0/B0/very-secret-token";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:1:secret:tandem-dev/ops-webhook-AbCd";

/// A poster that answers from a script and keeps what it was sent.
#[derive(Clone, Default)]
struct Script {
    answers: Arc<StdMutex<VecDeque<Result<u16, String>>>>,
    sent: Arc<StdMutex<Vec<(String, String)>>>,
}

impl Poster for Script {
    fn post_json<'a>(
        &'a self,
        url: &'a str,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        self.sent.lock().unwrap().push((url.to_owned(), body));
        let answer = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("a post nobody expected");
        Box::pin(async move { answer })
    }
}

fn script(answers: &[Result<u16, &str>]) -> Script {
    let s = Script::default();
    s.answers
        .lock()
        .unwrap()
        .extend(answers.iter().map(|a| a.map_err(str::to_owned)));
    s
}

fn notify(secrets: &[Rule], table: &[Rule], poster: &Script) -> Notify {
    Notify::new(
        mock_client!(aws_sdk_secretsmanager, secrets),
        StateTable::new(mock_client!(aws_sdk_dynamodb, table), "tandem-dev-state"),
        Box::new(poster.clone()),
        Settings {
            region: "us-east-1".into(),
            secret_id: SECRET.into(),
            timeout_secs: 10,
            state_table: "tandem-dev-state".into(),
        },
    )
}

fn event(id: &str, message: &str) -> Value {
    json!({"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": id, "Subject": null, "Message": message}}]})
}

fn secret(value: &'static str) -> Rule {
    mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(|i| i.secret_id() == Some(SECRET))
        .then_output(move || GetSecretValueOutput::builder().secret_string(value).build())
}

/// The claim of message `id`; `fresh`: it takes effect.
fn claim(id: &str, fresh: bool) -> Rule {
    let sk = format!("notify#{id}");
    if fresh {
        put_claimed(sk)
    } else {
        put_already_claimed(sk)
    }
}

/// The outcome written, which must contain `needle`.
fn outcome(needle: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(move |i| {
            let values = i.expression_attribute_values().unwrap();
            let text = values[":outcome"].as_s().unwrap();
            text.contains(needle) && !text.contains("very-secret-token")
        })
        .then_output(|| UpdateItemOutput::builder().build())
}

/// The earlier entry of message `id`, with `outcome`.
fn earlier(id: &'static str, outcome: &'static str) -> Rule {
    mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        let s = |v: &str| AttributeValue::S(v.into());
        let item = HashMap::from([
            ("pk".to_owned(), s("audit")),
            ("sk".to_owned(), s(&format!("notify#{id}"))),
            ("kind".to_owned(), s("notify")),
            ("key".to_owned(), s(id)),
            ("at".to_owned(), AttributeValue::N("1".into())),
            ("decision".to_owned(), s("Post")),
            ("reason".to_owned(), s("x")),
            ("action".to_owned(), s("posted to the chat webhook")),
            ("outcome".to_owned(), s(outcome)),
            ("region".to_owned(), s("us-east-1")),
        ]);
        GetItemOutput::builder().set_item(Some(item)).build()
    })
}

#[tokio::test]
async fn a_message_is_claimed_posted_as_text_and_recorded() {
    let poster = script(&[Ok(200)]);
    let n = notify(
        &[secret(URL)],
        &[claim("m-1", true), outcome("delivered: the webhook answered HTTP 200")],
        &poster,
    );
    let answer = n.handle(&event("m-1", "the database is slow")).await.unwrap();
    assert_eq!(answer["delivered"][0]["message"], "m-1");
    let sent = poster.sent.lock().unwrap().clone();
    assert_eq!(
        sent,
        vec![(URL.to_owned(), r#"{"text":"the database is slow"}"#.to_owned())]
    );
}

#[tokio::test]
async fn the_secret_is_read_once_while_posts_succeed() {
    let poster = script(&[Ok(200), Ok(204)]);
    let table = [
        claim("m-1", true),
        outcome("HTTP 200"),
        claim("m-2", true),
        outcome("HTTP 204"),
    ];
    let n = notify(&[secret(URL)], &table, &poster);
    n.handle(&event("m-1", "one")).await.unwrap();
    n.handle(&event("m-2", "two")).await.unwrap();
    assert_eq!(poster.sent.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_redelivery_of_a_delivered_message_posts_nothing() {
    let poster = script(&[]);
    let table = [
        claim("m-1", false),
        earlier("m-1", "delivered: the webhook answered HTTP 200"),
    ];
    let n = notify(&[], &table, &poster);
    let answer = n.handle(&event("m-1", "again")).await.unwrap();
    assert_eq!(answer["delivered"][0]["outcome"], "delivered already");
}

#[tokio::test]
async fn a_claim_without_an_outcome_fails_for_a_retry() {
    let poster = script(&[]);
    let n = notify(&[], &[claim("m-1", false), earlier("m-1", "decided")], &poster);
    let e = n.handle(&event("m-1", "again")).await.unwrap_err().to_string();
    assert!(e.contains("recorded no outcome") && e.contains("notify#m-1"), "{e}");
}

#[tokio::test]
async fn a_refusal_fails_the_invocation_is_audited_and_reads_the_secret_again() {
    let poster = script(&[Ok(404), Ok(200)]);
    let table = [
        claim("m-1", true),
        outcome("failed: the chat webhook at hooks.example.com answered HTTP 404"),
        claim("m-1", true),
        outcome("delivered"),
    ];
    let n = notify(&[secret(URL), secret(URL)], &table, &poster);
    let e = n.handle(&event("m-1", "x")).await.unwrap_err().to_string();
    assert!(
        e.contains("answered HTTP 404") && e.contains("dead-letter queue"),
        "{e}"
    );
    assert!(!e.contains("very-secret-token") && !e.contains('\n'), "{e}");
    // The redelivery (its claim says failed:) reads the secret again and posts.
    n.handle(&event("m-1", "x")).await.unwrap();
}

#[tokio::test]
async fn a_timeout_fails_the_invocation_with_the_reason() {
    let poster = script(&[Err("no answer within 10s")]);
    let n = notify(
        &[secret(URL)],
        &[claim("m-1", true), outcome("failed: the post to the chat webhook")],
        &poster,
    );
    let e = format!("{:?}", n.handle(&event("m-1", "x")).await.unwrap_err());
    assert!(e.contains("hooks.example.com failed (no answer within 10s)"), "{e}");
    assert!(!e.contains("very-secret-token"), "{e}");
}

#[tokio::test]
async fn a_secret_that_is_no_https_url_is_refused_without_repeating_it() {
    let poster = script(&[]);
    let n = notify(
        &[secret("http://hooks.example.com/very-secret-token")],
        &[claim("m-1", true), outcome("does not hold an https:// URL")],
        &poster,
    );
    let e = n.handle(&event("m-1", "x")).await.unwrap_err().to_string();
    assert!(
        e.contains("does not hold an https:// URL") && !e.contains("very-secret-token"),
        "{e}"
    );
    assert!(poster.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_event_calls_nothing() {
    let n = notify(&[], &[], &script(&[]));
    let e = n.handle(&json!({"Records": []})).await.unwrap_err().to_string();
    assert!(e.contains("`Records` is empty"), "{e}");
}

#[test]
fn the_url_never_shows_in_debug() {
    assert_eq!(format!("{:?}", WebhookUrl(URL.into())), "WebhookUrl(hidden)");
}
