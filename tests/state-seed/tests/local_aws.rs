//! The rollback function's audit trail on the local AWS, read as typed
//! records (what tests/e2e/rollback.sh asserted with `aws dynamodb` calls,
//! JMESPath and sleep loops). With a release recorded in flight, an alarm
//! set to ALARM reaches the function through alarm -> ops topic -> Lambda;
//! its decision and the refused CodeDeploy call (no CodeDeploy here) land in
//! the trail. The same SNS message delivered twice gives one action.
//!
//! It needs the local stacks deployed (`make deploy ENV=local`; in `make
//! test` it runs right after tests/e2e/rollback.sh, which deploys them) and
//! runs only with `TANDEM_LOCAL_AWS=1`; otherwise it prints SKIPPED.

use aws_sdk_cloudwatch::types::StateValue;
use std::io::Write;
use std::time::Duration;
use tandem_core::state::{AuditEntry, AuditKind, StateTable};
use tandem_state_seed as seed;
use tokio::sync::Mutex;

const P: &str = "us-east-1";
const TOPIC: &str = "arn:aws:sns:us-east-1:000000000000:tandem-local-ops";
/// The function reads the region's newest release: one scenario at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The table, or `None` (with a SKIPPED line past the test harness's capture)
/// when the local AWS was not asked for.
async fn local_table(test: &str) -> Option<StateTable> {
    if std::env::var("TANDEM_LOCAL_AWS").as_deref() != Ok("1") {
        let line = format!("SKIPPED {test}: set TANDEM_LOCAL_AWS=1 with the local stacks deployed (make test does)\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
        return None;
    }
    let table = seed::table(P).await.expect("the local AWS's configuration");
    if let Err(e) = table.roles().await {
        panic!(
            "{test} needs the local stacks deployed (make deploy ENV=local, or run tests/e2e/rollback.sh first): {e}"
        );
    }
    Some(table)
}

/// Waits up to 30 s for the rollback entry `key` to reach a final outcome
/// (neither "decided" nor "acting"); the entry as it stands then.
async fn settled(table: &StateTable, key: &str, done: impl Fn(&str) -> bool) -> Option<AuditEntry> {
    let mut entry = None;
    for _ in 0..60 {
        entry = table
            .audit_entry(AuditKind::Rollback, key)
            .await
            .expect("the audit entry");
        if entry.as_ref().is_some_and(|e| done(&e.outcome)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    entry
}

fn final_outcome(outcome: &str) -> bool {
    !matches!(outcome, "decided" | "acting")
}

/// A deployment id of this run: `d-<tag><seconds>`.
fn deployment(tag: &str) -> String {
    format!("d-{tag}{}", seed::now())
}

#[tokio::test]
async fn an_alarm_during_a_release_is_decided_and_its_refused_stop_audited() {
    let Some(table) = local_table("an_alarm_during_a_release").await else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let d = deployment("E2E");
    let release = format!("e2e-{d}");
    seed::seed_release(&table, P, &release, &d, "e2e").await.unwrap();
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&seed::local_config(P).await.unwrap());
    for (state, reason) in [
        (StateValue::Ok, "e2e: reset"),
        (StateValue::Alarm, "e2e: the release made it sick"),
    ] {
        (cloudwatch.set_alarm_state())
            .alarm_name("tandem-local-5xx-rate")
            .state_value(state)
            .state_reason(reason)
            .send()
            .await
            .expect("the alarm's state set");
    }
    let claim = settled(&table, &format!("stop#{d}"), final_outcome).await;
    seed::forget_releases(&table, P, &release).await.unwrap();

    let claim = claim.expect("the alarm reached the function, which claimed the stop within 30 s");
    assert!(
        claim
            .outcome
            .contains(&format!("failed: CodeDeploy StopDeployment of {d} failed")),
        "the claim says the refused stop: {claim:?}"
    );
    assert!(
        claim.outcome.contains("not retried automatically"),
        "and that it will not retry: {claim:?}"
    );
    assert_eq!(claim.decision, "StopDeployment");
    assert!(
        claim.reason.contains(&format!(
            "alarm tandem-local-5xx-rate fired while e2e was being released in {P}"
        )),
        "the reason names the alarm and the release: {claim:?}"
    );
    assert_eq!(claim.region, P);
}

#[tokio::test]
async fn the_same_alarm_delivered_twice_is_acted_on_once() {
    let Some(table) = local_table("the_same_alarm_delivered_twice").await else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let d = deployment("DUP");
    let release = format!("e2e-{d}");
    seed::seed_release(&table, P, &release, &d, "e2e").await.unwrap();
    let sns = aws_sdk_sns::Client::new(&seed::local_config(P).await.unwrap());
    // The time is opaque to the function: a key of this run's own.
    let changed = format!("{}-dup-{d}", seed::now());
    let message = serde_json::json!({"AlarmName": "tandem-local-latency-p99", "NewStateValue": "ALARM",
        "NewStateReason": "e2e", "StateChangeTime": changed})
    .to_string();
    let event = format!("alarm#tandem-local-latency-p99#Alarm#{changed}");
    let publish = || sns.publish().topic_arn(TOPIC).message(&message).send();

    publish().await.expect("the first delivery published");
    let first = settled(&table, &event, final_outcome).await;
    let first_claim = table
        .audit_entry(AuditKind::Rollback, &format!("stop#{d}"))
        .await
        .unwrap();
    publish().await.expect("the second delivery published");
    // The first delivery's action failed (no CodeDeploy here): its decision
    // says "failed:", so the redelivery is decided again, and finds the
    // incident acted on already.
    let second = settled(&table, &event, |o| o.contains("acted on already")).await;
    let claims = table
        .audit_entries(AuditKind::Rollback, &format!("stop#{d}"))
        .await
        .unwrap();
    seed::forget_releases(&table, P, &release).await.unwrap();

    let first = first.expect("the first delivery was decided within 30 s");
    assert!(
        first
            .outcome
            .contains(&format!("failed: CodeDeploy StopDeployment of {d} failed")),
        "the first delivery acted: {first:?}"
    );
    let second = second.expect("the event's entry is there");
    assert!(
        second.outcome.contains("was acted on already: one action per incident"),
        "the second delivery was decided again and took no second action: {second:?}"
    );
    assert_eq!(claims.len(), 1, "one action record for the incident: {claims:?}");
    assert_eq!(
        claims.first().map(|c| c.at),
        first_claim.map(|c| c.at),
        "and the one action as it was"
    );
}
