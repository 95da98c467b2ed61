//! Tests of the log lines' reading, merging and formatting.

use super::*;

fn event(region: &str, function: &str, timestamp: u64, message: &str) -> RawEvent {
    RawEvent {
        region: region.into(),
        function: function.into(),
        event_id: format!("{region}-{timestamp}"),
        timestamp,
        message: message.into(),
    }
}

/// 2026-11-26 09:01:01 UTC in Unix milliseconds.
const T: u64 = (1_795_680_000 + 3_661) * 1000;

#[test]
fn a_json_line_gives_its_own_time_level_message_fields_and_request_id() {
    let text = r#"{"timestamp":"2026-11-26T09:01:01.042917Z","level":"INFO","message":"audited","kind":"rollback","key":"rollback#stop#d-1","span":{"requestId":"9f1c-req","name":"Lambda runtime invoke"}}"#;
    // CloudWatch's own timestamp is later (ingestion): the line's own decides.
    let line = read_event(&event("us-east-1", "rollback", T + 5_000, text)).unwrap();
    assert_eq!(line.at_ms, T + 42);
    assert_eq!(line.level, "INFO");
    // The fields in the order the function wrote them.
    assert_eq!(line.message, "audited kind=rollback key=rollback#stop#d-1");
    assert_eq!(line.request_id.as_deref(), Some("9f1c-req"));
    assert_eq!(
        format_line(&line),
        "11-26 09:01:01.042 us-east-1 rollback    INFO  audited kind=rollback key=rollback#stop#d-1  [9f1c-req]"
    );
}

#[test]
fn non_string_fields_are_shown_as_json_and_a_bad_timestamp_falls_back() {
    let text = r#"{"timestamp":"yesterday","level":"warn","message":"probe failed","failures":3,"ok":false}"#;
    let line = read_event(&event("us-east-2", "failover", T, text)).unwrap();
    assert_eq!(line.at_ms, T);
    assert_eq!(line.level, "WARN");
    assert_eq!(line.message, "probe failed failures=3 ok=false");
    assert_eq!(line.request_id, None);
}

#[test]
fn the_runtimes_markers_are_dropped_and_its_report_kept_with_the_request_id() {
    assert_eq!(
        read_event(&event(
            "us-east-1",
            "rollback",
            T,
            "START RequestId: r1 Version: $LATEST"
        )),
        None
    );
    assert_eq!(
        read_event(&event("us-east-1", "rollback", T, "END RequestId: r1")),
        None
    );
    let report = read_event(&event(
        "us-east-1",
        "rollback",
        T,
        "REPORT RequestId: r1\tDuration: 12 ms\tBilled Duration: 12 ms",
    ))
    .unwrap();
    assert_eq!(report.level, "-");
    assert_eq!(report.request_id.as_deref(), Some("r1"));
    assert_eq!(report.message, "REPORT Duration: 12 ms  Billed Duration: 12 ms");
    let plain = read_event(&event("us-east-1", "rollback", T, "thread panicked\n")).unwrap();
    assert_eq!((plain.level.as_str(), plain.message.as_str()), ("-", "thread panicked"));
    // JSON that is not an object is a plain line too.
    assert_eq!(
        read_event(&event("us-east-1", "x", T, "[1,2]")).unwrap().message,
        "[1,2]"
    );
}

#[test]
fn both_regions_merge_by_time_with_a_fixed_order_for_ties() {
    let at = |region: &str, function: &str, ms: u64| LogLine {
        at_ms: ms,
        region: region.into(),
        function: function.into(),
        level: "INFO".into(),
        message: format!("{region} {function} {ms}"),
        request_id: None,
    };
    let merged = merge(vec![
        at("us-east-2", "failover", 30),
        at("us-east-1", "rollback", 20),
        at("us-east-2", "rollback", 10),
        at("us-east-1", "topology", 30),
        at("us-east-1", "failover", 30),
    ]);
    let order: Vec<&str> = merged.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(
        order,
        [
            "us-east-2 rollback 10",
            "us-east-1 rollback 20",
            "us-east-1 failover 30",
            "us-east-1 topology 30",
            "us-east-2 failover 30",
        ]
    );
}

#[test]
fn the_filter_is_a_quoted_phrase_with_its_quotes_escaped() {
    assert_eq!(filter_pattern("StopDeployment"), "\"StopDeployment\"");
    assert_eq!(filter_pattern(r#"say "hi" \o/"#), r#""say \"hi\" \\o/""#);
}

#[test]
fn follow_backs_off_while_quiet_and_returns_at_once_after_new_lines() {
    let mut wait = FOLLOW_FIRST;
    let mut waits = Vec::new();
    for _ in 0..6 {
        wait = next_wait(wait, false);
        waits.push(wait.as_secs());
    }
    assert_eq!(waits, [4, 8, 16, 30, 30, 30]);
    assert_eq!(next_wait(FOLLOW_MOST, true), FOLLOW_FIRST);
}
