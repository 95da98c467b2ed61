//! The template a change set sends: inline when it fits CloudFormation's
//! 51,200 bytes, otherwise stored in the region's artifact bucket (made by
//! the bootstrap stack, which always fits) and named by its URL.

use crate::artifacts;
use crate::plan::{StackSpec, Template};
use sha2::{Digest, Sha256};
use std::path::Path;
use tandem_core::template::{MAX_TEMPLATE_BODY, MAX_TEMPLATE_URL_BODY, strip_comments};

/// How a template reaches CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    /// As `TemplateBody`.
    Inline(String),
    /// As `TemplateURL`, from the artifact bucket.
    Url(String),
}

/// `template`'s text as sent: without its comment lines (the template tests
/// prove that changes no value).
pub(crate) fn text(root: &Path, template: Template) -> anyhow::Result<String> {
    let path = root.join(template.path());
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let body = strip_comments(&text);
    if body.len() > MAX_TEMPLATE_URL_BODY {
        anyhow::bail!(
            "{} is {} bytes without comments, more than the {MAX_TEMPLATE_URL_BODY} CloudFormation takes at all: split it, then retry",
            path.display(),
            body.len()
        );
    }
    if template == Template::Bootstrap && body.len() > MAX_TEMPLATE_BODY {
        anyhow::bail!(
            "{} is {} bytes without comments; the bootstrap stack makes the bucket larger templates go through, \
             so it must fit the {MAX_TEMPLATE_BODY} bytes CloudFormation takes inline: shorten it, then retry",
            path.display(),
            body.len()
        );
    }
    Ok(body)
}

/// The key a template's text is stored under: `templates/<part>/<first 16
/// hex digits of its SHA-256>.yaml`, so an unchanged template is not stored twice.
pub(crate) fn key(part: &str, body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("templates/{part}/{hex}.yaml")
}

/// The URL CloudFormation reads `key` of `bucket` in `region` from: the
/// local AWS's path-style address, or S3's regional virtual-hosted one.
pub(crate) fn url(endpoint: Option<&str>, bucket: &str, region: &str, key: &str) -> String {
    match endpoint {
        Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

/// Stores `body`, too large to send inline, for `spec` in `bucket` (the
/// region's artifact bucket; `None` before the bootstrap stack made it),
/// and names it by URL.
pub(crate) async fn store(
    s3: &aws_sdk_s3::Client,
    endpoint: Option<&str>,
    bucket: Option<&str>,
    spec: &StackSpec,
    body: String,
) -> anyhow::Result<Sent> {
    let Some(bucket) = bucket else {
        anyhow::bail!(
            "{} in {} needs the artifact bucket for its {}-byte template, and tandem-*-bootstrap there has no \
             ArtifactBucketName output: deploy the bootstrap stack first (make deploy does), then retry",
            spec.name,
            spec.region,
            body.len()
        );
    };
    let key = key(spec.template.part(), &body);
    artifacts::upload_bytes(s3, bucket, &key, body.into_bytes(), spec.template.path()).await?;
    Ok(Sent::Url(url(endpoint, bucket, &spec.region, &key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_the_text_and_names_the_part() {
        let a = key("region", "a: 1\n");
        assert!(a.starts_with("templates/region/") && a.ends_with(".yaml"), "{a}");
        assert_eq!(a.len(), "templates/region/".len() + 16 + ".yaml".len());
        assert_eq!(a, key("region", "a: 1\n"));
        assert_ne!(a, key("region", "a: 2\n"));
    }

    #[test]
    fn urls_are_path_style_locally_and_regional_on_aws() {
        assert_eq!(
            url(
                Some("http://127.0.0.1:4566/"),
                "b",
                "us-east-2",
                "templates/region/x.yaml"
            ),
            "http://127.0.0.1:4566/b/templates/region/x.yaml"
        );
        assert_eq!(
            url(None, "b", "us-east-2", "templates/region/x.yaml"),
            "https://b.s3.us-east-2.amazonaws.com/templates/region/x.yaml"
        );
    }

    #[test]
    fn every_template_can_be_sent_and_the_bootstrap_fits_inline() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for template in [Template::Bootstrap, Template::Region, Template::Global] {
            let body = text(&root, template).unwrap();
            assert!(!body.lines().any(|l| l.trim_start().starts_with('#')), "{template:?}");
        }
        assert!(text(&root, Template::Bootstrap).unwrap().len() <= MAX_TEMPLATE_BODY);
    }
}
