//! `tandem-bench`: the measuring tool behind `make bench` (scripts/bench.sh).
//!
//! `tandem-bench cold --name topology --runs 20 --event events/x.json -- <command>`
//! starts the command `runs` times, each against a fresh Lambda Runtime API
//! on loopback, and prints one JSON line: the median and 95th percentile of
//! its initialisation, its first invocation and its peak memory, and whether
//! every run answered (and, for a custom resource, answered SUCCESS).
//! With `--hang-aws`, every AWS call the function makes hangs, and the line
//! says how long its custom-resource response took and what it said.
//!
//! `tandem-bench react --name rollback --events 100 --call StopDeployment
//! --upstream http://127.0.0.1:4566 --event events/x.json -- <command>`
//! hands one warm process the event again and again, and prints the median
//! and 95th percentile from handing it out to the corrective call reaching a
//! recording proxy in front of the local AWS.

mod cold;
mod proxy;
mod react;
mod runtime_api;
mod stats;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "tandem-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Cold starts: initialisation, first invocation, peak memory.
    Cold {
        /// What to call the function in the output.
        #[arg(long)]
        name: String,
        /// How many cold starts.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// The event to hand it (a file).
        #[arg(long)]
        event: PathBuf,
        /// Extra environment, `KEY=VALUE`, repeatable.
        #[arg(long = "env")]
        env: Vec<String>,
        /// The deadline the function is given for the invocation, in milliseconds.
        #[arg(long, default_value_t = 300_000)]
        deadline_ms: u64,
        /// Where the function's output goes.
        #[arg(long, default_value = "/dev/null")]
        log: PathBuf,
        /// Serve the ResponseURL over HTTPS with this certificate (PEM) and
        /// `--tls-key`; the function must trust it (`SSL_CERT_FILE`).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PKCS#8 PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Point the function's AWS calls at a proxy that never answers (a hung AWS).
        #[arg(long)]
        hang_aws: bool,
        /// The command line that starts the function.
        #[arg(last = true, required = true)]
        argv: Vec<String>,
    },
    /// Reaction latency: event handed out to the first corrective AWS call.
    React(ReactArgs),
}

/// `tandem-bench react`'s arguments.
#[derive(Debug, clap::Args)]
struct ReactArgs {
    /// What to call the function in the output.
    #[arg(long)]
    name: String,
    /// The event to hand it (a file); `__NONCE__` changes for each.
    #[arg(long)]
    event: PathBuf,
    /// The operation that counts as the reaction (`StopDeployment`).
    #[arg(long)]
    call: String,
    /// The local AWS, which the recording proxy passes calls on to.
    #[arg(long)]
    upstream: String,
    /// Events counted.
    #[arg(long, default_value_t = 100)]
    events: usize,
    /// Events handed out first and not counted.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// A shell command run before each event, `__NONCE__` replaced.
    #[arg(long)]
    before_each: Option<String>,
    /// Extra environment, `KEY=VALUE`, repeatable.
    #[arg(long = "env")]
    env: Vec<String>,
    /// The deadline the function is given for each invocation, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    deadline_ms: u64,
    /// Where the function's output goes.
    #[arg(long, default_value = "/dev/null")]
    log: PathBuf,
    /// The command line that starts the function.
    #[arg(last = true, required = true)]
    argv: Vec<String>,
}

fn summary_json(samples: &[f64]) -> serde_json::Value {
    match stats::summarise(samples) {
        Some(s) => json!({"median": s.median, "p95": s.p95, "n": s.n}),
        None => serde_json::Value::Null,
    }
}

/// A TLS acceptor for `cert` and `key` (PEM files).
fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("cannot read the key {}", key.display()))?;
    let mut config =
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// Whether a custom-resource response body says SUCCESS (`None`: no response was sent).
fn cfn_success(body: Option<&str>) -> Option<bool> {
    let body: serde_json::Value = serde_json::from_str(body?).ok()?;
    Some(body["Status"] == "SUCCESS")
}

/// The `KEY=VALUE` pairs of `--env`.
fn parse_env(env: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    env.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("--env {kv}: write KEY=VALUE"))
        })
        .collect()
}

/// Seconds since the epoch: a run id that a rerun does not repeat.
fn run_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The reason of a custom-resource response body.
fn cfn_reason(body: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    body["Reason"].as_str().map(str::to_owned)
}

