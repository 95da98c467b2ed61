//! Typed resource properties from CloudFormation's all-strings wire format.
//!
//! CloudFormation sends every scalar property as a string: `true` arrives as
//! `"true"` and `3` as `"3"`. Declare the property struct with the real types
//! and mark non-string scalars with the deserializers here:
//!
//! ```
//! use serde::Deserialize;
//! use tandem_core::cfn::props;
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "PascalCase")]
//! struct Props {
//!     region: String,
//!     #[serde(default, deserialize_with = "props::bool")]
//!     strict: bool,
//!     #[serde(default, deserialize_with = "props::opt_number")]
//!     retries: Option<u32>,
//! }
//!
//! let raw = serde_json::json!({"Region": "us-east-2", "Strict": "true", "Retries": "3"});
//! let p: Props = props::parse(raw.as_object().unwrap()).unwrap();
//! assert!(p.strict);
//! assert_eq!(p.retries, Some(3));
//! ```

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::{Map, Value};
use std::fmt::Display;
use std::str::FromStr;

/// Properties the framework adds or reads itself, never passed on as errors.
pub const FRAMEWORK_PROPERTIES: &[&str] = &["ServiceToken", "ServiceTimeout"];

/// A property that could not be parsed, with the path of the field at fault.
#[derive(Debug, thiserror::Error)]
#[error("property `{path}`: {message}")]
pub struct PropertyError {
    /// Where the bad value is, such as `OutputKeys[2]` (`.` for the whole object).
    pub path: String,
    /// What is wrong, and what was expected.
    pub message: String,
}

/// Parses raw properties into `T`, naming the field at fault on error.
pub fn parse<T: DeserializeOwned>(raw: &Map<String, Value>) -> Result<T, PropertyError> {
    let value = Value::Object(raw.clone());
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        PropertyError { path, message }
    })
}

/// A copy of `raw` with the values of `secret` names (at any depth) replaced,
/// for logging.
pub fn redacted(raw: &Map<String, Value>, secret: &[&str]) -> Value {
    fn walk(value: &Value, secret: &[&str]) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if secret.contains(&k.as_str()) {
                            Value::String("<redacted>".into())
                        } else {
                            walk(v, secret)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, secret)).collect()),
            other => other.clone(),
        }
    }
    walk(&Value::Object(raw.clone()), secret)
}

/// A scalar as CloudFormation may send it: a string, or (from other senders) a
/// JSON number or boolean.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Bool(bool),
    Number(serde_json::Number),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Bool(b) => b.to_string(),
            Self::Number(n) => n.to_string(),
        }
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Deserializes `"true"`/`"false"` (any case) or a JSON boolean.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let text = Scalar::deserialize(d)?.into_text();
    parse_bool(&text).ok_or_else(|| D::Error::custom(format!("expected \"true\" or \"false\", got {text:?}")))
}

/// Like [`bool`], for an optional field (use with `#[serde(default)]`).
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    bool(d).map(Some)
}

/// Deserializes a number sent as a string (`"3"`) or as a JSON number.
pub fn number<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let text = Scalar::deserialize(d)?.into_text();
    text.trim()
        .parse::<T>()
        .map_err(|e| D::Error::custom(format!("expected a {}, got {text:?} ({e})", short_type_name::<T>())))
}

/// Like [`number`], for an optional field (use with `#[serde(default)]`).
pub fn opt_number<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    number(d).map(Some)
}

fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    match name {
        "u8" | "u16" | "u32" | "u64" | "usize" => "whole number of 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "whole number",
        "f32" | "f64" => "number",
        _ => name.rsplit("::").next().unwrap_or(name),
    }
}

/// Rejects properties that `T` does not know, so that a typo is an error
/// rather than a silently ignored setting. The framework's own properties
/// ([`FRAMEWORK_PROPERTIES`]) are always allowed.
pub fn reject_unknown(raw: &Map<String, Value>, known: &[&str]) -> Result<(), PropertyError> {
    for key in raw.keys() {
        if !known.contains(&key.as_str()) && !FRAMEWORK_PROPERTIES.contains(&key.as_str()) {
            let mut expected: Vec<&str> = known.to_vec();
            expected.sort_unstable();
            return Err(PropertyError {
                path: key.clone(),
                message: format!("unknown property; this resource takes {}", expected.join(", ")),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Props {
        name: String,
        #[serde(default, deserialize_with = "bool")]
        enabled: bool,
        #[serde(default, deserialize_with = "opt_number")]
        count: Option<u32>,
        #[serde(default)]
        keys: Vec<String>,
    }

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn strings_become_typed_values() {
        let p: Props = parse(&map(json!({"Name": "a", "Enabled": "TRUE", "Count": " 3 "}))).unwrap();
        assert_eq!((p.name.as_str(), p.enabled, p.count), ("a", true, Some(3)));
    }

    #[test]
    fn native_json_scalars_are_accepted_too() {
        let p: Props = parse(&map(json!({"Name": "a", "Enabled": false, "Count": 7}))).unwrap();
        assert_eq!((p.enabled, p.count), (false, Some(7)));
    }

    #[test]
    fn missing_optional_fields_take_defaults() {
        let p: Props = parse(&map(json!({"Name": "a"}))).unwrap();
        assert_eq!((p.enabled, p.count, p.keys.len()), (false, None, 0));
    }

    #[test]
    fn a_bad_boolean_names_the_field_and_the_accepted_values() {
        let e = parse::<Props>(&map(json!({"Name": "a", "Enabled": "yes"}))).unwrap_err();
        assert_eq!(e.path, "Enabled");
        assert!(e.to_string().contains("\"true\" or \"false\""), "{e}");
        assert!(e.to_string().contains("\"yes\""), "{e}");
    }

    #[test]
    fn a_bad_number_names_the_field_and_the_value() {
        let e = parse::<Props>(&map(json!({"Name": "a", "Count": "-1"}))).unwrap_err();
        assert_eq!(e.path, "Count");
        assert!(e.message.contains("whole number of 0 or more"), "{e}");
    }

    #[test]
    fn a_bad_list_item_names_its_index() {
        let e = parse::<Props>(&map(json!({"Name": "a", "Keys": ["x", {"y": 1}]}))).unwrap_err();
        assert_eq!(e.path, "Keys[1]");
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let e = parse::<Props>(&map(json!({"Enabled": "true"}))).unwrap_err();
        assert!(e.to_string().contains("Name"), "{e}");
    }

    #[test]
    fn unknown_properties_are_named_with_the_known_ones() {
        let raw = map(json!({"Name": "a", "Nmae": "b", "ServiceToken": "arn"}));
        let e = reject_unknown(&raw, &["Name", "Enabled"]).unwrap_err();
        assert_eq!(e.path, "Nmae");
        assert!(e.message.contains("Enabled, Name"), "{e}");
        assert!(reject_unknown(&map(json!({"Name": "a", "ServiceToken": "x"})), &["Name"]).is_ok());
    }

    #[test]
    fn redaction_hides_secret_values_at_any_depth() {
        let raw = map(json!({"Password": "p1", "Nested": {"Password": "p2", "User": "u"}, "L": [{"Password": "p3"}]}));
        let text = redacted(&raw, &["Password"]).to_string();
        for secret in ["p1", "p2", "p3"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("\"u\""));
    }
}
