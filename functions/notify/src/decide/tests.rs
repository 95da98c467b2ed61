use super::*;

/// An SNS event of one record, as the ops topic delivers it.
fn event(message: &str, subject: Option<&str>) -> Value {
    json!({"Records": [{"EventSource": "aws:sns", "Sns": {
        "Type": "Notification", "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:tandem-local-ops",
        "Subject": subject, "Message": message, "Timestamp": "2026-12-07T10:00:00.000Z",
        "MessageAttributes": {}}}]})
}

fn one(message: &str, subject: Option<&str>) -> ChatMessage {
    let mut all = messages(&event(message, subject)).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn alarm(state: &str, description: Option<&str>) -> String {
    json!({"AlarmName": "tandem-local-5xx-rate", "AlarmDescription": description,
           "NewStateValue": state, "NewStateReason": "Threshold Crossed: 1 datapoint [7.0] was greater than 5.0",
           "StateChangeTime": "2026-12-07T10:00:00.000+0000", "Region": "US East (N. Virginia)",
           "AlarmArn": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:tandem-local-5xx-rate"})
    .to_string()
}

#[test]
fn an_alarm_reads_as_its_state_name_region_and_reason() {
    let m = one(
        &alarm("ALARM", Some("5xx answers are high")),
        Some("ALARM: \"tandem-local-5xx-rate\""),
    );
    assert_eq!(
        m.text,
        "[ALARM] tandem-local-5xx-rate in us-east-1: 5xx answers are high\n\
         Threshold Crossed: 1 datapoint [7.0] was greater than 5.0"
    );
    assert_eq!(m.summary, "alarm tandem-local-5xx-rate is ALARM in us-east-1");
    assert_eq!(m.key, "m-1");
}

#[test]
fn an_alarm_back_to_ok_says_so() {
    let m = one(&alarm("OK", None), None);
    assert_eq!(
        m.text,
        "[OK] tandem-local-5xx-rate in us-east-1 is OK again\n\
         Threshold Crossed: 1 datapoint [7.0] was greater than 5.0"
    );
    let m = one(&alarm("INSUFFICIENT_DATA", None), None);
    assert!(
        m.text
            .starts_with("[INSUFFICIENT_DATA] tandem-local-5xx-rate in us-east-1 has too little data\n"),
        "{}",
        m.text
    );
}

#[test]
fn an_alarm_without_an_arn_names_cloudwatch_s_region() {
    let m = one(
        r#"{"AlarmName": "a", "NewStateValue": "ALARM", "Region": "US East (Ohio)"}"#,
        None,
    );
    assert_eq!(m.text, "[ALARM] a in US East (Ohio)");
    let m = one(r#"{"AlarmName": "a"}"#, None);
    assert_eq!(m.text, "[UNKNOWN] a", "a message with only a name still posts");
}

#[test]
fn a_failover_decision_reads_as_region_decision_reason_and_outcome() {
    let message = json!({"source": "tandem-failover", "region": "us-east-2", "decision": "Promote",
                         "reason": "us-east-1 failed 3 probes in a row", "outcome": "promoted at epoch 2"});
    let m = one(&message.to_string(), Some("tandem failover in us-east-2: Promote"));
    assert_eq!(
        m.text,
        "[tandem failover] us-east-2: Promote\nus-east-1 failed 3 probes in a row\nOutcome: promoted at epoch 2"
    );
    assert_eq!(m.summary, "tandem failover decided Promote in us-east-2");
}

#[test]
fn a_rollback_decision_reads_as_its_subject_and_text() {
    let m = one(
        "alarm tandem-local-5xx-rate fired while v2 was being released in us-east-1\n\nOutcome: stopped deployment d-1",
        Some("tandem rollback in us-east-1: StopDeployment"),
    );
    assert_eq!(
        m.text,
        "tandem rollback in us-east-1: StopDeployment\n\
         alarm tandem-local-5xx-rate fired while v2 was being released in us-east-1\n\
         Outcome: stopped deployment d-1"
    );
    assert_eq!(m.summary, "tandem rollback in us-east-1: StopDeployment");
}

#[test]
fn a_message_that_is_not_json_is_posted_as_it_is() {
    let m = one("the database is slow\nsee the dashboard", None);
    assert_eq!(m.text, "the database is slow\nsee the dashboard");
    assert_eq!(m.summary, "the database is slow");
    let m = one("[1, 2]", Some("  "));
    assert_eq!(m.text, "[1, 2]", "JSON of another shape, and a blank subject");
    let m = one("", None);
    assert_eq!((m.text.as_str(), m.summary.as_str()), ("", "(an empty message)"));
}

#[test]
fn an_oversize_message_is_cut_saying_so() {
    let m = one(&"é".repeat(10_000), Some("big"));
    assert_eq!(m.text.chars().count(), MAX_TEXT_CHARS);
    assert!(m.text.starts_with("big\né"), "{}", &m.text[..20]);
    assert!(m.text.ends_with("… (cut: 10004 characters in all)"), "{}", m.text);
    let long_subject = "s".repeat(500);
    let m = one("x", Some(&long_subject));
    assert_eq!(m.summary.chars().count(), MAX_SUMMARY_CHARS);
    let exact = "y".repeat(MAX_TEXT_CHARS);
    assert_eq!(one(&exact, None).text, exact, "a text of exactly the limit is not cut");
}

#[test]
fn the_body_is_json_with_the_text() {
    let m = one("a \"quoted\" line\nand another", None);
    let body: Value = serde_json::from_str(&m.body()).unwrap();
    assert_eq!(body, json!({"text": "a \"quoted\" line\nand another"}));
}

#[test]
fn every_record_gives_one_message_in_order() {
    let mut two = event("first", None);
    let mut second = two["Records"][0].clone();
    second["Sns"]["MessageId"] = json!("m-2");
    second["Sns"]["Message"] = json!("second");
    two["Records"].as_array_mut().unwrap().push(second);
    let all = messages(&two).unwrap();
    let got: Vec<(&str, &str)> = all.iter().map(|m| (m.key.as_str(), m.text.as_str())).collect();
    assert_eq!(got, vec![("m-1", "first"), ("m-2", "second")]);
}

#[test]
fn an_event_with_no_records_names_the_field() {
    let e = messages(&json!({"Records": []})).unwrap_err().to_string();
    assert!(e.contains("field `Records` is empty"), "{e}");
    let e = messages(&json!({"detail-type": "Scheduled Event"}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing field `Records`"), "{e}");
}

#[test]
fn a_broken_record_names_the_field() {
    for (broken, field) in [
        (
            json!({"Records": [{"Sns": {"MessageId": "m", "Message": 7}}]}),
            "`Records[0].Sns.Message`",
        ),
        (
            json!({"Records": [{"Sns": {"Message": "x"}}]}),
            "missing field `MessageId`",
        ),
        (json!({"Records": [{}]}), "missing field `Sns`"),
        (json!({"Records": "x"}), "`Records`"),
        (json!([1]), "the event is an array, not a JSON object"),
        (json!(null), "the event is null, not a JSON object"),
    ] {
        let e = messages(&broken).unwrap_err().to_string();
        assert!(e.contains(field) && !e.contains('\n'), "{broken}: {e}");
        assert!(
            e.contains("this function takes the ops topic's SNS notifications"),
            "{e}"
        );
    }
}
