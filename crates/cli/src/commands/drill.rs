//! `tandem drill --env local`: a game day on the laptop. The app serves each
//! region's `/health` on loopback; the standby's failover function probes the
//! primary's, the drill stops the primary's app and times how long the
//! function takes to see it and to decide; then twenty triggers at once
//! prove that the lock lets one promotion through. The local AWS refuses
//! `PromoteReadReplica`, so the promotion must end as a clean, audited
//! failure with the roles unchanged.

use crate::context::Context;
use crate::failover::{function_name, invoke, schedule_event};
use crate::plan::Roles;
use anyhow::{Context as _, bail};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tandem_core::state::{AuditKind, FailoverStep, StateTable};
use tokio::time::Instant;

/// The stand-in replica's source (the local AWS cannot make a cross-region replica).
const STAND_IN_SOURCE: &str = "drill-source";
/// Triggers sent at once to prove the lock.
pub(crate) const CONCURRENT_TRIGGERS: usize = 20;

/// The function's detection settings (its defaults unless its environment changes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detection {
    /// Consecutive failed probes.
    pub(crate) threshold: u64,
    /// Seconds between probes.
    pub(crate) interval: u64,
}

impl Detection {
    /// The most a decision may take after the primary goes down: the
    /// failures, plus one interval (the first failing probe can come up to
    /// one interval after the fall), plus 5 s for a cold start.
    pub(crate) fn window(self) -> Duration {
        Duration::from_secs(self.threshold * self.interval + self.interval + 5)
    }
}

/// How the twenty concurrent triggers ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Triggers that attempted the promotion.
    pub(crate) promoted: usize,
    /// Triggers that left it to the lock's holder.
    pub(crate) busy: usize,
    /// Triggers that found it failed already.
    pub(crate) refused: usize,
    /// Anything else, verbatim.
    pub(crate) other: Vec<String>,
}

impl Tally {
    /// Counts one trigger's answer.
    pub(crate) fn add(&mut self, answer: &Result<crate::failover::Answer, String>) {
        match answer {
            Err(why) if why.contains("could not promote") => self.promoted += 1,
            Ok(a) if a.decision == "Busy" => self.busy += 1,
            Ok(a) if a.decision == "Refuse" && a.reason.contains("failed earlier") => self.refused += 1,
            Ok(a) => self.other.push(format!("{}: {}", a.decision, a.reason)),
            Err(why) => self.other.push(why.clone()),
        }
    }
}

/// A child process that is killed when dropped.
struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The loopback port of a `http://127.0.0.1:<port>/health` URL.
pub(crate) fn loopback_port(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://127.0.0.1:")?;
    rest.split('/').next()?.parse().ok()
}

