//! HTTP probes: one `GET`, bounded in time, over plain HTTP or HTTPS: the
//! deploy hook's green tasks, inside the VPC, by their private address
//! ([`HttpProber::for_tasks`]), and the failover function's public `/health`
//! of each region's load balancer ([`HttpProber::new`]).

use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Sends probes. A trait, so that the shell's tests can answer them.
pub trait Prober: Send + Sync {
    /// `GET <url>` (`http://` or `https://`): the status, or why there is none.
    fn get<'a>(&'a self, url: &'a str) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>>;
}

/// The client for `https://` probes.
type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The real prober: HTTP/1.1, with TLS (rustls on ring, the system's roots,
/// as the SDK's own client) for `https://`.
///
/// The roots are read and the TLS client built at the first `https://` probe,
/// not at start: a function that only probes plain HTTP (the deploy hook)
/// never reads them, and one that probes HTTPS (failover) pays for them once,
/// off its cold start.
#[derive(Clone)]
pub struct HttpProber {
    http: Client<HttpConnector, Empty<Bytes>>,
    https: Arc<OnceLock<Result<HttpsClient, String>>>,
    timeout: Duration,
    trust: Trust,
}

/// Which certificates an `https://` probe accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trust {
    /// Those that chain to the system's roots and name the host.
    SystemRoots,
    /// Any: a task's own certificate, made at its start (see [`HttpProber::for_tasks`]).
    AnyCertificate,
}

impl HttpProber {
    /// Probes that give up after `timeout` each.
    pub fn new(timeout: Duration) -> Self {
        Self {
            http: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(tcp(timeout)),
            https: Arc::new(OnceLock::new()),
            timeout,
            trust: Trust::SystemRoots,
        }
    }

    /// Probes of this service's own tasks, by private address inside the
    /// VPC: an `https://` probe accepts any certificate. Each task makes its
    /// own self-signed certificate at start (the app's `TANDEM_TLS`), which
    /// no root vouches for and no address names; the load balancer does not
    /// check its targets' certificates either. The traffic is still
    /// encrypted, and a probe only reads a status.
    pub fn for_tasks(timeout: Duration) -> Self {
        Self {
            trust: Trust::AnyCertificate,
            ..Self::new(timeout)
        }
    }

    /// The HTTPS client, built on first use. System roots that cannot be
    /// read leave HTTPS probes failing with the reason, and HTTP ones working.
    fn https(&self) -> Result<&HttpsClient, String> {
        self.https
            .get_or_init(|| {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
                    .with_safe_default_protocol_versions()
                    .map_err(|e| format!("TLS could not be set up for probes ({e})"))?;
                let tls = match self.trust {
                    Trust::SystemRoots => builder.with_root_certificates(system_roots()),
                    Trust::AnyCertificate => builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(any_certificate::AnyCertificate(provider))),
                }
                .with_no_client_auth();
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(tls)
                    .https_only()
                    .enable_http1()
                    .wrap_connector(tcp(self.timeout));
                Ok(Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(0)
                    .build(connector))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The system's TLS roots (those that cannot be read are skipped, with a
/// warning). `SSL_CERT_FILE` or `SSL_CERT_DIR`, when set, replace the system's
/// store (rustls-native-certs reads them): only the local AWS's end-to-end
/// suites set one, to trust their own receiver.
pub(crate) fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    if !native.errors.is_empty() {
        tracing::warn!(errors = native.errors.len(), "some system TLS roots could not be read");
    }
    roots.add_parsable_certificates(native.certs);
    roots
}

/// The verifier of [`HttpProber::for_tasks`].
mod any_certificate {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use std::sync::Arc;

    /// Accepts any certificate, but still checks the handshake's signatures
    /// against it (so the other end holds the certificate's key).
    #[derive(Debug)]
    pub(super) struct AnyCertificate(pub(super) Arc<CryptoProvider>);

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

/// The HTTPS-only connector (HTTP/1.1, rustls on ring) of the webhook and
/// download clients: certificates checked against `roots`, connecting given
/// up after `timeout`. Fails only when rustls cannot be set up.
pub(crate) fn https_connector(
    roots: rustls::RootCertStore,
    timeout: Duration,
) -> Result<HttpsConnector<HttpConnector>, rustls::Error> {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(tcp(timeout)))
}

/// The TCP connector under both clients: connecting gives up after `timeout`.
pub(crate) fn tcp(timeout: Duration) -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(timeout));
    http.enforce_http(false);
    http
}

