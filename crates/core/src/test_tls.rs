//! A loopback TLS server for tandem-core's own tests (the probes, webhooks
//! and downloads): a certificate made here, the acceptor that presents it,
//! and the roots that trust it. Each test accepts and answers as it needs.

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A bound loopback listener, the TLS acceptor for its connections, and
/// what a client must trust.
pub(crate) struct TlsServer {
    /// Bound on 127.0.0.1, on a port of the system's choosing.
    pub listener: TcpListener,
    /// Accepts TLS with the certificate made for the server's name.
    pub acceptor: TlsAcceptor,
    /// The listener's port.
    pub port: u16,
    /// Roots that trust the server's (self-signed) certificate.
    pub roots: rustls::RootCertStore,
}

/// A TLS server for `name` (such as `localhost`) with a self-signed
/// certificate made here, bound but not yet accepting.
pub(crate) async fn tls_server(name: &str) -> TlsServer {
    let made = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    TlsServer {
        listener,
        acceptor: TlsAcceptor::from(Arc::new(config)),
        port,
        roots,
    }
}
