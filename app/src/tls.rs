//! TLS from the load balancer to the task (`TANDEM_TLS=self-signed`).
//!
//! The ALB re-encrypts to its HTTPS targets but does not verify their
//! certificates, so each task makes its own at start: a fresh key and a
//! self-signed certificate for its host name, never written to disk or into
//! the image. The deploy hook, which probes the green tasks directly, does
//! not verify it either (see `tandem_core::probe::HttpProber::for_tasks`).

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// How long the requests in flight may take to finish after the shutdown
/// signal; ECS waits 30 s by default before it kills the task.
const DRAIN: Duration = Duration::from_secs(25);

/// The TLS set-up could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The key or certificate could not be generated.
    #[error("could not make the task's self-signed certificate: {0}")]
    Certificate(String),
    /// rustls refused the certificate and key.
    #[error("the task's certificate and key were refused by the TLS library: {0}")]
    Config(String),
}

/// A certificate and its key, as the TLS library takes them.
pub struct Identity {
    /// The certificate (DER), which a test client can trust.
    pub certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

/// A fresh key and a self-signed certificate for `names` (host names or IPs).
pub fn self_signed(names: &[String]) -> Result<Identity, TlsError> {
    let made = rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| TlsError::Certificate(e.to_string()))?;
    Ok(Identity {
        certificate: made.cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der())),
    })
}

/// The server side of TLS 1.2 and 1.3 (rustls on ring) for `identity`,
/// speaking HTTP/1.1 (what the ALB uses to its targets).
pub fn server_config(identity: Identity) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![identity.certificate], identity.key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `app` over TLS on `listener` until `shutdown` completes; then stops
/// accepting and lets the connections in flight finish (up to 25 s).
/// A handshake that fails (a scanner, a client that gives up) is logged and
/// dropped; it never stops the server.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "a TLS handshake failed");
                    return;
                }
            };
            let connection = http1::Builder::new().serve_connection(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after 25 s: stopping anyway");
    }
    Ok(())
}
