//! Rules that answer the state table's calls (`aws_sdk_dynamodb`) as the
//! shells' tests expect them, written once here: a claim taken or already
//! taken, an update matched on what it writes, the region's last release.

use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use tandem_core::state::ReleaseRecord;

/// A conditional `PutItem` of the item whose sort key is `sk`, answered
/// written: the claim (or audit entry) is new.
pub fn put_claimed(sk: impl Into<String>) -> Rule {
    let sk = sk.into();
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |i| sort_key(i.item()) == Some(sk.as_str()))
        .then_output(|| PutItemOutput::builder().build())
}

/// A conditional `PutItem` of the item whose sort key is `sk`, answered
/// `ConditionalCheckFailedException`: another delivery claimed it first.
pub fn put_already_claimed(sk: impl Into<String>) -> Rule {
    let sk = sk.into();
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |i| sort_key(i.item()) == Some(sk.as_str()))
        .then_error(|| PutItemError::ConditionalCheckFailedException(condition_failed()))
}

/// An `UpdateItem` whose expression attribute values mention `needle`,
/// answered done.
pub fn update_matching(needle: impl Into<String>) -> Rule {
    let needle = needle.into();
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(move |i| format!("{:?}", i.expression_attribute_values()).contains(&needle))
        .then_output(|| UpdateItemOutput::builder().build())
}

/// A `Query` answered with `record` alone: the region's last release.
pub fn query_release(record: &ReleaseRecord) -> Rule {
    let item = record.to_item();
    mock!(aws_sdk_dynamodb::Client::query).then_output(move || QueryOutput::builder().items(item.clone()).build())
}

/// The `ConditionalCheckFailedException` DynamoDB answers a write whose
/// condition does not hold.
pub fn condition_failed() -> ConditionalCheckFailedException {
    let meta = ErrorMetadata::builder().code("ConditionalCheckFailedException").build();
    ConditionalCheckFailedException::builder().meta(meta).build()
}

/// The sort key `sk` of a written item, if it has a text one.
fn sort_key(item: Option<&std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>) -> Option<&str> {
    item?.get("sk")?.as_s().ok().map(String::as_str)
}
