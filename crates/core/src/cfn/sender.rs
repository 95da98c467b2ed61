//! Delivery of the response to the presigned URL, with bounded retries.

use super::request::ResponseUrl;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_types::body::SdkBody;
use futures_util::future::BoxFuture;
use std::time::Duration;
use tokio::time::Instant;

/// One HTTP PUT of a response body. Returns the HTTP status, or a transport
/// error as text (it never contains the URL).
pub trait Transport: Send + Sync {
    /// Sends `body` to `url` once.
    fn put<'a>(&'a self, url: &'a ResponseUrl, body: Vec<u8>) -> BoxFuture<'a, Result<u16, String>>;
}

/// The real transport: the SDK's own HTTPS client stack (rustls on ring),
/// built at the first response, so that reading the system's TLS roots is
/// not part of the function's start.
#[derive(Debug, Default)]
pub struct HttpTransport {
    connector: std::sync::OnceLock<aws_smithy_http_client::Connector>,
}

impl HttpTransport {
    /// An HTTPS (and plain HTTP, for the local AWS) client with connect and
    /// read timeouts.
    pub fn new() -> Self {
        Self::default()
    }

    fn connector(&self) -> &aws_smithy_http_client::Connector {
        self.connector.get_or_init(|| {
            let settings = HttpConnectorSettings::builder()
                .connect_timeout(Duration::from_secs(3))
                .read_timeout(Duration::from_secs(10))
                .build();
            aws_smithy_http_client::Connector::builder()
                .connector_settings(settings)
                .sleep_impl(TokioSleep::new())
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build()
        })
    }
}

impl Transport for HttpTransport {
    fn put<'a>(&'a self, url: &'a ResponseUrl, body: Vec<u8>) -> BoxFuture<'a, Result<u16, String>> {
        Box::pin(async move {
            // The presigned URL is signed for an empty Content-Type, so none is sent.
            let request = http::Request::builder()
                .method("PUT")
                .uri(url.expose())
                .header("content-length", body.len())
                .body(SdkBody::from(body))
                .map_err(|e| {
                    format!(
                        "could not build the request: {}",
                        e.to_string().replace(url.expose(), "<url>")
                    )
                })?;
            let request = request
                .try_into()
                .map_err(|_| "could not convert the request for the HTTP client".to_string())?;
            let response = self
                .connector()
                .call(request)
                .await
                .map_err(|e| format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
            Ok(response.status().as_u16())
        })
    }
}

/// How hard to try before giving up on delivering a response.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait after the first failure; it doubles after each further one.
    pub first_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// The longest one attempt may take.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            attempt_timeout: Duration::from_secs(15),
        }
    }
}

