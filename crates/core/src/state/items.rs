//! DynamoDB items: reading typed attributes with a reason when one is
//! missing, and recognising a failed condition.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;

/// One item, as the SDK gives and takes it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The string attribute `key`.
pub(crate) fn get_s(item: &Item, key: &str) -> Result<String, String> {
    match item.get(key) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        Some(_) => Err(format!("attribute `{key}` is not a string")),
        None => Err(format!("attribute `{key}` is missing")),
    }
}

/// The string attribute `key`, if present.
pub(crate) fn opt_s(item: &Item, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

/// The whole-number attribute `key`.
pub(crate) fn get_n(item: &Item, key: &str) -> Result<u64, String> {
    match item.get(key) {
        Some(AttributeValue::N(text)) => text
            .parse()
            .map_err(|_| format!("attribute `{key}` is not a whole number ({text})")),
        Some(_) => Err(format!("attribute `{key}` is not a number")),
        None => Err(format!("attribute `{key}` is missing")),
    }
}

/// The whole-number attribute `key`, if present.
pub(crate) fn opt_n(item: &Item, key: &str) -> Option<u64> {
    item.get(key).and_then(|v| v.as_n().ok()).and_then(|t| t.parse().ok())
}

/// Whether a write failed only because its condition did not hold.
pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    crate::aws::error_code(error) == Some("ConditionalCheckFailedException")
}
