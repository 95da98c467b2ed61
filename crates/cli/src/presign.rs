//! The pre-signed URL an encrypted cross-region read replica needs: RDS
//! calls the source region with it. Other SDKs build it from `SourceRegion`;
//! the Rust SDK has no such parameter, so tandem signs it (SigV4, query
//! parameters, the caller's own credentials, an hour's validity).

use anyhow::Context as _;
use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::{Duration, SystemTime};

/// `CreateDBInstanceReadReplica` of `source_arn` (in `source_region`) into
/// `destination_region`, encrypted with `kms_key_id` there, signed for the
/// source region.
pub(crate) async fn replica_url(
    config: &SdkConfig,
    source_region: &str,
    destination_region: &str,
    source_arn: &str,
    kms_key_id: &str,
) -> anyhow::Result<String> {
    let provider = config
        .credentials_provider()
        .context("no credentials to sign the cross-region replica request with")?;
    let credentials = provider
        .provide_credentials()
        .await
        .context("the credentials could not be loaded to sign the cross-region replica request")?;
    let identity: Identity = credentials.into();
    let url = unsigned_url(source_region, destination_region, source_arn, kms_key_id);
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(3600));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(source_region)
        .name("rds")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .context("the signing parameters are incomplete")?
        .into();
    let signable = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
        .context("the replica request could not be signed")?;
    let (instructions, _) = sign(signable, &params)
        .context("the replica request could not be signed")?
        .into_parts();
    let mut request = http::Request::get(&url)
        .body(())
        .context("the replica request URL is not valid")?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

/// The request before signing.
pub(crate) fn unsigned_url(
    source_region: &str,
    destination_region: &str,
    source_arn: &str,
    kms_key_id: &str,
) -> String {
    let query: Vec<String> = [
        ("Action", "CreateDBInstanceReadReplica"),
        ("DestinationRegion", destination_region),
        ("KmsKeyId", kms_key_id),
        ("SourceDBInstanceIdentifier", source_arn),
        ("Version", "2014-10-31"),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", escape(v)))
    .collect();
    format!("https://rds.{source_region}.amazonaws.com/?{}", query.join("&"))
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;

    #[test]
    fn the_request_names_the_source_destination_and_key() {
        let url = unsigned_url(
            "us-east-2",
            "us-east-1",
            "arn:aws:rds:us-east-2:1:db:tandem-dev-db-replica",
            "alias/tandem-dev",
        );
        assert_eq!(
            url,
            "https://rds.us-east-2.amazonaws.com/?Action=CreateDBInstanceReadReplica&DestinationRegion=us-east-1\
             &KmsKeyId=alias%2Ftandem-dev&SourceDBInstanceIdentifier=arn%3Aaws%3Ards%3Aus-east-2%3A1%3Adb%3Atandem-dev-db-replica\
             &Version=2014-10-31"
        );
    }

    #[tokio::test]
    async fn the_url_is_signed_for_the_source_region_and_an_hour() {
        let config = SdkConfig::builder()
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKID", "SECRET", None, None, "test",
            )))
            .build();
        let url = replica_url(
            &config,
            "us-east-2",
            "us-east-1",
            "arn:aws:rds:us-east-2:1:db:x",
            "alias/k",
        )
        .await
        .unwrap();
        assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{url}");
        assert!(
            url.contains("%2Fus-east-2%2Frds%2Faws4_request"),
            "signed for the source region: {url}"
        );
        assert!(url.contains("X-Amz-Expires=3600"), "{url}");
        assert!(url.contains("X-Amz-Signature="), "{url}");
    }
}