/// Why a response could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL answered with a status that retrying cannot change (such as 403
    /// for an expired URL).
    #[error("the response URL refused the response with HTTP {0}")]
    Rejected(u16),
    /// Every attempt failed, or the deadline left no time for another.
    #[error("gave up after {attempts} attempt(s): {last}")]
    GaveUp {
        /// How many PUTs were made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// PUTs `body` to `url`, retrying transport errors, 5xx and 429 with
/// exponential backoff, never starting a wait or an attempt that would end
/// after `deadline`.
pub async fn deliver(
    transport: &dyn Transport,
    url: &ResponseUrl,
    body: &[u8],
    deadline: Instant,
    policy: RetryPolicy,
) -> Result<u32, SendError> {
    let mut backoff = policy.first_backoff;
    let mut last = String::from("no attempt fitted before the deadline");
    let mut attempts = 0;
    while attempts < policy.max_attempts {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        attempts += 1;
        let budget = policy.attempt_timeout.min(deadline - now);
        match tokio::time::timeout(budget, transport.put(url, body.to_vec())).await {
            Ok(Ok(status)) if (200..300).contains(&status) => return Ok(attempts),
            Ok(Ok(status)) if status >= 500 || status == 429 => last = format!("HTTP {status}"),
            Ok(Ok(status)) => return Err(SendError::Rejected(status)),
            Ok(Err(error)) => last = error,
            Err(_) => last = format!("no answer within {budget:?}"),
        }
        tracing::warn!(attempt = attempts, error = %last, "response delivery failed");
        if attempts == policy.max_attempts || Instant::now() + backoff >= deadline {
            break;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(policy.max_backoff);
    }
    Err(SendError::GaveUp { attempts, last })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Answers each PUT with the next scripted result and records when it came.
    struct Scripted {
        answers: Mutex<Vec<Result<u16, String>>>,
        calls: Mutex<Vec<Instant>>,
        delay: Duration,
    }

    impl Scripted {
        fn new(answers: Vec<Result<u16, String>>) -> Self {
            Self {
                answers: Mutex::new(answers),
                calls: Mutex::new(vec![]),
                delay: Duration::ZERO,
            }
        }
        fn calls(&self) -> Vec<Instant> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Transport for Scripted {
        fn put<'a>(&'a self, _: &'a ResponseUrl, _: Vec<u8>) -> BoxFuture<'a, Result<u16, String>> {
            self.calls.lock().unwrap().push(Instant::now());
            let answer = {
                let mut answers = self.answers.lock().unwrap();
                if answers.is_empty() { Ok(200) } else { answers.remove(0) }
            };
            let delay = self.delay;
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                answer
            })
        }
    }

    fn url() -> ResponseUrl {
        ResponseUrl::new("https://example.invalid/x")
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(600)
    }

    #[tokio::test(start_paused = true)]
    async fn retries_server_errors_and_transport_errors_with_growing_backoff() {
        let t = Scripted::new(vec![Ok(500), Err("connection reset".into()), Ok(503), Ok(200)]);
        let attempts = deliver(&t, &url(), b"{}", far(), RetryPolicy::default()).await.unwrap();
        assert_eq!(attempts, 4);
        let calls = t.calls();
        let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(
            gaps,
            vec![
                Duration::from_millis(250),
                Duration::from_millis(500),
                Duration::from_secs(1)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stops_after_the_attempt_limit_with_the_last_error() {
        let t = Scripted::new(vec![Ok(500); 10]);
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let error = deliver(&t, &url(), b"{}", far(), policy).await.unwrap_err();
        assert!(
            matches!(error, SendError::GaveUp { attempts: 3, ref last } if last == "HTTP 500"),
            "{error}"
        );
        assert_eq!(t.calls().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_error_is_not_retried() {
        let t = Scripted::new(vec![Ok(403)]);
        let error = deliver(&t, &url(), b"{}", far(), RetryPolicy::default())
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Rejected(403)));
        assert_eq!(t.calls().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn never_waits_or_sends_past_the_deadline() {
        let mut t = Scripted::new(vec![Ok(500); 10]);
        t.delay = Duration::from_millis(100);
        let start = Instant::now();
        let deadline = start + Duration::from_millis(700);
        let error = deliver(&t, &url(), b"{}", deadline, RetryPolicy::default())
            .await
            .unwrap_err();
        assert!(
            Instant::now() <= deadline,
            "ran {:?} past the deadline",
            Instant::now() - deadline
        );
        // 0 ms: try (100 ms), wait 250; 350 ms: try (100), next wait of 500 would cross 700.
        assert_eq!(t.calls().len(), 2, "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_attempt_is_cut_at_the_deadline() {
        let mut t = Scripted::new(vec![Ok(200)]);
        t.delay = Duration::from_secs(60);
        let deadline = Instant::now() + Duration::from_secs(2);
        let error = deliver(&t, &url(), b"{}", deadline, RetryPolicy::default())
            .await
            .unwrap_err();
        assert!(Instant::now() <= deadline);
        assert!(error.to_string().contains("no answer within"), "{error}");
    }
}
