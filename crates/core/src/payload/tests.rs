//! What `Payload` keeps of whole, broken and deep events.

use super::*;
use serde_json::json;

fn read(text: &str) -> Payload {
    Payload::from_slice(text.as_bytes())
}

#[test]
fn a_whole_event_reads_as_its_value() {
    for value in [
        json!({"a": 1, "b": [true, null], "c": {"d": "e"}}),
        json!([1, "two", {"three": 3}]),
        json!("text"),
        json!(12.5),
        json!(null),
        json!({}),
        json!([]),
    ] {
        assert_eq!(read(&value.to_string()).to_value(), Ok(value.clone()), "{value}");
    }
}

#[test]
fn a_repeated_field_keeps_the_last_value_as_serde_json_does() {
    let payload = read(r#"{"a": "first", "a": "second"}"#);
    assert_eq!(payload.text("a").as_deref(), Some("second"));
    assert_eq!(payload.to_value(), Ok(json!({"a": "second"})));
}

#[test]
fn a_truncated_event_keeps_the_fields_before_the_cut() {
    let payload = read(r#"{"ResponseURL": "http://x/y", "RequestId": "r-1", "ResourceProperties": {"Region": "us-ea"#);
    assert_eq!(payload.text("ResponseURL").as_deref(), Some("http://x/y"));
    assert_eq!(payload.text("RequestId").as_deref(), Some("r-1"));
    assert_eq!(payload.text("ResourceProperties"), None);
    let error = payload.to_value().unwrap_err().to_string();
    assert!(
        error.starts_with("the event is not valid JSON (EOF while parsing"),
        "{error}"
    );
}

#[test]
fn a_field_nested_too_deep_is_named_and_the_others_are_kept() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let payload = read(&format!(
        r#"{{"RequestId": "r-1", "ResourceProperties": {{"X": {deep}}}}}"#
    ));
    assert_eq!(payload.text("RequestId").as_deref(), Some("r-1"));
    let error = payload.to_value().unwrap_err().to_string();
    assert!(
        error.starts_with("field `ResourceProperties` could not be read (recursion limit exceeded"),
        "{error}"
    );
    assert!(error.contains("flatten it"), "{error}");
}

#[test]
fn a_top_level_array_nested_too_deep_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let error = read(&deep).to_value().unwrap_err().to_string();
    assert!(
        error.starts_with("field `[0]` could not be read (recursion limit"),
        "{error}"
    );
}

#[test]
fn bytes_that_are_not_json_say_so() {
    for text in ["", "   ", "not json", "{\"a\": tru}", "\u{feff}{}", "{} {}"] {
        let payload = read(text);
        if text == "{} {}" {
            // Like the runtime, what follows a whole document is not read.
            assert_eq!(payload.to_value(), Ok(json!({})));
            continue;
        }
        let error = payload.to_value().unwrap_err().to_string();
        assert!(error.starts_with("the event is not valid JSON ("), "{text:?}: {error}");
    }
}

#[test]
fn a_huge_value_is_shortened_in_the_reason() {
    let huge = "x".repeat(1_000_000);
    let payload = read(&format!(r#"{{"a": "{huge}", "b": [1, 2"#));
    assert_eq!(payload.text("a").map(|a| a.len()), Some(1_000_000));
    let error = payload.to_value().unwrap_err().to_string();
    assert!(error.len() < 300, "{error}");
}

proptest::proptest! {
    /// Any bytes: never a panic, and whatever serde_json reads whole,
    /// `Payload` reads the same.
    #[test]
    fn any_bytes_read_as_serde_json_reads_them(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let payload = Payload::from_slice(&bytes);
        let value = payload.to_value();
        if let Ok(expected) = serde_json::from_slice::<Value>(&bytes) {
            proptest::prop_assert_eq!(value, Ok(expected));
        } else if let Err(error) = value {
            proptest::prop_assert!(!error.to_string().contains('\n'), "{}", error);
        }
    }

    /// JSON-looking text (brackets, quotes, commas, digits): the same.
    #[test]
    fn json_like_text_reads_as_serde_json_reads_it(text in "[\\[\\]{}\",:0-9a-z \\\\]{0,64}") {
        let value = Payload::from_slice(text.as_bytes()).to_value();
        if let Ok(expected) = serde_json::from_str::<Value>(&text) {
            proptest::prop_assert_eq!(value, Ok(expected));
        }
    }
}
