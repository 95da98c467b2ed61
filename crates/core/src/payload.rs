//! A Lambda event as the runtime hands it over, read so that no payload is
//! refused before the function could answer for it.
//!
//! A function that took `LambdaEvent<serde_json::Value>` would never run for
//! a payload that `Value` cannot hold: JSON nested deeper than serde_json's
//! 128 levels, or (from a local emulator; Lambda's `Invoke` refuses it) JSON
//! cut short. The runtime would refuse such an event itself, and a
//! CloudFormation stack, or a CodeDeploy deployment, would wait an hour for
//! an answer that the event's own `ResponseURL` or hook ids made possible.
//!
//! [`Payload`] never fails to deserialize. It keeps each top-level field as
//! raw JSON text (read to any depth without recursion), stops at the first
//! syntax error, and says what it could not read: [`Payload::to_value`]
//! gives the whole event or a [`PayloadError`] naming the field, and
//! [`Payload::text`] recovers a top-level string field either way, which is
//! what an answer needs.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;

/// Why a payload is not a whole JSON event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The bytes are not JSON, or stop before the event ends.
    #[error("the event is not valid JSON ({0}): send the whole event as one JSON document")]
    NotJson(String),
    /// One field (or array element) could not be read, such as one nested
    /// deeper than serde_json's 128 levels.
    #[error("field `{field}` could not be read ({why}): {fix}")]
    Field {
        /// The top-level field, or `[index]` for an element of a top-level array.
        field: String,
        /// serde_json's reason.
        why: String,
        /// What to do about it.
        fix: &'static str,
    },
}

/// The event, read field by field (see the module's documentation).
#[derive(Debug)]
pub struct Payload {
    read: Read,
    /// Why reading stopped early, when it did.
    broken: Option<String>,
}

#[derive(Debug)]
enum Read {
    /// A JSON object: its fields as far as they could be read, in order.
    Object(Vec<(String, Box<RawValue>)>),
    /// A JSON array: its elements as far as they could be read.
    Array(Vec<Box<RawValue>>),
    /// Anything else, or nothing at all.
    Scalar(Value),
}

impl Payload {
    /// Reads `bytes` exactly as the Lambda runtime reads an event
    /// (`serde_path_to_error` over `serde_json::Deserializer::from_slice`),
    /// for tests and tools that stand in for the runtime.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize(&mut reader) {
            Ok(payload) => payload,
            // `Payload`'s own `Deserialize` never fails; this keeps the reason if it ever did.
            Err(error) => Self {
                read: Read::Scalar(Value::Null),
                broken: Some(error.inner().to_string()),
            },
        }
    }

    /// The whole event, or why it cannot be read whole.
    pub fn to_value(&self) -> Result<Value, PayloadError> {
        if let Some(why) = &self.broken {
            return Err(PayloadError::NotJson(crate::text::shorten_values(why)));
        }
        match &self.read {
            Read::Scalar(value) => Ok(value.clone()),
            Read::Array(elements) => (elements.iter().enumerate())
                .map(|(i, raw)| parse(&format!("[{i}]"), raw))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Read::Object(fields) => {
                let mut object = Map::new();
                for (name, raw) in fields {
                    object.insert(name.clone(), parse(name, raw)?);
                }
                Ok(Value::Object(object))
            }
        }
    }

    /// The top-level field `name` when it is a JSON string, whatever else
    /// in the event is broken (the last one, when a name repeats, as serde_json reads it).
    pub fn text(&self, name: &str) -> Option<String> {
        let Read::Object(fields) = &self.read else {
            return None;
        };
        let (_, raw) = fields.iter().rev().find(|(field, _)| field == name)?;
        serde_json::from_str(raw.get()).ok()
    }
}

/// One field's value, parsed with serde_json's usual limits.
fn parse(field: &str, raw: &RawValue) -> Result<Value, PayloadError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let why = crate::text::shorten_values(&e.to_string());
        let fix = if why.starts_with("recursion limit exceeded") {
            "it nests deeper than the 128 levels an event may have, so flatten it"
        } else {
            "send it as valid JSON"
        };
        PayloadError::Field {
            field: crate::text::shorten_values(field),
            why,
            fix,
        }
    })
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The visitor fills these as it goes, so that what came before an
        // error is kept when the error ends the read.
        let mut fields = Vec::new();
        let mut elements = Vec::new();
        let visitor = TopLevel {
            fields: &mut fields,
            elements: &mut elements,
        };
        let (scalar, broken) = match deserializer.deserialize_any(visitor) {
            Ok(scalar) => (scalar, None),
            Err(error) => (None, Some(error.to_string())),
        };
        let read = match scalar {
            Some(value) => Read::Scalar(value),
            None if !elements.is_empty() => Read::Array(elements),
            None if !fields.is_empty() => Read::Object(fields),
            // An empty array or object, or an error before its first entry.
            None if broken.is_none() => Read::Scalar(Value::Null),
            None => Read::Object(fields),
        };
        Ok(Self { read, broken })
    }
}

/// Reads the top level: a scalar is returned, the entries of an object or
/// an array are pushed as they come.
struct TopLevel<'a> {
    fields: &'a mut Vec<(String, Box<RawValue>)>,
    elements: &'a mut Vec<Box<RawValue>>,
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    /// `Some` for a scalar; `None` when the entries were pushed.
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v.to_owned())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while let Some(element) = seq.next_element::<Box<RawValue>>()? {
            self.elements.push(element);
        }
        if self.elements.is_empty() {
            return Ok(Some(Value::Array(Vec::new())));
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value::<Box<RawValue>>()?;
            self.fields.push((name, value));
        }
        if self.fields.is_empty() {
            return Ok(Some(Value::Object(Map::new())));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
