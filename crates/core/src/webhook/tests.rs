use super::*;
use crate::test_tls::{TlsServer, tls_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A loopback HTTPS server for `localhost` with a certificate made here,
/// answering `status` to one request; sends what it read. Returns its port
/// and the roots that trust it.
async fn serve(status: u16) -> (u16, rustls::RootCertStore, mpsc::Receiver<String>) {
    let TlsServer {
        listener,
        acceptor,
        port,
        roots,
    } = tls_server("localhost").await;
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let Ok(mut tls) = acceptor.accept(stream).await else {
            return;
        };
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        // Headers, then the body its content-length announces.
        while let Ok(n) = tls.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = (head.lines())
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
        let head = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        let _ = tls.write_all(head.as_bytes()).await;
        let _ = tls.shutdown().await;
        let _ = tx.send(String::from_utf8_lossy(&request).to_string()).await;
    });
    (port, roots, rx)
}

#[tokio::test]
async fn a_post_sends_the_json_and_reads_the_status() {
    let (port, roots, mut seen) = serve(200).await;
    let poster = HttpsPoster::with_roots(Duration::from_secs(5), roots);
    let url = format!("https://localhost:{port}/hooks/T1/secret");
    let status = poster.post_json(&url, r#"{"text":"hello"}"#.into()).await;
    assert_eq!(status, Ok(200));
    let request = seen.recv().await.unwrap();
    assert!(request.starts_with("POST /hooks/T1/secret HTTP/1.1"), "{request}");
    assert!(
        request.to_ascii_lowercase().contains("content-type: application/json"),
        "{request}"
    );
    assert!(request.ends_with(r#"{"text":"hello"}"#), "{request}");
}

#[tokio::test]
async fn a_refusal_is_its_status() {
    let (port, roots, _seen) = serve(404).await;
    let poster = HttpsPoster::with_roots(Duration::from_secs(5), roots);
    let url = format!("https://localhost:{port}/hooks/gone");
    assert_eq!(poster.post_json(&url, "{}".into()).await, Ok(404));
}

#[tokio::test]
async fn an_untrusted_certificate_fails_without_repeating_the_url() {
    let (port, _roots, _seen) = serve(200).await;
    let poster = HttpsPoster::with_roots(Duration::from_secs(5), rustls::RootCertStore::empty());
    let url = format!("https://localhost:{port}/hooks/T1/very-secret-token");
    let why = poster.post_json(&url, "{}".into()).await.unwrap_err();
    assert!(why.to_lowercase().contains("certificate"), "{why}");
    assert!(!why.contains("very-secret-token") && !why.contains("/hooks"), "{why}");
}

#[tokio::test]
async fn plain_http_and_bad_addresses_are_refused_without_a_connection() {
    let poster = HttpsPoster::new(Duration::from_secs(1));
    let why = poster
        .post_json("http://127.0.0.1:9/hooks/secret-token", "{}".into())
        .await
        .unwrap_err();
    assert!(why.contains("not https://") && !why.contains("secret-token"), "{why}");
    let why = poster
        .post_json("https://exa mple/secret-token", "{}".into())
        .await
        .unwrap_err();
    assert!(
        why.contains("not a valid address") && !why.contains("secret-token"),
        "{why}"
    );
    assert!(
        poster.client.get().is_none(),
        "the TLS client was built for a refused URL"
    );
}

#[tokio::test]
async fn a_silent_webhook_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = tokio::spawn(async move {
        let (_stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
    });
    let poster = HttpsPoster::with_roots(Duration::from_secs(1), rustls::RootCertStore::empty());
    let url = format!("https://localhost:{port}/hooks/x");
    assert_eq!(
        poster.post_json(&url, "{}".into()).await,
        Err("no answer within 1s".into())
    );
}

#[test]
fn only_the_host_is_named() {
    assert_eq!(
        host_of("https://hooks.slack.com/services/T0/B0/secret"),
        "hooks.slack.com"
    );
    assert_eq!(host_of("not a url"), "(no host)");
}
