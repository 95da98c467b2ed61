//! What the runner answers, for every kind of request and handler result.

use super::*;

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
async fn the_same_request_twice_makes_one_resource_and_answers_each_delivery_with_its_id() {
    let h = harness();
    let e = event("Create", json!({"Behaviour": "made-once"}));
    h.run(e.clone(), minutes(1)).await.unwrap();
    h.run(e, minutes(1)).await.unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "one answer per delivery: {sent:?}");
    for answer in &sent {
        assert_eq!(answer["Status"], "SUCCESS");
        assert_eq!(answer["PhysicalResourceId"], "thing-req-1", "the same id both times");
    }
    assert_eq!(h.made.lock().unwrap().len(), 1, "one resource");
    assert_eq!(h.calls.load(Ordering::SeqCst), 2, "the handler ran for each delivery");
}

#[tokio::test(start_paused = true)]
async fn a_request_without_a_stack_id_is_still_answered_failed_naming_it() {
    let h = harness();
    let mut e = event("Create", json!({"Behaviour": "ok"}));
    e.as_object_mut().unwrap().remove("StackId");
    h.run(e, minutes(1)).await.unwrap();
    let a = h.only_answer();
    assert_eq!(a["Status"], "FAILED");
    let reason = a["Reason"].as_str().unwrap();
    assert!(reason.contains("missing field `StackId`"), "{reason}");
    assert_eq!(
        (a["RequestId"].as_str(), a["LogicalResourceId"].as_str()),
        (Some("req-1"), Some("Thing"))
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_request_without_a_request_id_cannot_be_answered_and_is_an_error() {
    let h = harness();
    let mut e = event("Create", json!({"Behaviour": "ok"}));
    e.as_object_mut().unwrap().remove("RequestId");
    let error = h.run(e, minutes(1)).await.unwrap_err();
    assert!(error.to_string().contains("RequestId"), "{error}");
    assert!(h.sent().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_delete_without_a_physical_id_succeeds_without_touching_anything() {
    for id in [json!(null), json!(""), json!("  ")] {
        let h = harness();
        let mut e = event("Delete", json!({"Behaviour": "fail"}));
        e["PhysicalResourceId"] = id.clone();
        h.run(e, minutes(1)).await.unwrap();
        let a = h.only_answer();
        assert_eq!(a["Status"], "SUCCESS", "{id}: {a}");
        assert_eq!(a["PhysicalResourceId"], "tandem-create-failed-req-1", "{id}");
        assert_eq!(h.calls.load(Ordering::SeqCst), 0, "{id}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_huge_property_value_leaves_the_cause_and_the_fix_in_the_reason() {
    let h = harness();
    h.run(
        event("Create", json!({"Behaviour": "ok", "Polls": "9".repeat(200_000)})),
        minutes(1),
    )
    .await
    .unwrap();
    let a = h.only_answer();
    let reason = a["Reason"].as_str().unwrap();
    assert!(reason.starts_with("property `Polls`: "), "{reason}");
    assert!(reason.contains("(200000 characters)"), "{reason}");
    assert!(reason.len() < 400, "{} characters", reason.len());
}

#[tokio::test(start_paused = true)]
async fn validation_runs_before_create_and_update_but_never_blocks_a_delete() {
    for kind in ["Create", "Update"] {
        let h = harness();
        h.run(event(kind, json!({"Behaviour": "invalid"})), minutes(1))
            .await
            .unwrap();
        let a = h.only_answer();
        assert_eq!(a["Status"], "FAILED", "{kind}");
        assert!(a["Reason"].as_str().unwrap().starts_with("property `Behaviour`"), "{a}");
        assert_eq!(h.calls.load(Ordering::SeqCst), 0, "{kind}: the handler never ran");
    }
    let h = harness();
    h.run(event("Delete", json!({"Behaviour": "invalid"})), minutes(1))
        .await
        .unwrap();
    assert_eq!(h.calls.load(Ordering::SeqCst), 1, "Delete runs the handler");
}

/// The malformed samples under `events/`: each must be answered, never
/// left waiting.
#[tokio::test(start_paused = true)]
async fn the_malformed_samples_are_each_answered() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(expected) = name.strip_prefix("malformed-").and_then(|rest| rest.split('-').next()) else {
            continue;
        };
        let mut e: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        e["ResourceType"] = json!("Custom::Scripted");
        let h = harness();
        h.run(e, minutes(1)).await.unwrap();
        let a = h.only_answer();
        assert_eq!(a["Status"].as_str().unwrap().to_lowercase(), expected, "{name}: {a}");
        assert!(a.to_string().len() <= 4096, "{name}");
        seen += 1;
    }
    assert!(seen >= 3, "the malformed samples are there ({seen})");
}
