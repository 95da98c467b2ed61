//! HTTP probes of the green targets: one `GET` per path, bounded in time.

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Sends probes. A trait, so that the shell's tests can answer them.
pub trait Prober: Send + Sync {
    /// `GET http://<endpoint><path>`: the status, or why there is none.
    fn get<'a>(
        &'a self,
        endpoint: &'a str,
        path: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>>;
}

/// The real prober: plain HTTP/1.1 to the target's own address, from inside
/// the VPC (the task's port is not exposed anywhere else).
#[derive(Clone)]
pub struct HttpProber {
    client: Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
}

impl HttpProber {
    /// Probes that give up after `timeout` each.
    pub fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        Self { client, timeout }
    }
}

impl Prober for HttpProber {
    fn get<'a>(
        &'a self,
        endpoint: &'a str,
        path: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        Box::pin(async move {
            let uri: http::Uri = format!("http://{endpoint}{path}")
                .parse()
                .map_err(|e| format!("{endpoint}{path} is not a valid address ({e})"))?;
            let request = http::Request::get(uri)
                .header(http::header::USER_AGENT, "tandem-deploy-hook")
                .body(Empty::<Bytes>::new())
                .map_err(|e| e.to_string())?;
            match tokio::time::timeout(self.timeout, self.client.request(request)).await {
                Ok(Ok(response)) => Ok(response.status().as_u16()),
                Ok(Err(e)) => Err(connection_error(&e)),
                Err(_) => Err(format!("no answer within {}s", self.timeout.as_secs())),
            }
        })
    }
}

/// The innermost cause of a client error, one line.
fn connection_error(error: &(dyn std::error::Error + 'static)) -> String {
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
        assert_eq!(prober.get(&endpoint, "/db").await, Ok(503));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_readable_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        drop(listener);
        let prober = HttpProber::new(Duration::from_secs(5));
        let why = prober.get(&endpoint, "/health").await.unwrap_err();
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
            prober.get(&endpoint, "/health").await,
            Err("no answer within 1s".into())
        );
    }
}
