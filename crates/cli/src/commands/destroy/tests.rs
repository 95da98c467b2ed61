//! Tests of what `destroy` empties, and of emptying against mocked S3 and
//! ECR: each rule list is the exact sequence of calls expected.

use super::*;
use aws_sdk_ecr::operation::batch_delete_image::BatchDeleteImageOutput;
use aws_sdk_ecr::operation::list_images::{ListImagesError, ListImagesOutput};
use aws_sdk_ecr::types::ImageFailure;
use aws_sdk_ecr::types::error::RepositoryNotFoundException;
use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
use aws_sdk_s3::operation::list_object_versions::{ListObjectVersionsError, ListObjectVersionsOutput};
use aws_sdk_s3::types::{DeleteMarkerEntry, ObjectVersion};
use aws_smithy_mocks::Rule;
use aws_smithy_types::error::ErrorMetadata;
use tandem_testing::{mock, mock_client};

const BUCKET: &str = "tandem-dev-artifacts-123-us-east-1";
const REPO: &str = "tandem-dev-app";

fn outputs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn the_bootstrap_stack_empties_its_artifact_bucket() {
    let o = outputs(&[("ArtifactBucketName", BUCKET), ("KeyArn", "arn:kms")]);
    assert_eq!(
        what_to_empty(Template::Bootstrap, &o),
        Some(Emptying::Bucket(BUCKET.into()))
    );
    assert_eq!(
        what_to_empty(Template::Bootstrap, &outputs(&[("KeyArn", "arn:kms")])),
        None
    );
    assert_eq!(
        what_to_empty(Template::Bootstrap, &outputs(&[("ArtifactBucketName", "")])),
        None
    );
}

#[test]
fn the_region_stack_empties_the_repository_its_outputs_name() {
    let o = outputs(&[
        ("RepositoryName", "tandem-staging-web"),
        ("RepositoryUri", "123.dkr.ecr.us-east-1.amazonaws.com/ignored"),
    ]);
    assert_eq!(
        what_to_empty(Template::Region, &o),
        Some(Emptying::Repository("tandem-staging-web".into())),
        "the output, not a name pattern"
    );
    let older = outputs(&[("RepositoryUri", "123.dkr.ecr.us-east-2.amazonaws.com/tandem-dev-app")]);
    assert_eq!(
        what_to_empty(Template::Region, &older),
        Some(Emptying::Repository("tandem-dev-app".into())),
        "a stack from before the RepositoryName output"
    );
    assert_eq!(what_to_empty(Template::Region, &outputs(&[("VpcId", "vpc-1")])), None);
    assert_eq!(
        what_to_empty(Template::Region, &outputs(&[("RepositoryUri", "no-slash")])),
        None
    );
}

#[test]
fn the_global_stack_has_nothing_to_empty() {
    let o = outputs(&[("ArtifactBucketName", BUCKET), ("RepositoryName", REPO)]);
    assert_eq!(what_to_empty(Template::Global, &o), None);
}

fn s3(rules: &[&Rule]) -> aws_sdk_s3::Client {
    mock_client!(aws_sdk_s3, rules.iter().copied(), |b| b.force_path_style(true))
}

fn ecr(rules: &[&Rule]) -> aws_sdk_ecr::Client {
    mock_client!(aws_sdk_ecr, rules.iter().copied())
}

