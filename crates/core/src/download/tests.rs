use super::*;
use crate::test_tls::{TlsServer, tls_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A certificate made here, as PEM (rcgen's `pem` feature is off).
fn pem_certificate(name: &str) -> String {
    let der = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap().cert;
    let text = base64(der.der());
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!("{PEM_CERTIFICATE}\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// A loopback HTTPS server for `localhost` with a certificate made here,
/// answering one request with `status` and `body`. Returns its port and
/// the roots that trust it.
async fn serve(status: u16, body: &'static str) -> (u16, rustls::RootCertStore) {
    let TlsServer {
        listener,
        acceptor,
        port,
        roots,
    } = tls_server("localhost").await;
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let Ok(mut tls) = acceptor.accept(stream).await else {
            return;
        };
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = tls.read(&mut buffer).await {
            request.extend_from_slice(&buffer[..n]);
            if n == 0 || request.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tls.write_all(answer.as_bytes()).await;
        let _ = tls.shutdown().await;
    });
    (port, roots)
}

#[tokio::test]
async fn a_get_returns_the_body_of_a_200() {
    let (port, roots) = serve(200, "the bundle").await;
    let url = format!("https://localhost:{port}/global/global-bundle.pem");
    let body = get_with_roots(&url, Duration::from_secs(5), 1024, roots).await;
    assert_eq!(body.as_deref(), Ok(&b"the bundle"[..]));
}

#[tokio::test]
async fn any_other_status_is_refused() {
    let (port, roots) = serve(404, "").await;
    let url = format!("https://localhost:{port}/missing.pem");
    let error = get_with_roots(&url, Duration::from_secs(5), 1024, roots)
        .await
        .unwrap_err();
    assert_eq!(error, "the answer was HTTP 404");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let (port, roots) = serve(200, "0123456789").await;
    let url = format!("https://localhost:{port}/big.pem");
    let error = get_with_roots(&url, Duration::from_secs(5), 4, roots)
        .await
        .unwrap_err();
    assert!(
        error.starts_with("the answer could not be read whole within 4 bytes"),
        "{error}"
    );
}

#[tokio::test]
async fn a_server_the_roots_do_not_trust_is_refused() {
    let (port, _) = serve(200, "the bundle").await;
    let url = format!("https://localhost:{port}/global/global-bundle.pem");
    let error = get_with_roots(&url, Duration::from_secs(5), 1024, rustls::RootCertStore::empty())
        .await
        .unwrap_err();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
}

#[tokio::test]
async fn plain_http_is_refused_before_any_connection() {
    let error = get_https("http://127.0.0.1:9/bundle.pem", Duration::from_secs(5), 1024)
        .await
        .unwrap_err();
    assert_eq!(error, "the URL is not https://");
}

#[test]
fn a_bundle_of_pem_certificates_counts_its_certificates() {
    let bundle = format!("{}{}", pem_certificate("a.example"), pem_certificate("b.example"));
    assert_eq!(certificate_bundle(bundle.as_bytes()), Ok(2));
}

#[test]
fn what_is_not_a_bundle_of_certificates_is_refused() {
    assert_eq!(
        certificate_bundle(b"<html>Access denied</html>"),
        Err("it does not start with -----BEGIN CERTIFICATE-----".into())
    );
    assert!(certificate_bundle(b"").is_err());
    let broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let error = certificate_bundle(broken.as_bytes()).unwrap_err();
    assert!(error.starts_with("its certificate 1 is not a certificate"), "{error}");
    let unclosed = "-----BEGIN CERTIFICATE-----\nMIIB\n";
    assert!(certificate_bundle(unclosed.as_bytes()).is_err());
}