fn start_app(binary: &std::path::Path, port: u16, region: &str) -> anyhow::Result<App> {
    let child = Command::new(binary)
        .env("PORT", port.to_string())
        .env("TANDEM_IMAGE_TAG", format!("drill-{region}"))
        .env_remove("TANDEM_DB_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("could not start {}", binary.display()))?;
    Ok(App(child))
}

/// Runs the drill; returns whether every check held.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    if !ctx.config.is_local() {
        bail!(
            "a drill runs on the local AWS only (--env local); on AWS, run a game day with `tandem failover --dry-run`"
        );
    }
    let Roles { primary, standby } = ctx.roles.clone();
    if primary != ctx.config.primary_region {
        bail!(
            "the roles are failed over already (primary {primary}): restore them, or `make destroy ENV=local` and deploy again"
        );
    }
    let env = &ctx.config.env;
    let function = function_name(env);
    let clients = ctx.aws.region(&standby);
    let detection = read_detection(&clients.lambda, &function, &standby).await?;
    let url = |r: &str| ctx.config.regions[r].health_url.clone();
    let (Some(primary_port), Some(standby_port)) = (loopback_port(&url(&primary)), loopback_port(&url(&standby)))
    else {
        bail!("config/local.toml must give each region a health_url of http://127.0.0.1:<port>/health for the drill");
    };
    let binary = crate::artifacts::target_dir(&ctx.root).join("debug").join("tandem-app");
    if !binary.exists() {
        bail!(
            "{} is missing: build it with `cargo build -p tandem-app` (make drill does)",
            binary.display()
        );
    }
    println!("drill: the app serves {primary}'s /health on :{primary_port} and {standby}'s on :{standby_port}");
    let primary_app = start_app(&binary, primary_port, &primary)?;
    let _standby_app = start_app(&binary, standby_port, &standby)?;
    wait_healthy(&[primary_port, standby_port]).await?;
    let replica = stand_in_replica(ctx, &standby).await?;
    println!(
        "drill: {replica} in {standby} is a replica (stand-in: the local AWS has no cross-region replica), 2 s behind"
    );
    publish_lag(&clients.cloudwatch, &replica, 2.0).await?;
    let table = ctx.state(&standby);
    let version = table.roles().await?.map_or(0, |r| r.updated_at);
    table.reset_failover(&standby, version).await?;

    // Detection and decision.
    let invoking = {
        let lambda = clients.lambda.clone();
        let (function, standby) = (function.clone(), standby.clone());
        tokio::spawn(async move { invoke(&lambda, &function, &standby, &schedule_event(&standby)).await })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(primary_app);
    let down = Instant::now();
    println!("drill: {primary}'s app stopped: the primary is down");
    let (mut detected, mut decided) = (None, None);
    while decided.is_none() && down.elapsed() < detection.window() + Duration::from_secs(30) {
        if detected.is_none() && table.probe(&standby).await?.is_some_and(|p| p.failures > 0) {
            detected = Some(down.elapsed());
        }
        if table.failover_lock(version).await?.is_some() {
            decided = Some(down.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let answer = invoking.await.context("the invocation task failed")??;
    let mut ok = true;
    let mut check = |what: String, holds: bool| {
        println!("  {} {what}", if holds { "ok  " } else { "FAIL" });
        ok &= holds;
    };
    let secs = |d: Option<Duration>| d.map_or("never".to_owned(), |d| format!("{:.1}s", d.as_secs_f64()));
    check(
        format!(
            "detected: the first failed probe was counted {} after the fall",
            secs(detected)
        ),
        detected.is_some(),
    );
    check(
        format!(
            "decided to promote {} after the fall, within the {}s window ({} probes {}s apart)",
            secs(decided),
            detection.window().as_secs(),
            detection.threshold,
            detection.interval
        ),
        decided.is_some_and(|d| d <= detection.window()),
    );
    let lock = table.failover_lock(version).await?;
    let error = lock.as_ref().and_then(|l| l.error.clone()).unwrap_or_default();
    check(
        format!("the promotion was attempted and the local AWS's refusal recorded: {error}"),
        lock.as_ref().is_some_and(|l| l.step == FailoverStep::Failed) && error.contains("PromoteReadReplica"),
    );
    check(
        format!(
            "the function failed cleanly, naming it: {}",
            answer.clone().err().unwrap_or_default()
        ),
        answer.is_err_and(|why| why.contains("the roles are unchanged")),
    );
    let audit = table
        .audit_entry(AuditKind::Failover, &format!("promotion#{version}"))
        .await?;
    check(
        "the audit trail holds the decision and its failed outcome".into(),
        audit.is_some_and(|a| a.decision == "Promote" && a.outcome.starts_with("failed: ")),
    );
    check(
        "the roles are unchanged".into(),
        roles_unchanged(&table, &primary).await?,
    );

    // The lock: twenty triggers at once, one promotion.
    table.reset_failover(&standby, version).await?;
    for _ in 0..detection.threshold {
        table
            .count_probe(
                &standby,
                Some("drill: the primary is down"),
                tandem_core::clock::unix_now(),
                0,
            )
            .await?;
    }
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_TRIGGERS {
        let lambda = clients.lambda.clone();
        let (function, standby) = (function.clone(), standby.clone());
        tasks.push(tokio::spawn(async move {
            invoke(&lambda, &function, &standby, &schedule_event(&standby)).await
        }));
    }
    let mut tally = Tally::default();
    for task in tasks {
        tally.add(&task.await.context("an invocation task failed")??);
    }
    check(
        format!(
            "{CONCURRENT_TRIGGERS} triggers at once: {} promotion, {} left it to the lock's holder, {} found it failed{}",
            tally.promoted,
            tally.busy,
            tally.refused,
            if tally.other.is_empty() {
                String::new()
            } else {
                format!(", other: {:?}", tally.other)
            }
        ),
        tally.promoted == 1 && tally.other.is_empty(),
    );
    check(
        "the roles are still unchanged".into(),
        roles_unchanged(&table, &primary).await?,
    );
    remove_stand_in(ctx, &standby, &replica).await;
    println!("drill: {}", if ok { "passed" } else { "FAILED" });
    Ok(ok)
}

async fn roles_unchanged(table: &StateTable, primary: &str) -> anyhow::Result<bool> {
    Ok(table.roles().await?.is_none_or(|r| r.primary == primary))
}

async fn read_detection(lambda: &aws_sdk_lambda::Client, function: &str, region: &str) -> anyhow::Result<Detection> {
    let out = (lambda.get_function_configuration().function_name(function).send())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{function} is not deployed in {region} ({}): run `make deploy ENV=local` first",
                tandem_core::aws::error_text(&e)
            )
        })?;
    let vars = out.environment().and_then(|e| e.variables());
    let number = |name: &str, default: u64| {
        vars.and_then(|v| v.get(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Ok(Detection {
        threshold: number("TANDEM_FAILURE_THRESHOLD", 3),
        interval: number("TANDEM_PROBE_INTERVAL_SECS", 10),
    })
}

async fn wait_healthy(ports: &[u16]) -> anyhow::Result<()> {
    let prober = tandem_core::probe::HttpProber::new(Duration::from_secs(1));
    for port in ports {
        let url = format!("http://127.0.0.1:{port}/health");
        let started = Instant::now();
        while tandem_core::probe::Prober::get(&prober, &url).await != Ok(200) {
            if started.elapsed() > Duration::from_secs(15) {
                bail!("the app did not answer {url} within 15 s: is the port taken?");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Makes `tandem-local-db-replica` in `region` a read replica of a stand-in
/// source there, unless it is one already.
async fn stand_in_replica(ctx: &Context, region: &str) -> anyhow::Result<String> {
    let rds = &ctx.aws.region(region).rds;
    let replica = format!("tandem-{}-db-replica", ctx.config.env);
    let source = format!("tandem-{}-{STAND_IN_SOURCE}", ctx.config.env);
    let exists = |id: String| async move {
        rds.describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .is_ok()
    };
    if !exists(source.clone()).await {
        (rds.create_db_instance())
            .db_instance_identifier(&source)
            .engine("mysql")
            .db_instance_class("db.t4g.micro")
            .allocated_storage(20)
            .master_username("drill")
            .master_user_password("drill-only-password")
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "could not make the drill's stand-in source {source} in {region} ({})",
                    tandem_core::aws::error_text(&e)
                )
            })?;
    }
    if !exists(replica.clone()).await {
        (rds.create_db_instance_read_replica())
            .db_instance_identifier(&replica)
            .source_db_instance_identifier(&source)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "could not make the drill's stand-in replica {replica} in {region} ({})",
                    tandem_core::aws::error_text(&e)
                )
            })?;
    }
    Ok(replica)
}

async fn remove_stand_in(ctx: &Context, region: &str, replica: &str) {
    let rds = &ctx.aws.region(region).rds;
    let source = format!("tandem-{}-{STAND_IN_SOURCE}", ctx.config.env);
    for id in [replica, source.as_str()] {
        let _ = rds
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await;
    }
}

/// Publishes `seconds` as `replica`'s `ReplicaLag` (the local AWS has no RDS
/// metrics of its own, and accepts the `AWS/RDS` namespace, which AWS does not).
async fn publish_lag(cw: &aws_sdk_cloudwatch::Client, replica: &str, seconds: f64) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let datum = MetricDatum::builder()
        .metric_name("ReplicaLag")
        .dimensions(Dimension::builder().name("DBInstanceIdentifier").value(replica).build())
        .value(seconds)
        .unit(StandardUnit::Seconds)
        .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            tandem_core::clock::unix_now() as i64,
        ))
        .build();
    (cw.put_metric_data().namespace("AWS/RDS").metric_data(datum).send())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "could not publish the stand-in's ReplicaLag ({})",
                tandem_core::aws::error_text(&e)
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failover::Answer;

    #[test]
    fn the_window_is_the_failures_one_interval_and_a_cold_start() {
        let d = Detection {
            threshold: 3,
            interval: 10,
        };
        assert_eq!(d.window(), Duration::from_secs(45));
    }

    #[test]
    fn loopback_ports_are_read_from_the_health_urls() {
        assert_eq!(loopback_port("http://127.0.0.1:18081/health"), Some(18081));
        assert_eq!(loopback_port("https://alb.example/health"), None);
        assert_eq!(loopback_port("http://127.0.0.1:x/health"), None);
    }

    #[test]
    fn the_tally_counts_each_kind_of_answer() {
        let answer = |decision: &str, reason: &str| {
            Ok(Answer {
                decision: decision.into(),
                reason: reason.into(),
                outcome: String::new(),
            })
        };
        let mut t = Tally::default();
        t.add(&Err("the failover to us-east-2 stopped: could not promote x".into()));
        t.add(&answer("Busy", "a promotion is under way"));
        t.add(&answer("Refuse", "the promotion of us-east-2 failed earlier (x)"));
        t.add(&answer("Watch", "1 of 3"));
        assert_eq!((t.promoted, t.busy, t.refused), (1, 1, 1));
        assert_eq!(t.other, ["Watch: 1 of 3"]);
    }
}
