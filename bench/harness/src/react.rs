//! Reaction latency: one warm function process is handed events one after
//! another, and for each the clock runs from handing it out to the moment
//! its first corrective AWS call (say `StopDeployment`) reaches the
//! recording proxy in front of the local AWS.

use crate::cold::{Launch, exited};
use crate::proxy::{Call, Proxy};
use crate::runtime_api::{RuntimeApi, Seen};
use anyhow::{Context, bail};
use std::path::Path;
use std::time::{Duration, Instant};

/// What to measure: the event, the call that counts as the reaction, and a
/// command run before each event (to set up what the event acts on).
pub(crate) struct Reaction<'a> {
    /// The event; `__NONCE__` becomes a new value for each.
    pub(crate) event: &'a [u8],
    /// The operation that counts: `StopDeployment`.
    pub(crate) call: &'a str,
    /// A shell command run before each event, `__NONCE__` replaced.
    pub(crate) before_each: Option<&'a str>,
    /// Events handed out first and not counted (the first one pays the cold start).
    pub(crate) warmup: usize,
    /// Events counted.
    pub(crate) events: usize,
}

/// What the run measured.
#[derive(Debug, Default)]
pub(crate) struct Reactions {
    /// Handing out to the corrective call, per counted event, in ms.
    pub(crate) latencies_ms: Vec<f64>,
    /// Why an event did not count.
    pub(crate) failures: Vec<String>,
    /// The operations one counted event made, in order (for the report).
    pub(crate) sample_calls: Vec<String>,
}

/// Runs `before_each` with `nonce`, failing when it does.
fn prepare(before_each: Option<&str>, nonce: &str) -> anyhow::Result<()> {
    let Some(command) = before_each else {
        return Ok(());
    };
    let command = command.replace("__NONCE__", nonce);
    let output = std::process::Command::new("sh")
        .args(["-c", &command])
        .output()
        .context("cannot run --before-each")?;
    if !output.status.success() {
        bail!(
            "--before-each failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Starts `launch` once, with its AWS calls through a recording proxy to
/// `upstream`, and hands it `reaction.warmup + reaction.events` events.
pub(crate) async fn react(
    name: &str,
    launch: &Launch,
    reaction: &Reaction<'_>,
    upstream: &str,
    log: &Path,
    run_id: &str,
) -> anyhow::Result<Reactions> {
    let mut api = RuntimeApi::start(launch.deadline, launch.tls.clone()).await?;
    let mut proxy = Proxy::start(Some(upstream.to_owned())).await?;
    let mut child = launch
        .command(name, &api, log, Some(&proxy.url))?
        .spawn()
        .with_context(|| format!("could not start {}", launch.argv[0]))?;
    let mut out = Reactions::default();
    let limit = launch.deadline + Duration::from_secs(10);
    let outcome = async {
        for k in 0..reaction.warmup + reaction.events {
            let nonce = format!("{run_id}-{k:04}");
            prepare(reaction.before_each, &nonce)?;
            while proxy.calls.try_recv().is_ok() {}
            api.hand_out(reaction.event, &nonce)?;
            let handed_out = wait_for_answer(&mut api, limit).await?;
            let mut calls: Vec<Call> = Vec::new();
            while let Ok(call) = proxy.calls.try_recv() {
                calls.push(call);
            }
            if k < reaction.warmup {
                continue;
            }
            if out.sample_calls.is_empty() {
                out.sample_calls = calls.iter().map(|c| c.operation.clone()).collect();
            }
            match calls
                .iter()
                .find(|c| c.operation == reaction.call && c.at >= handed_out)
            {
                Some(call) => out.latencies_ms.push((call.at - handed_out).as_secs_f64() * 1000.0),
                None => out.failures.push(format!(
                    "event {k} made no {} call (it made: {})",
                    reaction.call,
                    calls
                        .iter()
                        .map(|c| c.operation.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        anyhow::Ok(())
    };
    let result = tokio::select! {
        result = outcome => result,
        e = exited(name, &mut child) => Err(e),
    };
    let _ = child.kill();
    let _ = child.wait();
    result.map(|()| out)
}

/// Waits for the answer to the event just queued; returns when it was handed out.
async fn wait_for_answer(api: &mut RuntimeApi, limit: Duration) -> anyhow::Result<Instant> {
    let mut handed_out = None;
    let wait = async {
        while let Some(seen) = api.seen.recv().await {
            match seen {
                Seen::HandedOut(at) => handed_out = Some(at),
                Seen::Answered { .. } => return handed_out.context("an answer before any event was handed out"),
                Seen::AskedForWork(_) | Seen::Other { .. } => {}
            }
        }
        bail!("the Runtime API stopped")
    };
    tokio::time::timeout(limit, wait)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {limit:?}"))?
}
