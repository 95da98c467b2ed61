//! The night itself, step by step: the outage, the fence and the refused
//! promotion, the lock, the completed promotion, the CLI in the dark, the
//! return and the self-fence, then the count and the restore.

use super::apps::{self, App, AppSpec, Maria, Writer};
use super::around::{fence_metric, read_detection, run_cli};
use super::http::Http;
use super::{CONCURRENT_TRIGGERS, Checks, Detection, Tally, loopback_port, outage, secs, stand_in};
use crate::commands::failover::invoke::{function_name, invoke, schedule_event};
use crate::context::Context;
use anyhow::{Context as _, bail};
use std::path::PathBuf;
use std::time::Duration;
use tandem_core::clock::{unix_now, unix_now_ms};
use tandem_core::state::{AuditKind, FailoverStep, StateTable};
use tokio::time::Instant;

/// Everything the night needs, ready.
pub(crate) struct Night<'a> {
    pub(super) ctx: &'a Context,
    pub(super) http: Http,
    pub(super) maria: Maria,
    pub(super) primary: String,
    pub(super) standby: String,
    pub(super) endpoint: String,
    pub(super) function: String,
    pub(super) detection: Detection,
    pub(super) ports: (u16, u16),
    pub(super) binary: PathBuf,
    pub(super) logs: PathBuf,
    pub(super) checks: Checks,
}

impl<'a> Night<'a> {
    /// Checks the proxy, the database and the app, and reads the function's settings.
    pub(crate) async fn prepare(ctx: &'a Context) -> anyhow::Result<Self> {
        let (primary, standby) = (ctx.roles.primary.clone(), ctx.roles.standby.clone());
        let endpoint = ctx.config.endpoint_url.clone().unwrap_or_default();
        let http = Http::new();
        outage::check_proxy(&http, &endpoint).await?;
        outage::set_rules(&http, &endpoint, &serde_json::json!([])).await?;
        let maria = Maria::from_env()?;
        let function = function_name(&ctx.config.env);
        let detection = read_detection(&ctx.aws.region(&standby).lambda, &function, &standby).await?;
        let url = |r: &str| ctx.config.regions[r].health_url.clone();
        let (Some(p), Some(s)) = (loopback_port(&url(&primary)), loopback_port(&url(&standby))) else {
            bail!(
                "config/local.toml must give each region a health_url of http://127.0.0.1:<port>/health for the drill"
            );
        };
        let binary = crate::artifacts::target_dir(&ctx.root).join("debug").join("tandem-app");
        if !binary.exists() {
            bail!(
                "{} is missing: build it with `cargo build -p tandem-app` (make drill does)",
                binary.display()
            );
        }
        let logs = ctx.root.join(".local").join("drill");
        std::fs::create_dir_all(&logs).with_context(|| format!("could not create {}", logs.display()))?;
        Ok(Self {
            ctx,
            http,
            maria,
            primary,
            standby,
            endpoint,
            function,
            detection,
            ports: (p, s),
            binary,
            logs,
            checks: Checks::default(),
        })
    }

    pub(super) fn table(&self, region: &str) -> StateTable {
        self.ctx.state(region)
    }

    fn start_app(&self, region: &str, port: u16, run: &str) -> anyhow::Result<App> {
        let peer = if region == self.primary {
            &self.standby
        } else {
            &self.primary
        };
        apps::start(&AppSpec {
            binary: &self.binary,
            port,
            region,
            peer,
            configured_primary: &self.ctx.config.primary_region,
            endpoint_url: &self.endpoint,
            log: self.logs.join(format!("app-{region}-{run}.log")),
        })
    }

    async fn invoke_schedule(
        &self,
        region: &str,
    ) -> anyhow::Result<Result<crate::commands::failover::invoke::Answer, String>> {
        invoke(
            &self.ctx.aws.region(region).lambda,
            &self.function,
            region,
            &schedule_event(region),
        )
        .await
    }

    /// The night; returns whether every check held.
    pub(crate) async fn run(mut self) -> anyhow::Result<bool> {
        let (primary, standby) = (self.primary.clone(), self.standby.clone());
        let env = self.ctx.config.env.clone();
        let (p_port, s_port) = self.ports;
        let (p_table, s_table) = (self.table(&primary), self.table(&standby));
        let s = self.ctx.aws.region(&standby);

        // Before the night: each region's writer secret, a clean endpoint
        // override, the stand-in replica 2 s behind, no lock, both apps up.
        for region in [&primary, &standby] {
            let sm = &self.ctx.aws.region(region).secrets;
            apps::put_secret(sm, &self.maria, region).await?;
            apps::clear_endpoint(sm, region).await?;
        }
        let replica = stand_in::replica(&s.rds, &env, &standby).await?;
        stand_in::publish_lag(&s.cloudwatch, &replica, 2.0).await?;
        let before = s_table.standing().await?;
        let version = before.roles.as_ref().map_or(0, |r| r.updated_at);
        let epoch = before.epoch();
        s_table.reset_failover(&standby, version).await?;
        let primary_app = self.start_app(&primary, p_port, "before")?;
        let _standby_app = self.start_app(&standby, s_port, "night")?;
        apps::wait_healthy(&self.http, p_port).await?;
        apps::wait_healthy(&self.http, s_port).await?;
        let p_writer = Writer::start(self.http.clone(), p_port);
        let s_writer = Writer::start(self.http.clone(), s_port);
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "drill: both apps serve, {primary}'s takes writes, {standby}'s refuses them (the standby); epoch {epoch}"
        );
        self.checks.check(
            format!(
                "before the night {primary}'s app writes to its writer ({} writes landed)",
                p_writer.landed_since(0)
            ),
            p_writer.landed_since(0) > 0,
        );
        self.checks.check(
            format!("and {standby}'s, the standby, writes nothing"),
            s_writer.landed_since(0) == 0,
        );

