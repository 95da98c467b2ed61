//! Around the night: the CLI run while the primary is dark, the restore at
//! the end, and what the drill reads back (the fence's metric, the
//! function's settings).

use super::night::Night;
use super::{Detection, apps, secs, stand_in};
use crate::commands::failback::fences::record_roles_in_both;
use anyhow::Context as _;
use tandem_core::clock::unix_now;
use tokio::time::Instant;

impl Night<'_> {
    /// `tandem status` and `tandem audit` while the primary region is dark.
    pub(super) async fn cli_in_the_dark(&mut self, primary: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        let (code, out) = run_cli(&["status", "--env", "local", "--output", "json"]).await?;
        let took = started.elapsed();
        self.checks.check(
            format!(
                "tandem status with {primary} dark: exit {code:?} in {}, naming it unreachable",
                secs(Some(took))
            ),
            code == Some(3) && out.contains(&format!("{primary} is unreachable")),
        );
        let (code, out) = run_cli(&["audit", "--env", "local", "--since", "1h"]).await?;
        self.checks.check(
            format!("tandem audit with {primary} dark: exit {code:?}, the standby's trail shown"),
            code == Some(3) && out.contains("Promote"),
        );
        let (code, out) = run_cli(&["logs", "--env", "local", "--since", "10m", "--function", "failover"]).await?;
        self.checks.check(
            format!("tandem logs with {primary} dark: exit {code:?}, the standby's lines shown"),
            code == Some(3) && out.contains(&self.standby) && out.contains(&format!("{primary} is unreachable")),
        );
        let s = self.ctx.aws.region(&self.standby);
        stand_in::publish_lag(&s.cloudwatch, &stand_in::replica_id(&self.ctx.config.env), 2.0).await?;
        let reason = format!("drill: {primary} is dark");
        let (code, out) = run_cli(&["failover", "--env", "local", "--dry-run", "--reason", &reason]).await?;
        self.checks.check(
            format!("tandem failover --dry-run with {primary} dark: exit {code:?}, the standby decides"),
            code == Some(0) && out.contains("decision: Promote"),
        );
        let (code, out) = run_cli(&["deploy", "--env", "local"]).await?;
        let skipped = out.lines().filter(|l| l.starts_with("skipped ")).count();
        self.checks.check(
            format!(
                "tandem deploy with {primary} dark: exit {code:?}, {skipped} stacks left as they are (its two and the global one), the survivor's deployed"
            ),
            code == Some(0)
                && skipped == 3
                && out.contains(&format!("{primary} is unreachable"))
                && out.contains(&format!("in {}", self.standby)),
        );
        Ok(())
    }

    /// Back to the configured primary at `epoch` in both tables (which lifts
    /// every fence), the traffic fence's metric to 0, the stand-in gone.
    pub(super) async fn restore(&mut self, epoch: u64) -> anyhow::Result<()> {
        let (primary, standby) = (self.primary.clone(), self.standby.clone());
        record_roles_in_both(
            self.ctx,
            &primary,
            &standby,
            epoch,
            "drill: restored, as a failback would",
        )
        .await?;
        for region in [&primary, &standby] {
            // Best effort, as before: the roles are what lift the fences.
            let _ = apps::clear_endpoint(&self.ctx.aws.region(region).secrets, region).await;
        }
        let s = self.ctx.aws.region(&standby);
        tandem_core::fence::publish(&s.cloudwatch, &self.ctx.config.env, &primary, false)
            .await
            .map_err(anyhow::Error::msg)?;
        stand_in::remove(&s.rds, &self.ctx.config.env).await;
        println!("drill: restored: {primary} is the primary at epoch {epoch} in both tables; the fences are lifted");
        Ok(())
    }
}

/// The newest value of the traffic fence's metric for `region`.
pub(super) async fn fence_metric(cw: &aws_sdk_cloudwatch::Client, env: &str, region: &str) -> Option<f64> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    let out = (cw.get_metric_statistics())
        .namespace(tandem_core::fence::METRIC_NAMESPACE)
        .metric_name(tandem_core::fence::METRIC_NAME)
        .dimensions(Dimension::builder().name("Env").value(env).build())
        .dimensions(Dimension::builder().name("Region").value(region).build())
        .start_time(DateTime::from_secs(now - 600))
        .end_time(DateTime::from_secs(now + 60))
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .ok()?;
    out.datapoints().iter().filter_map(|d| d.maximum()).reduce(f64::max)
}

/// Runs this very CLI with `args`: its exit code and everything it printed.
pub(super) async fn run_cli(args: &[&str]) -> anyhow::Result<(Option<i32>, String)> {
    let exe = std::env::current_exe().context("cannot find the tandem binary")?;
    let argv: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || std::process::Command::new(exe).args(argv).output())
        .await
        .context("the CLI's task failed")?
        .with_context(|| format!("could not run tandem {}", args.join(" ")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.code(), text))
}

pub(super) async fn read_detection(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    region: &str,
) -> anyhow::Result<Detection> {
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
