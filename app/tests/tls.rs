//! HTTPS to the load balancer (`TANDEM_TLS=self-signed`): the real routes
//! over TLS on a loopback port, with a client that trusts exactly the
//! certificate the app made; plain HTTP to that port gets no answer; a
//! failed handshake does not stop the server; and a shutdown stops it.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use tandem_app::config::DbTls;
use tandem_app::db::Database;
use tandem_app::http::{AppState, router};
use tandem_app::secret::NoSecret;
use tandem_app::tls;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

/// The app over TLS; its address, its certificate, and its stop switch.
async fn serve_tls() -> (
    SocketAddr,
    CertificateDer<'static>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let identity = tls::self_signed(&["tandem-app".to_owned()]).unwrap();
    let certificate = identity.certificate.clone();
    let config = tls::server_config(identity).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let db = Arc::new(Database::new(Arc::new(NoSecret), DbTls::Disabled));
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(AppState::unfenced(db, "v7"));
    let server = tokio::spawn(tls::serve(listener, app, config, async move {
        let _ = stopped.await;
    }));
    (addr, certificate, stop, server)
}

/// `GET path` over TLS, trusting only `certificate`: the status and body.
async fn get_tls(addr: SocketAddr, certificate: &CertificateDer<'static>, path: &str) -> Result<(u16, String), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.clone()).map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("tandem-app").map_err(|e| e.to_string())?;
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let response = send_get(TokioIo::new(stream), path).await?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// `GET path` in plain HTTP: the status, or why there is none.
async fn get_plain(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), send_get(TokioIo::new(tcp), path))
        .await
        .map_err(|_| "no answer in 5 s".to_owned())??;
    Ok(response.status().as_u16())
}

/// `GET path` over `io` (HTTP/1.1): the response.
async fn send_get<I>(io: I, path: &str) -> Result<hyper::Response<hyper::body::Incoming>, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header("host", "tandem-app")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    sender.send_request(request).await.map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_answer_over_tls_with_the_certificate_made_at_start() {
    let (addr, certificate, stop, server) = serve_tls().await;
    assert_eq!(
        get_tls(addr, &certificate, "/health").await.unwrap(),
        (200, r#"{"status":"healthy"}"#.to_owned())
    );
    assert_eq!(
        get_tls(addr, &certificate, "/version").await.unwrap(),
        (200, r#"{"version":"v7"}"#.to_owned())
    );

    // Another certificate (another task's) is not this one: the handshake fails.
    let other = tls::self_signed(&["tandem-app".to_owned()]).unwrap().certificate;
    let refused = get_tls(addr, &other, "/health").await.unwrap_err();
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");

    // Plain HTTP to the TLS port gets no HTTP answer, and the server carries on.
    let plain = get_plain(addr, "/health").await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    assert_eq!(get_tls(addr, &certificate, "/health").await.unwrap().0, 200);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "the server stopped listening");
}

#[test]
fn each_certificate_is_new() {
    let a = tls::self_signed(&["tandem-app".to_owned()]).unwrap();
    let b = tls::self_signed(&["tandem-app".to_owned()]).unwrap();
    assert_ne!(a.certificate, b.certificate, "a fresh key and certificate per start");
}