/// Runs `launch` cold `runs` times on `event` and prints the summary line.
async fn cold(
    name: &str,
    runs: usize,
    event: &Path,
    log: &Path,
    launch: cold::Launch,
    hang_aws: bool,
) -> anyhow::Result<()> {
    let event = std::fs::read(event).with_context(|| format!("cannot read the event {}", event.display()))?;
    let (mut init, mut first, mut rss, mut responded) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut failures, mut reasons) = (Vec::new(), Vec::new());
    let epoch = run_id();
    let limit = launch.deadline + Duration::from_secs(30);
    for run in 0..runs {
        let nonce = format!("{epoch}-{run}");
        let hung = if hang_aws {
            Some(proxy::Proxy::start(None).await?)
        } else {
            None
        };
        let endpoint = hung.as_ref().map(|p| p.url.as_str());
        match cold::cold_start(name, &launch, &event, &nonce, log, limit, endpoint).await {
            Ok(run) => {
                init.push(run.init.as_secs_f64() * 1000.0);
                first.push(run.first_invocation.as_secs_f64() * 1000.0);
                rss.push(run.peak_rss_kib as f64 / 1024.0);
                if let Some((after, body)) = &run.cfn_response {
                    responded.push(after.as_secs_f64() * 1000.0);
                    reasons.extend(cfn_reason(body));
                }
                let cfn_body = run.cfn_response.as_ref().map(|(_, body)| body.as_str());
                if !run.ok {
                    failures.push(format!("answered with an error: {}", run.answer));
                } else if !hang_aws && cfn_success(cfn_body) == Some(false) {
                    failures.push(format!(
                        "sent a FAILED custom-resource response: {}",
                        cfn_body.unwrap_or_default()
                    ));
                }
            }
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    println!(
        "{}",
        json!({
            "name": name,
            "runs": runs,
            "init_ms": summary_json(&init),
            "first_invocation_ms": summary_json(&first),
            "peak_rss_mib": summary_json(&rss),
            "cfn_response_ms": summary_json(&responded),
            "cfn_reason": reasons.first(),
            "failures": failures.len(),
            "first_failure": failures.first(),
        })
    );
    Ok(())
}

/// Measures the reaction latency and prints the summary line.
async fn react(args: ReactArgs) -> anyhow::Result<()> {
    let event =
        std::fs::read(&args.event).with_context(|| format!("cannot read the event {}", args.event.display()))?;
    let launch = cold::Launch {
        argv: args.argv,
        env: parse_env(&args.env)?,
        deadline: Duration::from_millis(args.deadline_ms),
        tls: None,
    };
    let reaction = react::Reaction {
        event: &event,
        call: &args.call,
        before_each: args.before_each.as_deref(),
        warmup: args.warmup,
        events: args.events,
    };
    let run_id = run_id().to_string();
    let out = react::react(&args.name, &launch, &reaction, &args.upstream, &args.log, &run_id).await?;
    println!(
        "{}",
        json!({
            "name": args.name,
            "call": args.call,
            "events": args.events,
            "reaction_ms": summary_json(&out.latencies_ms),
            "calls": out.sample_calls,
            "failures": out.failures.len(),
            "first_failure": out.failures.first(),
        })
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Cold {
            name,
            runs,
            event,
            env,
            log,
            deadline_ms,
            tls_cert,
            tls_key,
            hang_aws,
            argv,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => tls_acceptor(&cert, &key).map(Some),
                _ => Ok(None),
            };
            let launch = tls.and_then(|tls| {
                Ok(cold::Launch {
                    argv,
                    env: parse_env(&env)?,
                    deadline: Duration::from_millis(deadline_ms),
                    tls,
                })
            });
            match launch {
                Ok(launch) => cold(&name, runs, &event, &log, launch, hang_aws).await,
                Err(e) => Err(e),
            }
        }
        Command::React(args) => react(args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{cfn_reason, cfn_success};

    #[test]
    fn a_custom_resource_response_is_read_for_its_status() {
        assert_eq!(cfn_success(None), None);
        assert_eq!(cfn_success(Some(r#"{"Status":"SUCCESS"}"#)), Some(true));
        assert_eq!(cfn_success(Some(r#"{"Status":"FAILED","Reason":"x"}"#)), Some(false));
        assert_eq!(cfn_success(Some("not json")), None);
    }

    #[test]
    fn a_custom_resource_response_is_read_for_its_reason() {
        assert_eq!(
            cfn_reason(r#"{"Status":"FAILED","Reason":"x timed out"}"#).as_deref(),
            Some("x timed out")
        );
        assert_eq!(cfn_reason(r#"{"Status":"SUCCESS"}"#), None);
    }
}
