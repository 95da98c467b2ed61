//! Chat webhooks: one JSON `POST` over HTTPS, bounded in time, with the same
//! client stack as the probes ([`crate::probe`]): hyper with rustls on ring
//! and the system's roots. The `notify` function posts the ops topic's
//! messages with it.
//!
//! A webhook's URL is its credential: no error here repeats it, nor any part
//! of its path; an error names the host at most.

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Posts JSON to a webhook. A trait, so that the shell's tests can answer.
pub trait Poster: Send + Sync {
    /// `POST <url>` with `body` as `application/json`: the status, or why
    /// there is none (one sentence that never holds the URL).
    fn post_json<'a>(
        &'a self,
        url: &'a str,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>>;
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The real poster: HTTPS only (a plain `http://` URL is refused before any
/// connection), certificates checked against the system's roots
/// (`SSL_CERT_FILE` replaces them, see [`crate::probe`]), HTTP/1.1.
///
/// The roots are read and the client built at the first post, then kept.
#[derive(Clone)]
pub struct HttpsPoster {
    client: Arc<OnceLock<Result<HttpsClient, String>>>,
    roots: Option<rustls::RootCertStore>,
    timeout: Duration,
}

impl HttpsPoster {
    /// A poster whose requests give up after `timeout` (connecting and answering).
    pub fn new(timeout: Duration) -> Self {
        Self {
            client: Arc::new(OnceLock::new()),
            roots: None,
            timeout,
        }
    }

    /// A poster that trusts `roots` instead of the system's (tests).
    pub fn with_roots(timeout: Duration, roots: rustls::RootCertStore) -> Self {
        Self {
            roots: Some(roots),
            ..Self::new(timeout)
        }
    }

    fn client(&self) -> Result<&HttpsClient, String> {
        self.client
            .get_or_init(|| {
                let roots = self.roots.clone().unwrap_or_else(crate::probe::system_roots);
                let connector = crate::probe::https_connector(roots, self.timeout)
                    .map_err(|e| format!("TLS could not be set up for the webhook ({e})"))?;
                Ok(Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(30))
                    .build(connector))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The host of `url` for messages (never its path or query), or a stand-in.
pub fn host_of(url: &str) -> String {
    url.parse::<http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(str::to_owned))
        .unwrap_or_else(|| "(no host)".into())
}

impl Poster for HttpsPoster {
    fn post_json<'a>(
        &'a self,
        url: &'a str,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        Box::pin(async move {
            // The parser's own error may quote the URL: it is not passed on.
            let uri: http::Uri = url.parse().map_err(|_| {
                "the webhook URL is not a valid address: store an https:// URL in the secret".to_owned()
            })?;
            if uri.scheme() != Some(&http::uri::Scheme::HTTPS) {
                return Err(
                    "the webhook URL is not https://: store the chat webhook's HTTPS address in the secret".into(),
                );
            }
            let request = http::Request::post(uri)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::USER_AGENT, "tandem-notify")
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| format!("the request could not be built ({e})"))?;
            let sent = self.client()?.request(request);
            match tokio::time::timeout(self.timeout, sent).await {
                Ok(Ok(response)) => Ok(response.status().as_u16()),
                Ok(Err(e)) => Err(crate::probe::connection_error(&e)),
                Err(_) => Err(format!("no answer within {}s", self.timeout.as_secs())),
            }
        })
    }
}

#[cfg(test)]
mod tests;
