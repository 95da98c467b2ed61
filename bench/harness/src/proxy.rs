//! A recording proxy in front of the local AWS: the function's
//! `AWS_ENDPOINT_URL` points here, every call is noted (when its request
//! arrived, and which operation it is) and passed on unchanged. With no
//! upstream it holds every call forever: a hung AWS, for the hung-call
//! figure. A measuring tool for `make bench`, not a stand-in for AWS.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One AWS call, as it reached the proxy.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// When its request line arrived.
    pub(crate) at: Instant,
    /// The operation: `StopDeployment`, `PromoteReadReplica`, or the method
    /// and path of a REST call.
    pub(crate) operation: String,
}

/// The proxy, listening on a free loopback port until dropped.
pub(crate) struct Proxy {
    /// `http://127.0.0.1:<port>`, for the function's `AWS_ENDPOINT_URL`.
    pub(crate) url: String,
    /// The calls, in the order they arrived.
    pub(crate) calls: mpsc::UnboundedReceiver<Call>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Where calls go: the local AWS, or nowhere (a hung AWS).
#[derive(Clone)]
struct Upstream {
    base: Option<String>,
    client: Client<HttpConnector, Full<Bytes>>,
    calls: mpsc::UnboundedSender<Call>,
}

/// The operation a request names: the JSON protocols' `X-Amz-Target`
/// (`CodeDeploy_20141006.StopDeployment`), the query protocol's `Action=`
/// (RDS, SNS, CloudWatch), else the method and path.
pub(crate) fn operation(target: Option<&str>, method: &str, path: &str, body: &[u8]) -> String {
    if let Some(target) = target {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let form = String::from_utf8_lossy(body);
    form.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map_or_else(|| format!("{method} {path}"), str::to_owned)
}

impl Proxy {
    /// Starts the proxy, passing calls on to `upstream` (`http://host:port`),
    /// or holding them forever when it is `None`.
    pub(crate) async fn start(upstream: Option<String>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (tx, calls) = mpsc::unbounded_channel();
        let upstream = Upstream {
            base: upstream.map(|u| u.trim_end_matches('/').to_owned()),
            client: Client::builder(TokioExecutor::new()).build_http(),
            calls: tx,
        };
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| pass_on(req, upstream.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { url, calls, server })
    }
}

/// Notes `req` and passes it on unchanged (or holds it).
async fn pass_on(req: Request<Incoming>, upstream: Upstream) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let at = Instant::now();
    let (mut head, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let target = head.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let name = operation(target, head.method.as_str(), head.uri.path(), &body);
    let _ = upstream.calls.send(Call { at, operation: name });
    let Some(base) = upstream.base else {
        return Ok(std::future::pending().await);
    };
    let path = head.uri.path_and_query().map_or("/", |p| p.as_str());
    let failed = |why: String| {
        Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Full::new(Bytes::from(why)))
            .unwrap_or_default()
    };
    head.uri = match format!("{base}{path}").parse::<Uri>() {
        Ok(uri) => uri,
        Err(e) => return Ok(failed(format!("bad upstream URL: {e}"))),
    };
    match upstream
        .client
        .request(Request::from_parts(head, Full::new(body)))
        .await
    {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok(Response::from_parts(parts, Full::new(body)))
        }
        Err(e) => Ok(failed(format!("the local AWS did not answer: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn a_json_protocol_call_is_named_by_its_target() {
        let op = operation(Some("CodeDeploy_20141006.StopDeployment"), "POST", "/", b"{}");
        assert_eq!(op, "StopDeployment");
    }

    #[test]
    fn a_query_protocol_call_is_named_by_its_action() {
        let body = b"Version=2014-10-31&Action=PromoteReadReplica&DBInstanceIdentifier=db";
        assert_eq!(operation(None, "POST", "/", body), "PromoteReadReplica");
    }

    #[test]
    fn a_rest_call_is_named_by_its_method_and_path() {
        assert_eq!(operation(None, "PUT", "/bucket/key", b"data"), "PUT /bucket/key");
    }
}