impl Prober for HttpProber {
    fn get<'a>(&'a self, url: &'a str) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        Box::pin(async move {
            let uri: http::Uri = url.parse().map_err(|e| format!("{url} is not a valid address ({e})"))?;
            let request = http::Request::get(uri)
                .header(http::header::USER_AGENT, "tandem-probe")
                .body(Empty::<Bytes>::new())
                .map_err(|e| e.to_string())?;
            let sent = if uri_is_https(request.uri()) {
                self.https()?.request(request)
            } else {
                self.http.request(request)
            };
            match tokio::time::timeout(self.timeout, sent).await {
                Ok(Ok(response)) => Ok(response.status().as_u16()),
                Ok(Err(e)) => Err(connection_error(&e)),
                Err(_) => Err(format!("no answer within {}s", self.timeout.as_secs())),
            }
        })
    }
}

/// Whether the probe goes over TLS.
fn uri_is_https(uri: &http::Uri) -> bool {
    uri.scheme() == Some(&http::uri::Scheme::HTTPS)
}

/// The innermost cause of a client error, one line.
pub(crate) fn connection_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A loopback server that answers every request with `status`, `times` times.
    async fn serve(status: u16, times: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            for _ in 0..times {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer).await;
                let head = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(head.as_bytes()).await;
            }
        });
        address
    }

    #[tokio::test]
    async fn a_probe_reads_the_status() {
        let endpoint = serve(503, 1).await;
        let prober = HttpProber::new(Duration::from_secs(5));
        assert_eq!(prober.get(&format!("http://{endpoint}/db")).await, Ok(503));
        assert!(prober.https.get().is_none(), "a plain HTTP probe read the TLS roots");
    }

    #[tokio::test]
    async fn an_https_probe_speaks_tls_and_builds_its_client_once() {
        // A plain-HTTP server: the TLS handshake fails, and says so.
        let endpoint = serve(200, 2).await;
        let prober = HttpProber::new(Duration::from_secs(5));
        let why = prober.get(&format!("https://{endpoint}/health")).await.unwrap_err();
        assert!(!why.contains("no answer"), "{why}");
        let first = prober.https().map(std::ptr::from_ref).unwrap();
        let _ = prober.get(&format!("https://{endpoint}/health")).await;
        assert_eq!(prober.https().map(std::ptr::from_ref).unwrap(), first);
    }

    /// A loopback HTTPS server with a self-signed certificate (as a task
    /// makes at start) that answers 200 to each of `times` connections.
    async fn serve_self_signed(times: usize) -> String {
        let crate::test_tls::TlsServer {
            listener,
            acceptor,
            port,
            ..
        } = crate::test_tls::tls_server("tandem-app").await;
        let address = format!("127.0.0.1:{port}");
        tokio::spawn(async move {
            for _ in 0..times {
                let (stream, _) = listener.accept().await.unwrap();
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    continue;
                };
                let mut buffer = [0u8; 1024];
                let _ = tls.read(&mut buffer).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            }
        });
        address
    }

    #[tokio::test]
    async fn a_task_s_own_certificate_is_taken_only_by_the_task_prober() {
        let endpoint = serve_self_signed(2).await;
        let tasks = HttpProber::for_tasks(Duration::from_secs(5));
        assert_eq!(tasks.get(&format!("https://{endpoint}/health")).await, Ok(200));
        let public = HttpProber::new(Duration::from_secs(5));
        let why = public.get(&format!("https://{endpoint}/health")).await.unwrap_err();
        assert!(why.to_lowercase().contains("certificate"), "{why}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_readable_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        drop(listener);
        let prober = HttpProber::new(Duration::from_secs(5));
        let why = prober.get(&format!("http://{endpoint}/health")).await.unwrap_err();
        assert!(why.to_lowercase().contains("refused"), "{why}");
    }

    #[tokio::test]
    async fn a_silent_target_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        // Accepts but never answers.
        let _hold = tokio::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        let prober = HttpProber::new(Duration::from_secs(1));
        assert_eq!(
            prober.get(&format!("http://{endpoint}/health")).await,
            Err("no answer within 1s".into())
        );
    }
}
