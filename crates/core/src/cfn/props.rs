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
//! #[derive(Debug, Deserialize)]
//! #[serde(rename_all = "PascalCase", deny_unknown_fields)]
//! struct Props {
//!     region: String,
//!     #[serde(default, deserialize_with = "props::bool")]
//!     strict: bool,
//!     #[serde(default, deserialize_with = "props::opt_number")]
//!     retries: Option<u32>,
//! }
//!
//! let raw = serde_json::json!({"ServiceToken": "arn:...", "Region": "us-east-2", "Strict": "true", "Retries": "3"});
//! let p: Props = props::parse(raw.as_object().unwrap()).unwrap();
//! assert!(p.strict);
//! assert_eq!(p.retries, Some(3));
//!
//! let typo = serde_json::json!({"Region": "us-east-2", "Retires": "3"});
//! let e = props::parse::<Props>(typo.as_object().unwrap()).unwrap_err();
//! assert_eq!(e.to_string(), "property `Retires`: unknown property; this resource takes Region, Strict, Retries");
//! ```

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::{Map, Value};
use std::fmt::Display;
use std::str::FromStr;

/// Properties CloudFormation or the framework reads itself: they are taken
/// out before the resource's own properties are parsed.
pub const FRAMEWORK_PROPERTIES: &[&str] = &["ServiceToken", "ServiceTimeout"];

/// The most a logged property rendering may take, in characters.
pub const MAX_LOGGED_CHARS: usize = 4096;

/// A property that could not be parsed, with the path of the field at fault.
#[derive(Debug, thiserror::Error)]
#[error("property `{path}`: {message}")]
pub struct PropertyError {
    /// Where the bad value is, such as `OutputKeys[2]` (`.` for the whole object).
    pub path: String,
    /// What is wrong, and what was expected.
    pub message: String,
}

/// Parses raw properties into `T`, without the [`FRAMEWORK_PROPERTIES`],
/// naming the field at fault on error. With `#[serde(deny_unknown_fields)]`
/// on `T`, an unknown property is refused with the list of known ones.
pub fn parse<T: DeserializeOwned>(raw: &Map<String, Value>) -> Result<T, PropertyError> {
    let own: Map<String, Value> = raw
        .iter()
        .filter(|(k, _)| !FRAMEWORK_PROPERTIES.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_path_to_error::deserialize(Value::Object(own)).map_err(|error| {
        let path = error.path().to_string();
        let message = crate::text::shorten_values(&error.into_inner().to_string());
        if let Some((field, known)) = unknown_field(&message) {
            return PropertyError {
                path: field,
                message: format!("unknown property; this resource takes {known}"),
            };
        }
        match missing_field(&message) {
            // serde names a missing field at the object that lacks it (`.`
            // at the top): name the field itself.
            Some(field) => PropertyError {
                path: if path == "." { field } else { format!("{path}.{field}") },
                message: "is required and missing: set it in the resource's Properties".into(),
            },
            None => PropertyError { path, message },
        }
    })
}

/// Reads serde's "unknown field `X`, expected one of `A`, `B`" (or
/// "expected `A`") into the field and a plain list of the known ones.
fn unknown_field(message: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let known = rest
        .trim_start_matches(", expected one of ")
        .trim_start_matches(", expected ")
        .replace('`', "");
    let known = if known.starts_with("there are no fields") || known.is_empty() {
        "no properties".to_owned()
    } else {
        known
    };
    Some((field.to_owned(), known))
}

/// Reads serde's "missing field `X`" into the field.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split_once('`')?.0.to_owned())
}

/// The properties as one bounded log value: secret names redacted (see
/// [`redacted`]), long values shortened, and the whole cut to
/// [`MAX_LOGGED_CHARS`].
pub fn for_log(raw: &Map<String, Value>, secret: &[&str]) -> String {
    let text = crate::text::shorten_values(&redacted(raw, secret).to_string());
    let count = text.chars().count();
    if count <= MAX_LOGGED_CHARS {
        return text;
    }
    let head: String = text.chars().take(MAX_LOGGED_CHARS).collect();
    format!("{head}… ({count} characters)")
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase", deny_unknown_fields)]
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
        assert_eq!(
            e.to_string(),
            "property `Name`: is required and missing: set it in the resource's Properties"
        );
    }

    #[test]
    fn unknown_properties_are_named_with_the_known_ones() {
        let raw = map(json!({"Name": "a", "Nmae": "b", "ServiceToken": "arn", "ServiceTimeout": "60"}));
        let e = parse::<Props>(&raw).unwrap_err();
        assert_eq!(e.path, "Nmae");
        assert_eq!(
            e.message,
            "unknown property; this resource takes Name, Enabled, Count, Keys"
        );
    }

    #[test]
    fn the_framework_s_own_properties_are_not_the_resource_s() {
        let raw = map(json!({"Name": "a", "ServiceToken": "arn", "ServiceTimeout": "60"}));
        assert_eq!(parse::<Props>(&raw).unwrap().name, "a");
    }

    #[test]
    fn a_huge_value_is_shortened_in_the_error_and_in_the_log() {
        let huge = "z".repeat(200_000);
        let e = parse::<Props>(&map(json!({"Name": "a", "Count": huge}))).unwrap_err();
        assert_eq!(e.path, "Count");
        assert!(e.to_string().len() < 300, "{e}");
        assert!(e.to_string().contains("(200000 characters)"), "{e}");
        let logged = for_log(&map(json!({"Name": huge, "Password": "p"})), &["Password"]);
        assert!(logged.len() < 300, "{logged}");
        assert!(!logged.contains("\"p\""), "{logged}");
        let many: Map<String, Value> = (0..2000).map(|i| (format!("K{i}"), json!("v"))).collect();
        let logged = for_log(&many, &[]);
        assert!(logged.chars().count() < MAX_LOGGED_CHARS + 40, "{}", logged.len());
        assert!(logged.ends_with(" characters)"), "{logged}");
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