/// One page of ListObjectVersions, read from `from` (key and version
/// markers), with `versions` and `markers` as (key, version id), continued
/// at `next` when set.
fn versions_page(
    from: Option<(&'static str, &'static str)>,
    versions: &'static [(&'static str, &'static str)],
    markers: &'static [(&'static str, &'static str)],
    next: Option<(&'static str, &'static str)>,
) -> Rule {
    mock!(aws_sdk_s3::Client::list_object_versions)
        .match_requests(move |i| {
            i.bucket() == Some(BUCKET)
                && i.key_marker() == from.map(|f| f.0)
                && i.version_id_marker() == from.map(|f| f.1)
        })
        .then_output(move || {
            let mut out = ListObjectVersionsOutput::builder()
                .is_truncated(next.is_some())
                .set_next_key_marker(next.map(|n| n.0.to_owned()))
                .set_next_version_id_marker(next.map(|n| n.1.to_owned()));
            for (key, version) in versions {
                out = out.versions(ObjectVersion::builder().key(*key).version_id(*version).build());
            }
            for (key, version) in markers {
                out = out.delete_markers(DeleteMarkerEntry::builder().key(*key).version_id(*version).build());
            }
            out.build()
        })
}

/// DeleteObjects of exactly `expected` (key, version id), quietly.
fn delete_objects(expected: &'static [(&'static str, &'static str)]) -> Rule {
    mock!(aws_sdk_s3::Client::delete_objects)
        .match_requests(move |i| {
            let Some(delete) = i.delete() else { return false };
            let asked: Vec<(&str, Option<&str>)> = delete.objects().iter().map(|o| (o.key(), o.version_id())).collect();
            let wanted: Vec<(&str, Option<&str>)> = expected.iter().map(|(k, v)| (*k, Some(*v))).collect();
            i.bucket() == Some(BUCKET) && delete.quiet() == Some(true) && asked == wanted
        })
        .then_output(|| DeleteObjectsOutput::builder().build())
}

#[tokio::test]
async fn a_bucket_loses_every_version_and_delete_marker_page_by_page() {
    let first = versions_page(None, &[("a", "v1"), ("a", "v2")], &[("b", "m1")], Some(("b", "m1")));
    let second = versions_page(Some(("b", "m1")), &[("c", "v1")], &[], None);
    let client = s3(&[
        &first,
        &delete_objects(&[("a", "v1"), ("a", "v2"), ("b", "m1")]),
        &second,
        &delete_objects(&[("c", "v1")]),
    ]);
    assert_eq!(empty_bucket(&client, BUCKET).await.unwrap(), 4);
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test]
async fn an_empty_bucket_needs_no_delete() {
    let client = s3(&[&versions_page(None, &[], &[], None)]);
    assert_eq!(empty_bucket(&client, BUCKET).await.unwrap(), 0);
}

#[tokio::test]
async fn a_missing_bucket_counts_as_empty() {
    let missing = mock!(aws_sdk_s3::Client::list_object_versions).then_error(|| {
        ListObjectVersionsError::generic(
            ErrorMetadata::builder()
                .code("NoSuchBucket")
                .message("The specified bucket does not exist")
                .build(),
        )
    });
    let client = s3(&[&missing]);
    assert_eq!(empty_bucket(&client, BUCKET).await.unwrap(), 0);
}

#[tokio::test]
async fn bucket_errors_name_the_bucket_the_step_and_the_cause() {
    let denied = mock!(aws_sdk_s3::Client::list_object_versions).then_error(|| {
        ListObjectVersionsError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("Access Denied")
                .build(),
        )
    });
    let e = empty_bucket(&s3(&[&denied]), BUCKET).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("could not list bucket s3://{BUCKET} (AccessDenied: Access Denied)")
    );

    let refused = mock!(aws_sdk_s3::Client::delete_objects).then_output(|| {
        DeleteObjectsOutput::builder()
            .errors(
                aws_sdk_s3::types::Error::builder()
                    .key("a")
                    .code("AccessDenied")
                    .message("Access Denied")
                    .build(),
            )
            .build()
    });
    let client = s3(&[&versions_page(None, &[("a", "v1")], &[], None), &refused]);
    let e = empty_bucket(&client, BUCKET).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "could not delete from bucket s3://{BUCKET} (1 of 1 deletions failed, the first on a: AccessDenied: Access Denied)"
        )
    );
}

