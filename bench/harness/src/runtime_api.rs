//! The Lambda Runtime API on loopback, for one function process: it hands
//! the function the events it is given, one per ask, times when the function
//! asks for work and when it answers, and takes the custom-resource response
//! (each event's `ResponseURL` is pointed here). A measuring tool for
//! `make bench`, not a stand-in for AWS in any test.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};
use tokio_rustls::TlsAcceptor;

/// Something the function did, or was given, as the harness saw it.
#[derive(Debug, Clone)]
pub(crate) enum Seen {
    /// A `GET /runtime/invocation/next` arrived: the first one ends initialisation.
    AskedForWork(Instant),
    /// An event went out to the function, in answer to an ask.
    HandedOut(Instant),
    /// Its answer to the invocation (`response` or `error`), with the body.
    Answered {
        /// When the answer arrived.
        at: Instant,
        /// `true` for `/response`, `false` for `/error` or `/init/error`.
        ok: bool,
        /// The body, as text.
        body: String,
    },
    /// A request to any other path: the custom-resource response that the
    /// function sends to its `ResponseURL`.
    Other {
        /// When it arrived.
        at: Instant,
        /// The path.
        path: String,
        /// The body, as text.
        body: String,
    },
}

/// One event waiting to be handed out: its request id and body.
type Queued = (String, Bytes);

/// A Runtime API for one function process, listening on a free loopback port.
pub(crate) struct RuntimeApi {
    /// `127.0.0.1:<port>`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub(crate) address: String,
    /// What the function does, in the order it arrives.
    pub(crate) seen: mpsc::UnboundedReceiver<Seen>,
    /// The ResponseURL base: this API, or its TLS twin.
    base: String,
    queue: mpsc::UnboundedSender<Queued>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.servers.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

/// What every connection is answered with.
#[derive(Clone)]
struct Shared {
    tx: mpsc::UnboundedSender<Seen>,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Queued>>>,
    deadline: std::time::Duration,
}

/// Serves `shared` on `listener`, through TLS when `tls` is given.
fn serve(listener: TcpListener, shared: Shared, tls: Option<TlsAcceptor>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (shared, tls) = (shared.clone(), tls.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| answer(req, shared.clone()));
                let http = http1::Builder::new();
                match tls {
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(stream).await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    })
}

/// The event with every `__NONCE__` replaced by `nonce` (so that each run is
/// a new event, not a repeated delivery), and its `ResponseURL` (if it has
/// one) pointed at `base`, under the request id.
fn prepare(event: &[u8], nonce: &str, base: &str, request_id: &str) -> anyhow::Result<Vec<u8>> {
    let text = String::from_utf8_lossy(event).replace("__NONCE__", nonce);
    let mut json: serde_json::Value = serde_json::from_str(&text)?;
    if let Some(url) = json.get_mut("ResponseURL") {
        *url = serde_json::Value::String(format!("{base}/cfn-response/{request_id}"));
    }
    Ok(serde_json::to_vec(&json)?)
}

impl RuntimeApi {
    /// Starts serving, giving the function `deadline` for each invocation.
    /// With `tls`, the ResponseURL is `https://localhost:<another port>`,
    /// served with it.
    pub(crate) async fn start(deadline: std::time::Duration, tls: Option<TlsAcceptor>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let tls_listener = match tls {
            Some(_) => Some(TcpListener::bind("127.0.0.1:0").await?),
            None => None,
        };
        let base = match &tls_listener {
            Some(l) => format!("https://localhost:{}", l.local_addr()?.port()),
            None => format!("http://{address}"),
        };
        let (tx, seen) = mpsc::unbounded_channel();
        let (queue, waiting) = mpsc::unbounded_channel();
        let shared = Shared {
            tx,
            queue: Arc::new(Mutex::new(waiting)),
            deadline,
        };
        let mut servers = vec![serve(listener, shared.clone(), None)];
        if let Some(l) = tls_listener {
            servers.push(serve(l, shared, tls));
        }
        Ok(Self {
            address,
            seen,
            base,
            queue,
            servers,
        })
    }

    /// Queues `event` (with `nonce` for `__NONCE__`) for the function's next
    /// ask; an ask with nothing queued waits.
    pub(crate) fn hand_out(&self, event: &[u8], nonce: &str) -> anyhow::Result<()> {
        let request_id = format!("bench-{nonce}");
        let body = prepare(event, nonce, &self.base, &request_id)?;
        self.queue
            .send((request_id, Bytes::from(body)))
            .map_err(|_| anyhow::anyhow!("the Runtime API has stopped"))
    }
}

async fn answer(req: Request<Incoming>, shared: Shared) -> Result<Response<Full<Bytes>>, Infallible> {
    let Shared { tx, queue, deadline } = shared;
    let at = Instant::now();
    let path = req.uri().path().to_owned();
    if req.method() == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        let _ = tx.send(Seen::AskedForWork(at));
        let Some((request_id, event)) = queue.lock().await.recv().await else {
            // The harness is done with this process: the ask waits until it is stopped.
            return Ok(std::future::pending().await);
        };
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| (d + deadline).as_millis());
        // What Lambda sends; awslambdaric's native client crashes on a
        // response without a Content-Type.
        let response = Response::builder()
            .header("Content-Type", "application/json")
            .header("Lambda-Runtime-Aws-Request-Id", request_id)
            .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
            .header(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:000000000000:function:bench",
            )
            .header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
            .body(Full::new(event));
        let _ = tx.send(Seen::HandedOut(Instant::now()));
        return Ok(response.unwrap_or_default());
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let status = if path.contains("/runtime/") {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let seen = if path.ends_with("/response") && path.contains("/runtime/invocation/") {
        Seen::Answered { at, ok: true, body }
    } else if path.ends_with("/error") && path.contains("/runtime/") {
        Seen::Answered { at, ok: false, body }
    } else {
        Seen::Other { at, path, body }
    };
    let _ = tx.send(seen);
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_url_points_at_the_harness_and_nothing_else_changes() {
        let event = br#"{"RequestType":"Create","ResponseURL":"https://s3.example/x","A":[1]}"#;
        let out: serde_json::Value =
            serde_json::from_slice(&prepare(event, "n", "http://127.0.0.1:9", "r1").unwrap()).unwrap();
        assert_eq!(out["ResponseURL"], "http://127.0.0.1:9/cfn-response/r1");
        assert_eq!(out["A"], serde_json::json!([1]));
        let plain = br#"{"detail":{}}"#;
        assert_eq!(prepare(plain, "n", "http://127.0.0.1:9", "r1").unwrap(), plain.to_vec());
    }

    #[test]
    fn every_nonce_placeholder_is_replaced() {
        let event = br#"{"a":"x#__NONCE__","b":["__NONCE__"]}"#;
        let out: serde_json::Value =
            serde_json::from_slice(&prepare(event, "r7", "http://127.0.0.1:9", "r1").unwrap()).unwrap();
        assert_eq!(out, serde_json::json!({"a": "x#r7", "b": ["r7"]}));
    }

    #[test]
    fn an_event_that_is_not_json_is_an_error() {
        assert!(prepare(b"{", "n", "http://127.0.0.1:9", "r1").is_err());
    }
}
