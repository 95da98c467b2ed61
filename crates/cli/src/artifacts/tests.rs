//! Tests of content-hash keys, and of `upload` against mocked S3.

use super::*;
use aws_sdk_s3::operation::head_object::{HeadObjectError, HeadObjectOutput};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::types::error::NotFound;
use aws_smithy_mocks::Rule;
use aws_smithy_types::error::ErrorMetadata;
use tandem_testing::{mock, mock_client};

const BUCKET: &str = "tandem-dev-artifacts-123-us-east-1";

#[test]
fn keys_follow_the_content_only() {
    let a = content_key("topology", b"binary one");
    assert_eq!(a, content_key("topology", b"binary one"));
    assert_ne!(a, content_key("topology", b"binary two"));
    assert!(a.starts_with("topology/") && a.ends_with(".zip"));
    assert_eq!(a.len(), "topology/".len() + 16 + ".zip".len());
}

#[test]
fn a_key_is_the_first_16_hex_digits_of_the_sha256() {
    // SHA-256 of nothing: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.
    assert_eq!(content_key("topology", b""), "topology/e3b0c44298fc1c14.zip");
    assert_eq!(content_key("failover", b""), "failover/e3b0c44298fc1c14.zip");
}

/// A zip on disk for `upload` to read.
fn artifact(name: &str) -> Artifact {
    let dir = std::env::temp_dir().join(format!("tandem-cli-artifacts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let zip = dir.join(format!("{name}.zip"));
    std::fs::write(&zip, b"PK zip bytes").unwrap();
    Artifact {
        function: "topology".into(),
        key: content_key("topology", name.as_bytes()),
        zip,
    }
}

fn s3(rules: &[&Rule]) -> aws_sdk_s3::Client {
    mock_client!(aws_sdk_s3, rules.iter().copied(), |b| b.force_path_style(true))
}

fn head(
    key: String,
) -> aws_smithy_mocks::RuleBuilder<aws_sdk_s3::operation::head_object::HeadObjectInput, HeadObjectOutput, HeadObjectError>
{
    mock!(aws_sdk_s3::Client::head_object)
        .match_requests(move |i| i.bucket() == Some(BUCKET) && i.key() == Some(key.as_str()))
}

fn put(
    key: String,
) -> aws_smithy_mocks::RuleBuilder<aws_sdk_s3::operation::put_object::PutObjectInput, PutObjectOutput, PutObjectError> {
    mock!(aws_sdk_s3::Client::put_object)
        .match_requests(move |i| i.bucket() == Some(BUCKET) && i.key() == Some(key.as_str()))
}

#[tokio::test]
async fn a_key_that_is_there_is_not_uploaded_again() {
    let a = artifact("present");
    let found = head(a.key.clone()).then_output(|| HeadObjectOutput::builder().content_length(12).build());
    assert!(!upload(&s3(&[&found]), BUCKET, &a).await.unwrap());
    assert_eq!(found.num_calls(), 1);
}

#[tokio::test]
async fn a_missing_key_is_uploaded() {
    let a = artifact("missing");
    // What S3 says to a HEAD of a missing key: 404, code NotFound, no body.
    let missing = head(a.key.clone()).then_error(|| {
        HeadObjectError::NotFound(
            NotFound::builder()
                .meta(ErrorMetadata::builder().code("NotFound").build())
                .build(),
        )
    });
    let stored = put(a.key.clone()).then_output(|| PutObjectOutput::builder().e_tag("\"abc\"").build());
    assert!(upload(&s3(&[&missing, &stored]), BUCKET, &a).await.unwrap());
    assert_eq!(stored.num_calls(), 1);
}

#[tokio::test]
async fn other_head_errors_are_reported_with_the_bucket_and_key() {
    let a = artifact("forbidden");
    let forbidden = head(a.key.clone()).then_error(|| {
        HeadObjectError::generic(ErrorMetadata::builder().code("Forbidden").message("Forbidden").build())
    });
    let e = upload(&s3(&[&forbidden]), BUCKET, &a).await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "could not check for s3://{BUCKET}/{} (Forbidden: Forbidden)",
            a.key
        )),
        "{e}"
    );
    assert!(e.ends_with("then deploy again"), "{e}");
}

#[tokio::test]
async fn a_failed_upload_is_reported_with_the_bucket_and_key() {
    let a = artifact("refused");
    let missing = head(a.key.clone()).then_error(|| {
        HeadObjectError::NotFound(
            NotFound::builder()
                .meta(ErrorMetadata::builder().code("NotFound").build())
                .build(),
        )
    });
    let refused = put(a.key.clone()).then_error(|| {
        PutObjectError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("Access Denied")
                .build(),
        )
    });
    let e = upload(&s3(&[&missing, &refused]), BUCKET, &a)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("to s3://{BUCKET}/{} (AccessDenied: Access Denied)", a.key)),
        "{e}"
    );
}