/// One page of ListImages read with `token`: `images` as (digest, tag).
fn images_page(token: Option<&'static str>, images: Vec<(String, String)>, next: Option<&'static str>) -> Rule {
    mock!(aws_sdk_ecr::Client::list_images)
        .match_requests(move |i| i.repository_name() == Some(REPO) && i.next_token() == token)
        .then_output(move || {
            let mut out = ListImagesOutput::builder().set_next_token(next.map(str::to_owned));
            for (digest, tag) in &images {
                out = out.image_ids(ImageIdentifier::builder().image_digest(digest).image_tag(tag).build());
            }
            out.build()
        })
}

/// BatchDeleteImage of exactly `digests`, by digest alone.
fn batch_delete(digests: Vec<String>) -> Rule {
    mock!(aws_sdk_ecr::Client::batch_delete_image)
        .match_requests(move |i| {
            let asked: Vec<Option<&str>> = i.image_ids().iter().map(|id| id.image_digest()).collect();
            let untagged = i.image_ids().iter().all(|id| id.image_tag().is_none());
            i.repository_name() == Some(REPO)
                && untagged
                && asked == digests.iter().map(|d| Some(d.as_str())).collect::<Vec<_>>()
        })
        .then_output(|| BatchDeleteImageOutput::builder().build())
}

fn digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

#[tokio::test]
async fn a_repository_loses_every_image_from_every_page_once_each() {
    let first = images_page(
        None,
        vec![
            (digest(1), "v1".into()),
            (digest(1), "latest".into()),
            (digest(2), "v2".into()),
        ],
        Some("t2"),
    );
    let second = images_page(Some("t2"), vec![(digest(3), "v3".into())], None);
    let client = ecr(&[&first, &second, &batch_delete(vec![digest(1), digest(2), digest(3)])]);
    assert_eq!(empty_repository(&client, REPO).await.unwrap(), 3);
}

#[tokio::test]
async fn images_are_deleted_a_hundred_at_a_time() {
    let first = images_page(
        None,
        (0..60).map(|n| (digest(n), format!("v{n}"))).collect(),
        Some("t2"),
    );
    let second = images_page(
        Some("t2"),
        (60..105).map(|n| (digest(n), format!("v{n}"))).collect(),
        None,
    );
    let client = ecr(&[
        &first,
        &second,
        &batch_delete((0..100).map(digest).collect()),
        &batch_delete((100..105).map(digest).collect()),
    ]);
    assert_eq!(empty_repository(&client, REPO).await.unwrap(), 105);
}

#[tokio::test]
async fn a_missing_repository_counts_as_empty() {
    let missing = mock!(aws_sdk_ecr::Client::list_images).then_error(|| {
        ListImagesError::RepositoryNotFoundException(
            RepositoryNotFoundException::builder()
                .message("The repository with name 'tandem-dev-app' does not exist")
                .meta(
                    ErrorMetadata::builder()
                        .code("RepositoryNotFoundException")
                        .message("The repository with name 'tandem-dev-app' does not exist")
                        .build(),
                )
                .build(),
        )
    });
    assert_eq!(empty_repository(&ecr(&[&missing]), REPO).await.unwrap(), 0);
}

#[tokio::test]
async fn an_image_that_cannot_be_deleted_is_reported() {
    let stuck = mock!(aws_sdk_ecr::Client::batch_delete_image).then_output(|| {
        BatchDeleteImageOutput::builder()
            .failures(
                ImageFailure::builder()
                    .failure_code(ImageFailureCode::ImageReferencedByManifestList)
                    .failure_reason("referenced by a manifest list")
                    .build(),
            )
            .build()
    });
    let client = ecr(&[&images_page(None, vec![(digest(1), "v1".into())], None), &stuck]);
    let e = empty_repository(&client, REPO).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "could not delete from ECR repository tandem-dev-app (1 of 1 deletions failed, the first: \
         ImageReferencedByManifestList: referenced by a manifest list)"
    );
}
