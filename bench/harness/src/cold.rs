//! One cold start, measured: the process is started, and the clock runs from
//! just before the spawn to its first ask for work (initialisation: the
//! runtime, the configuration, the SDK clients built in `main`), then from
//! handing it the event to its answer (the first invocation). Peak memory is
//! read from `/proc/<pid>/status` (`VmHWM`) when the answer arrives.

use crate::runtime_api::{RuntimeApi, Seen};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// What one cold start measured.
#[derive(Debug, Clone)]
pub(crate) struct ColdStart {
    /// Process start to its first ask for work.
    pub(crate) init: Duration,
    /// The event handed out to the answer.
    pub(crate) first_invocation: Duration,
    /// Peak resident memory at the answer, in KiB.
    pub(crate) peak_rss_kib: u64,
    /// Whether the function answered with `/response` (not `/error`).
    pub(crate) ok: bool,
    /// Its answer's body.
    pub(crate) answer: String,
    /// The custom-resource response it sent to its `ResponseURL`, if any,
    /// and how long after the event was handed out it arrived.
    pub(crate) cfn_response: Option<(Duration, String)>,
}

/// How to start the function: the program, its arguments, its directory
/// and the variables it gets besides the Runtime API's address.
#[derive(Clone)]
pub(crate) struct Launch {
    /// The command line.
    pub(crate) argv: Vec<String>,
    /// Extra environment variables.
    pub(crate) env: Vec<(String, String)>,
    /// How long the function is told it has (Lambda's deadline).
    pub(crate) deadline: Duration,
    /// Serve the custom-resource ResponseURL over HTTPS with this.
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Launch {
    /// The command that starts the function against `api`, its output
    /// appended to `log`; `aws_endpoint` replaces `AWS_ENDPOINT_URL`.
    pub(crate) fn command(
        &self,
        name: &str,
        api: &RuntimeApi,
        log: &Path,
        aws_endpoint: Option<&str>,
    ) -> anyhow::Result<std::process::Command> {
        let (program, args) = self.argv.split_first().context("an empty command line")?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open the log {}", log.display()))?;
        let mut command = std::process::Command::new(program);
        command
            .args(args)
            .envs(lambda_env(name))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some(url) = aws_endpoint {
            command.env("AWS_ENDPOINT_URL", url);
        }
        Ok(command)
    }
}

/// The variables Lambda sets for every runtime; the Rust runtime refuses to
/// start without them.
fn lambda_env(name: &str) -> [(&'static str, String); 6] {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
    ]
}

/// Peak resident memory of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM line in /proc/<pid>/status")
}

/// Starts `launch` once against a fresh Runtime API serving `event` (with
/// `nonce` for `__NONCE__`), and measures it; `limit` bounds the whole run.
/// With `aws_endpoint`, the function's AWS calls go there. The process is
/// killed after.
pub(crate) async fn cold_start(
    name: &str,
    launch: &Launch,
    event: &[u8],
    nonce: &str,
    log: &Path,
    limit: Duration,
    aws_endpoint: Option<&str>,
) -> anyhow::Result<ColdStart> {
    let mut api = RuntimeApi::start(launch.deadline, launch.tls.clone()).await?;
    api.hand_out(event, nonce)?;
    let mut command = launch.command(name, &api, log, aws_endpoint)?;
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("could not start {}", launch.argv[0]))?;
    let pid = child.id();
    let run = async {
        let (mut asked, mut handed_out) = (None, None);
        let mut cfn_response = None;
        while let Some(seen) = api.seen.recv().await {
            match seen {
                Seen::AskedForWork(at) => asked = asked.or(Some(at)),
                Seen::HandedOut(at) => handed_out = Some(at),
                Seen::Other { at, path, body } if path.starts_with("/cfn-response/") => {
                    cfn_response = Some((at - handed_out.unwrap_or(at), body));
                }
                Seen::Other { .. } => {}
                Seen::Answered { at, ok, body } => {
                    let rss = peak_rss_kib(pid)?;
                    let (Some(asked), Some(handed_out)) = (asked, handed_out) else {
                        bail!("{name} failed to initialise: {body}");
                    };
                    return Ok(ColdStart {
                        init: asked - started,
                        first_invocation: at - handed_out,
                        peak_rss_kib: rss,
                        ok,
                        answer: body,
                        cfn_response,
                    });
                }
            }
        }
        bail!("the Runtime API stopped before {name} answered")
    };
    let outcome = tokio::select! {
        outcome = run => outcome,
        e = exited(name, &mut child) => Err(e),
        () = tokio::time::sleep(limit) => Err(anyhow::anyhow!("{name} did not answer within {limit:?}")),
    };
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// Resolves when `child` exits, with an error that says so.
pub(crate) async fn exited(name: &str, child: &mut std::process::Child) -> anyhow::Error {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return anyhow::anyhow!("{name} exited ({status}) before it answered"),
            Ok(None) => tokio::time::sleep(Duration::from_millis(2)).await,
            Err(e) => return anyhow::anyhow!("cannot wait for {name}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_peak_rss() {
        let kib = peak_rss_kib(std::process::id()).unwrap();
        assert!(kib > 100, "{kib} KiB");
    }

    #[test]
    fn a_process_that_is_gone_has_none() {
        assert!(peak_rss_kib(u32::MAX).is_err());
    }
}
