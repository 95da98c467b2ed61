//! The drill's own HTTP: a POST with a body, to the fault proxy's rules and
//! to each app's `/writes`. Plain HTTP on loopback only.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// A loopback HTTP/1.1 client.
#[derive(Clone)]
pub(crate) struct Http(Client<HttpConnector, Full<Bytes>>);

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

impl Http {
    pub(crate) fn new() -> Self {
        Self(Client::builder(TokioExecutor::new()).build(HttpConnector::new()))
    }

    /// `method url` with `body`: the status and the body's text.
    pub(crate) async fn send(&self, method: http::Method, url: &str, body: String) -> Result<(u16, String), String> {
        let request = http::Request::builder()
            .method(method)
            .uri(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("{url}: {e}"))?;
        let answer = async {
            let response = self.0.request(request).await.map_err(|e| format!("{url}: {e}"))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            Ok((status, String::from_utf8_lossy(&body.to_bytes()).into_owned()))
        };
        tokio::time::timeout(TIMEOUT, answer)
            .await
            .unwrap_or_else(|_| Err(format!("{url}: no answer within {} s", TIMEOUT.as_secs())))
    }
}