        // The outage: the app stops and every call signed for the region fails.
        let invoking = {
            let lambda = s.lambda.clone();
            let (function, standby) = (self.function.clone(), standby.clone());
            tokio::spawn(async move { invoke(&lambda, &function, &standby, &schedule_event(&standby)).await })
        };
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(primary_app);
        outage::set_rules(&self.http, &self.endpoint, &outage::dark(&primary)).await?;
        let down = Instant::now();
        println!("drill: {primary} is dark: its app stopped, every call signed for it answers 503");
        let (mut detected, mut fenced, mut decided) = (None, None, None);
        while decided.is_none() && down.elapsed() < self.detection.window() + Duration::from_secs(30) {
            if detected.is_none() && s_table.probe(&standby).await?.is_some_and(|p| p.failures > 0) {
                detected = Some(down.elapsed());
            }
            if fenced.is_none() && fence_placed(&s_table, &primary, epoch).await? {
                fenced = Some(down.elapsed());
            }
            if s_table.failover_lock(version).await?.is_some() {
                decided = Some(down.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let answer = invoking.await.context("the invocation task failed")??;
        while fenced.is_none() && down.elapsed() < self.detection.window() + Duration::from_secs(40) {
            if fence_placed(&s_table, &primary, epoch).await? {
                fenced = Some(down.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let fence = s_table
            .standing()
            .await?
            .fences
            .into_iter()
            .find(|f| f.region == primary);
        let fence_ms = fence.as_ref().map_or(u64::MAX, |f| f.at * 1000);
        let c = &mut self.checks;
        c.check(
            format!(
                "detected: the first failed probe was counted {} after the fall",
                secs(detected)
            ),
            detected.is_some(),
        );
        c.check(
            format!(
                "decided to promote {} after the fall, within the {}s window ({} probes {}s apart)",
                secs(decided),
                self.detection.window().as_secs(),
                self.detection.threshold,
                self.detection.interval
            ),
            decided.is_some_and(|d| d <= self.detection.window()),
        );
        c.check(
            format!(
                "fenced first: {primary} is fenced at epoch {} in {standby}'s table, {} after the fall",
                epoch + 1,
                secs(fenced)
            ),
            fence.as_ref().is_some_and(|f| f.epoch == epoch + 1 && f.by == standby),
        );
        let published = fence_metric(&s.cloudwatch, &env, &primary).await;
        c.check(
            format!("the traffic fence's metric for {primary} reads {published:?} in {standby}"),
            published == Some(1.0),
        );
        let lock = s_table.failover_lock(version).await?;
        let error = lock.as_ref().and_then(|l| l.error.clone()).unwrap_or_default();
        c.check(
            format!("the promotion was attempted after the fence and the local AWS's refusal recorded: {error}"),
            lock.as_ref().is_some_and(|l| l.step == FailoverStep::Failed) && error.contains("PromoteReadReplica"),
        );
        c.check(
            format!(
                "the function failed cleanly, naming it: {}",
                answer.clone().err().unwrap_or_default()
            ),
            answer.is_err_and(|why| why.contains("the roles are unchanged")),
        );
        let audit = s_table
            .audit_entry(AuditKind::Failover, &format!("promotion#{version}"))
            .await?;
        c.check(
            "the audit trail holds the decision and its failed outcome",
            audit.is_some_and(|a| a.decision == "Promote" && a.outcome.starts_with("failed: ")),
        );

        // The lock: twenty triggers at once, one promotion.
        s_table.reset_failover(&standby, version).await?;
        for _ in 0..self.detection.threshold {
            s_table
                .count_probe(&standby, Some("drill: the primary is down"), unix_now(), 0)
                .await?;
        }
        let mut tasks = Vec::new();
        for _ in 0..CONCURRENT_TRIGGERS {
            let lambda = s.lambda.clone();
            let (function, standby) = (self.function.clone(), standby.clone());
            tasks.push(tokio::spawn(async move {
                invoke(&lambda, &function, &standby, &schedule_event(&standby)).await
            }));
        }
        let mut tally = Tally::default();
        for task in tasks {
            tally.add(&task.await.context("an invocation task failed")??);
        }
        self.checks.check(
            format!(
                "{CONCURRENT_TRIGGERS} triggers at once: {} promotion, {} left it to the lock's holder, {} found it failed{}",
                tally.promoted,
                tally.busy,
                tally.refused,
                if tally.other.is_empty() { String::new() } else { format!(", other: {:?}", tally.other) }
            ),
            tally.promoted == 1 && tally.other.is_empty(),
        );

        // The CLI while us-east-1 is dark.
        self.cli_in_the_dark(&primary).await?;

        // What a completed PromoteReadReplica leaves, then the rest for real.
        stand_in::promoted(&s.rds, &env, &standby, self.maria.port).await?;
        let now = unix_now();
        s_table
            .retry_failover(version, "drill", now.saturating_sub(1), now)
            .await?;
        s_table
            .advance_failover(version, "drill", FailoverStep::PromoteRequested, None, now)
            .await?;
        println!(
            "drill: {replica} is a writer now, as PromoteReadReplica leaves it; the function carries on from there"
        );
        let promoted_at = unix_now_ms();
        let answer = self.invoke_schedule(&standby).await?;
        let outcome = answer.as_ref().map(|a| a.outcome.clone()).unwrap_or_else(Clone::clone);
        let c = &mut self.checks;
        c.check(
            format!("the promotion finished: {outcome}"),
            outcome.starts_with("done: "),
        );
        let roles = s_table.roles().await?;
        c.check(
            format!("{standby} records itself the primary at epoch {}", epoch + 1),
            roles
                .as_ref()
                .is_some_and(|r| r.primary == standby && r.epoch == epoch + 1),
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        let landed = s_writer.landed_since(promoted_at);
        self.checks.check(
            format!("{standby}'s app, now the primary's, takes writes ({landed} landed)"),
            landed > 0,
        );

        // us-east-1 comes back.
        outage::set_rules(&self.http, &self.endpoint, &serde_json::json!([])).await?;
        let back = Instant::now();
        let back_ms = unix_now_ms();
        let _primary_app = self.start_app(&primary, p_port, "back")?;
        apps::wait_healthy(&self.http, p_port).await?;
        println!("drill: {primary} is back: the faults are lifted and its app restarted");
        let answer = self.invoke_schedule(&primary).await?;
        let self_fenced = back.elapsed();
        let decision = answer.as_ref().map(|a| a.decision.clone()).unwrap_or_else(Clone::clone);
        let standing = p_table.standing().await?;
        let c = &mut self.checks;
        c.check(
            format!("{primary}'s function found the newer epoch and demoted itself: {decision}"),
            decision == "Demote",
        );
        c.check(
            format!(
                "{primary} records {standby} as the primary at epoch {} and its own fence",
                epoch + 1
            ),
            standing
                .roles
                .as_ref()
                .is_some_and(|r| r.primary == standby && r.epoch == epoch + 1)
                && standing
                    .fences
                    .iter()
                    .any(|f| f.region == primary && f.epoch == epoch + 1),
        );
        let audit = p_table
            .audit_entry(AuditKind::Failover, &format!("demoted#{}", epoch + 1))
            .await?;
        c.check(
            "the demotion is audited with its reason",
            audit.is_some_and(|a| a.reason.contains("became the primary")),
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        let status = run_cli(&["status", "--env", "local", "--output", "json"]).await?;
        let c = &mut self.checks;
        c.check(
            format!("tandem status exits 3 and says disaster recovery is disarmed and {primary}'s writes are fenced"),
            status.0 == Some(3)
                && status.1.contains("disaster recovery is disarmed")
                && status.1.contains(&format!("writes in {primary} are fenced")),
        );

        // The count.
        let p_answers = p_writer.stop();
        let s_answers = s_writer.stop();
        let after_fence = apps::landed(&p_answers, fence_ms);
        let refused_back = p_answers
            .iter()
            .filter(|a| a.at_ms >= back_ms && a.what == "fenced")
            .count();
        let c = &mut self.checks;
        c.check(
            format!(
                "writes that reached {primary}'s old writer after the fence, through its app: {after_fence} (goal 0)"
            ),
            after_fence == 0,
        );
        c.check(
            format!("{primary}'s app, back, refused {refused_back} writes as fenced"),
            refused_back > 0,
        );
        println!(
            "drill: times: {primary} down -> traffic fenced {}; -> promotion decided {}; {primary} back -> self-fenced {}",
            secs(fenced),
            secs(decided),
            secs(Some(self_fenced))
        );
        println!(
            "drill: writes: {} sent to {primary}'s app, {} to {standby}'s; fence at {fence_ms} ms (Unix)",
            p_answers.len(),
            s_answers.len()
        );

        // The restore, as a failback's roles step would do it.
        self.restore(epoch + 2).await?;
        let ok = self.checks.passed();
        println!("drill: {}", if ok { "passed" } else { "FAILED" });
        Ok(ok)
    }
}

/// Whether `table` holds a fence of `region` at a later epoch than `epoch`.
async fn fence_placed(table: &StateTable, region: &str, epoch: u64) -> anyhow::Result<bool> {
    let standing = table.standing().await?;
    Ok(standing.fences.iter().any(|f| f.region == region && f.epoch > epoch))
}
