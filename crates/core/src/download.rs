//! Downloads over HTTPS for the CLI's builds (such as the RDS certificate
//! bundle a function ships in its zip), with the same client stack as the
//! probes and webhooks ([`crate::probe`]): hyper with rustls on ring, the
//! system's roots (`SSL_CERT_FILE` replaces them), certificates and host
//! names checked, HTTPS only. And the check that what came is a bundle of
//! PEM certificates.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::time::Duration;

/// What a PEM certificate bundle starts with.
pub const PEM_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";

/// `GET <url>` over HTTPS: the body of a `200` answer, at most `limit`
/// bytes, all within `timeout`; or why not (one phrase, such as "the
/// answer was HTTP 404").
pub async fn get_https(url: &str, timeout: Duration, limit: usize) -> Result<Vec<u8>, String> {
    get_with_roots(url, timeout, limit, crate::probe::system_roots()).await
}

/// [`get_https`], trusting `roots` (tests).
async fn get_with_roots(
    url: &str,
    timeout: Duration,
    limit: usize,
    roots: rustls::RootCertStore,
) -> Result<Vec<u8>, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("the URL is not valid ({e})"))?;
    if uri.scheme() != Some(&http::uri::Scheme::HTTPS) {
        return Err("the URL is not https://".into());
    }
    let connector =
        crate::probe::https_connector(roots, timeout).map_err(|e| format!("TLS could not be set up ({e})"))?;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let request = http::Request::get(uri)
        .header(http::header::USER_AGENT, "tandem-cli")
        .body(Empty::new())
        .map_err(|e| format!("the request could not be built ({e})"))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| crate::probe::connection_error(&e))?;
        let status = response.status();
        if status != http::StatusCode::OK {
            return Err(format!("the answer was HTTP {}", status.as_u16()));
        }
        let body = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| format!("the answer could not be read whole within {limit} bytes ({e})"))?;
        Ok(body.to_bytes().to_vec())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no whole answer within {}s", timeout.as_secs())),
    }
}

/// How many certificates `bytes` holds, if it is a bundle of PEM
/// certificates: it starts with [`PEM_CERTIFICATE`], and every block
/// decodes to a certificate that rustls could trust as a root.
pub fn certificate_bundle(bytes: &[u8]) -> Result<usize, String> {
    if !bytes.starts_with(PEM_CERTIFICATE.as_bytes()) {
        return Err(format!("it does not start with {PEM_CERTIFICATE}"));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (n, block) in CertificateDer::pem_slice_iter(bytes).enumerate() {
        let der = block.map_err(|e| format!("its PEM block {} could not be read ({e})", n + 1))?;
        roots
            .add(der)
            .map_err(|e| format!("its certificate {} is not a certificate rustls can read ({e})", n + 1))?;
    }
    match roots.len() {
        0 => Err("it holds no certificate".into()),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests;
