//! The first checks of an event, the same in every function.

use super::BadEvent;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// `event` as a JSON object, or a refusal saying what arrived instead:
/// "the event is a number, not a JSON object: this function takes …".
pub fn object<'a>(event: &'a Value, takes: &str) -> Result<&'a Map<String, Value>, BadEvent> {
    event.as_object().ok_or_else(|| {
        BadEvent::new(format!(
            "the event is {}, not a JSON object: this function takes {takes}",
            crate::text::json_kind(event)
        ))
    })
}

/// `value` (the `what` of an event) as a `T`, or a refusal naming the
/// field at fault, values quoted short: "the SNS event's field
/// `Records[0].Sns` could not be read (…); this function takes …".
pub fn read<T: DeserializeOwned>(value: &Value, what: &str, takes: &str) -> Result<T, BadEvent> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let why = crate::text::shorten_values(&e.inner().to_string());
        BadEvent::new(match e.path().to_string().as_str() {
            "." => format!("the {what} could not be read ({why}); this function takes {takes}"),
            path => format!("the {what}'s field `{path}` could not be read ({why}); this function takes {takes}"),
        })
    })
}
