//! Every malformed event in `tests/bad-events/topology/`, read as the Lambda
//! runtime reads it and handed to the runner that `main` builds (every
//! resource type served, every AWS client a mock that expects no call): no
//! panic, and either a FAILED answer to the ResponseURL whose reason names
//! the problem, or, when nothing says where to answer, an error that does.
//! Then the same runner's parsing under proptest: arbitrary JSON values,
//! arbitrary bytes and mutated samples (`PROPTEST_CASES`, 256 by default).

use futures_util::future::BoxFuture;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_core::cfn::request::ResponseUrl;
use tandem_core::cfn::sender::Transport;
use tandem_core::cfn::{Invocation, Runner, Settings};
use tandem_core::payload::Payload;
use tandem_testing::bad_events::{Expect, Failures, assert_readable, corpus, without_panic};
use tandem_testing::{Script, mock_client, regional_clients};
use topology::{blue_green, cross_region_outputs, vpc_peering};

/// Records every response body PUT to a ResponseURL.
#[derive(Default)]
struct Recorder(Mutex<Vec<Value>>);

impl Transport for Recorder {
    fn put<'a>(&'a self, _: &'a ResponseUrl, body: Vec<u8>) -> BoxFuture<'a, Result<u16, String>> {
        let body = serde_json::from_slice(&body).expect("the response body is JSON");
        self.0.lock().unwrap().push(body);
        Box::pin(async { Ok(200) })
    }
}

/// The runner `main` builds, with clients that expect no call at all.
fn runner(recorder: Arc<Recorder>) -> Runner {
    let script = Script::new("us-east-1");
    let none: [&aws_smithy_mocks::Rule; 0] = [];
    Runner::new(recorder, Settings::default())
        .serve(cross_region_outputs::CrossRegionOutputs::new(regional_clients!(
            aws_sdk_cloudformation,
            script
        )))
        .serve(vpc_peering::VpcPeering::new(regional_clients!(aws_sdk_ec2, script)))
        .serve(blue_green::BlueGreenDeployment::new(
            mock_client!(aws_sdk_ecs, none),
            mock_client!(aws_sdk_codedeploy, none),
            mock_client!(aws_sdk_dynamodb, none),
            "us-east-1",
        ))
}

#[tokio::test(start_paused = true)]
async fn every_bad_event_is_answered_or_refused_naming_the_problem() {
    let events = corpus("topology");
    let mut failures = Failures::default();
    for event in &events {
        let recorder = Arc::new(Recorder::default());
        let runner = runner(recorder.clone());
        let invocation = Invocation {
            remaining: Duration::from_secs(900),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:tandem-local-topology".into(),
        };
        let payload = Payload::from_slice(&event.bytes);
        let result = without_panic(&event.name, runner.handle_payload(&payload, invocation)).await;
        let sent = recorder.0.lock().unwrap().clone();
        let name = &event.name;
        failures.check(name, || match &event.expect {
            Expect::Failed(want) => {
                let summary = result.unwrap_or_else(|e| panic!("{name}: not answered: {e}"));
                assert_eq!(sent.len(), 1, "{name}: one answer, not {sent:?}");
                let answer = &sent[0];
                assert_eq!(answer["Status"], "FAILED", "{name}: {answer}");
                assert_eq!(summary["Status"], "FAILED", "{name}: {summary}");
                assert!(answer.to_string().len() <= 4096, "{name}: over CloudFormation's limit");
                let reason = answer["Reason"].as_str().unwrap_or_default();
                assert_readable(name, reason, want);
            }
            Expect::Error(want) => {
                assert!(sent.is_empty(), "{name}: answered {sent:?}");
                let error = result.expect_err(name);
                assert_readable(name, &error.to_string(), want);
                assert_readable(name, &format!("{error:?}"), want);
            }
        });
    }
    failures.assert_none(events.len());
}

/// Runs `bytes` through a runner that serves nothing (so no handler and no
/// AWS call runs): either exactly one bounded answer, or a one-line error
/// and no answer.
fn check_runner(bytes: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
    let recorder = Arc::new(Recorder::default());
    let runner = Runner::new(recorder.clone(), Settings::default());
    let invocation = Invocation {
        remaining: Duration::from_secs(900),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:tandem-local-topology".into(),
    };
    let clock = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let payload = Payload::from_slice(bytes);
    let result = clock.block_on(runner.handle_payload(&payload, invocation));
    let sent = recorder.0.lock().unwrap().clone();
    match result {
        Ok(_) => {
            prop_assert_eq!(sent.len(), 1, "one answer");
            prop_assert!(sent[0].to_string().len() <= 4096);
            prop_assert!(matches!(sent[0]["Status"].as_str(), Some("SUCCESS" | "FAILED")));
        }
        Err(error) => {
            prop_assert!(sent.is_empty());
            let message = error.to_string();
            prop_assert!(
                !message.contains('\n') && message.chars().count() <= 1000,
                "{}",
                message
            );
        }
    }
    Ok(())
}

tandem_testing::parser_properties!(
    check_runner,
    &["cross-region-outputs-", "vpc-peering-", "blue-green-", "malformed-"]
);
