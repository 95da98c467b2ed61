//! `tandem failback`: the planned return to the configured primary, step by
//! step, each printed and confirmed (see [`crate::commands::failback::decide`]).

/// The pure part: what to do and what to say, with no AWS call.
pub(crate) mod decide;

use crate::context::Context;
use crate::plan::Roles;
use crate::ui::Waiting;
use anyhow::{Context as _, bail};
use aws_sdk_rds::types::Tag;
use decide::{Instance, Observed, STEPS, Step, describe_step, failback_epoch, resume_at};
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;
use tandem_core::aws::error_text;
use tandem_core::clock::unix_now;
use tandem_core::db;
use tandem_core::fence;
use tandem_core::state::RolesRecord;

pub(crate) mod fences;
use fences::{fence_away, lift_away, standings};

/// The most replica lag, in seconds, at which the switch may start.
pub(crate) const CAUGHT_UP_SECS: f64 = 5.0;
/// The tag that marks the instances a failback made.
pub(crate) const FAILBACK_TAG: &str = "tandem:failback";

/// `tandem failback`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// Do not ask before each step.
    #[arg(long)]
    pub(crate) yes: bool,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(ctx, self.yes).await
    }
}

/// Runs the failback from wherever it stands; returns whether it finished.
pub(crate) async fn run(mut ctx: Context, yes: bool) -> anyhow::Result<bool> {
    let env = ctx.config.env.clone();
    let (home, away) = (ctx.config.primary_region.clone(), ctx.config.standby_region.clone());
    let names = Names::new(&env);
    let observed = Observed {
        roles_back: ctx.roles.primary == home,
        home_db: instance(&ctx.aws.region(&home).rds, &names.writer).await?,
        home_next: instance(&ctx.aws.region(&home).rds, &names.next).await?,
        standby_db: instance(&ctx.aws.region(&away).rds, &names.replica).await?,
    };
    let Some(start) = resume_at(&observed).map_err(anyhow::Error::msg)? else {
        println!("failback: {home} is the primary and {away} has its replica: nothing to do");
        return Ok(true);
    };
    if start == 0 {
        println!(
            "failback: from {away} back to {home}, in {} steps; each is confirmed first",
            STEPS.len()
        );
    } else {
        println!("failback: carrying on at step {} of {}", start + 1, STEPS.len());
    }
    for (i, step) in STEPS.iter().enumerate().skip(start) {
        println!(
            "\n[{}/{}] {}",
            i + 1,
            STEPS.len(),
            describe_step(*step, &env, &home, &away)
        );
        if !yes && !confirmed()? {
            println!("stopped before this step; run `tandem failback --env {env}` again to carry on");
            return Ok(false);
        }
        do_step(&mut ctx, *step, &names, &home, &away).await?;
        println!("  done");
    }
    println!(
        "\nfailback: done; the retired instances (tandem-{env}-db-retired-*, tandem-{env}-db-replica-retired-*) \
         are still running: snapshot and delete them when you no longer need them"
    );
    Ok(true)
}

/// The instance names.
struct Names {
    writer: String,
    next: String,
    replica: String,
    endpoint_secret: String,
    env: String,
}

impl Names {
    fn new(env: &str) -> Self {
        Self {
            writer: format!("tandem-{env}-db"),
            next: format!("tandem-{env}-db-next"),
            replica: format!("tandem-{env}-db-replica"),
            endpoint_secret: format!("tandem-{env}/db-endpoint"),
            env: env.to_owned(),
        }
    }
}

async fn do_step(ctx: &mut Context, step: Step, n: &Names, home: &str, away: &str) -> anyhow::Result<()> {
    let (h, a) = (ctx.aws.region(home), ctx.aws.region(away));
    match step {
        Step::CreateReplica => create_replica(ctx, home, &n.next, away, &n.replica, n).await,
        Step::CatchUp => catch_up(&h.rds, &h.cloudwatch, &n.next).await,
        Step::RetireStaleWriter => {
            fence_away(ctx, home, away).await?;
            retire(&h.rds, &n.writer).await
        }
        Step::TakeName => rename(&h.rds, &n.next, &n.writer).await,
        Step::Promote => {
            db::promote(&h.rds, &n.writer).await.map_err(anyhow::Error::msg)?;
            wait_writer(&h.rds, &n.writer).await.map(|_| ())
        }
        Step::RepointHomeSecret => {
            let (host, port) = wait_writer(&h.rds, &n.writer).await?;
            db::point_endpoint(&h.secrets, &n.endpoint_secret, &host, port)
                .await
                .map_err(anyhow::Error::msg)
        }
        Step::RecordRoles => {
            let standings = standings(ctx, &[home, away]).await?;
            let epoch = failback_epoch(home, &standings);
            let roles = RolesRecord {
                primary: home.to_owned(),
                standby: away.to_owned(),
                updated_at: unix_now(),
                epoch,
                reason: Some("failback: a planned return to the configured primary".into()),
            };
            for region in [home, away] {
                let table = ctx.state(region);
                let read = table.roles().await?.map(|r| r.updated_at);
                let roles = RolesRecord {
                    updated_at: roles.updated_at.max(read.unwrap_or(0) + 1),
                    ..roles.clone()
                };
                table.put_roles(&roles, read).await?;
            }
            // The write fence on home is lifted by the epoch; the traffic
            // fence's alarm in away holds its state until it reads a 0.
            fence::publish(&a.cloudwatch, &ctx.config.env, home, false)
                .await
                .map_err(anyhow::Error::msg)?;
            println!("  {home} is the primary at epoch {epoch}; its fences are lifted");
            ctx.roles = Roles {
                primary: home.to_owned(),
                standby: away.to_owned(),
            };
            Ok(())
        }
        Step::SwitchDns => super::deploy::run(ctx).await.map(|_| ()),
        Step::RetireOldWriter => retire(&a.rds, &n.replica).await,
        Step::CreateStandbyReplica => create_replica(ctx, away, &n.replica, home, &n.writer, n).await,
        Step::RepointStandbySecret => {
            // The standby's app reads its own region's replica (its writes
            // are fenced, then refused as the standby's).
            let (host, port) = wait_available(&a.rds, &n.replica).await?;
            db::point_endpoint(&a.secrets, &n.endpoint_secret, &host, port)
                .await
                .map_err(anyhow::Error::msg)?;
            lift_away(ctx, home, away).await
        }
    }
}

fn confirmed() -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("failback confirms each step: run it in a terminal, or pass --yes");
    }
    print!("  go on? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// `id` in the region of `rds`, as the plan sees it.
async fn instance(rds: &aws_sdk_rds::Client, id: &str) -> anyhow::Result<Instance> {
    let Some(i) = db::describe(rds, id)
        .await
        .map_err(|why| anyhow::anyhow!("could not read {why}: check the credentials, then retry"))?
    else {
        return Ok(Instance::Missing);
    };
    let (status, ours) = (
        db::status(&i),
        i.tag_list().iter().any(|t| t.key() == Some(FAILBACK_TAG)),
    );
    Ok(match db::is_replica(&i) {
        true => Instance::Replica { status, ours },
        false => Instance::Writer { status, ours },
    })
}

/// A replica `id` in `region` of `source` in `source_region`, in the region
/// stack's subnet group and database security group, encrypted with the
/// region's key, tagged as the failback's.
async fn create_replica(
    ctx: &Context,
    region: &str,
    id: &str,
    source_region: &str,
    source: &str,
    n: &Names,
) -> anyhow::Result<()> {
    let from = ctx.aws.region(source_region);
    let source_arn = db::describe(&from.rds, source)
        .await
        .map_err(|why| anyhow::anyhow!("could not read the writer {source} in {source_region} ({why})"))?
        .and_then(|i| i.db_instance_arn().map(str::to_owned))
        .with_context(|| format!("{source} in {source_region} has no ARN"))?;
    let here = ctx.aws.region(region);
    let group = (here.cfn.describe_stack_resource())
        .stack_name(ctx.config.stack_name("region"))
        .logical_resource_id("DbSecurityGroup")
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "could not read DbSecurityGroup of the region stack in {region} ({})",
                error_text(&e)
            )
        })?
        .stack_resource_detail()
        .and_then(|d| d.physical_resource_id().map(str::to_owned))
        .with_context(|| format!("the region stack in {region} has no DbSecurityGroup: deploy it first"))?;
    let key = format!("alias/tandem-{}", n.env);
    // The local AWS takes no pre-signed URL (and refuses a cross-region source anyway).
    let presigned = match ctx.config.is_local() {
        true => None,
        false => Some(crate::presign::replica_url(ctx.aws.base(), source_region, region, &source_arn, &key).await?),
    };
    let made = (here.rds.create_db_instance_read_replica())
        .db_instance_identifier(id)
        .source_db_instance_identifier(&source_arn)
        .set_pre_signed_url(presigned)
        .db_subnet_group_name(format!("tandem-{}-db", n.env))
        .vpc_security_group_ids(group)
        .kms_key_id(&key)
        .multi_az(true)
        .publicly_accessible(false)
        .tags(Tag::builder().key(FAILBACK_TAG).value(unix_now().to_string()).build())
        .tags(Tag::builder().key("tandem:env").value(&n.env).build())
        .send()
        .await;
    match made {
        Ok(_) => Ok(()),
        Err(e) if tandem_core::aws::error_code(&e) == Some("DBInstanceAlreadyExists") => Ok(()),
        Err(e) => bail!(
            "could not create {id} in {region} from {source_arn} ({}): nothing was changed; fix that, then run failback again",
            error_text(&e)
        ),
    }
}

async fn catch_up(rds: &aws_sdk_rds::Client, cw: &aws_sdk_cloudwatch::Client, id: &str) -> anyhow::Result<()> {
    loop {
        let status = instance(rds, id).await?;
        let now = unix_now();
        let lag = match db::Lag::judge(db::replica_lag(cw, id, now).await.unwrap_or(None), now) {
            db::Lag::Known { secs, .. } => Some(secs),
            db::Lag::Unknown(_) => None,
        };
        match (&status, lag) {
            (Instance::Replica { status, .. }, Some(lag)) if status == "available" && lag <= CAUGHT_UP_SECS => {
                println!("  {id} is available, {lag:.0}s behind");
                return Ok(());
            }
            (Instance::Missing, _) => bail!("{id} is gone: run failback again to make it"),
            _ => println!(
                "  {id}: {}, lag {}; waiting",
                match &status {
                    Instance::Replica { status, .. } | Instance::Writer { status, .. } => status.as_str(),
                    Instance::Missing => "missing",
                },
                lag.map_or("unknown".into(), |l| format!("{l:.0}s"))
            ),
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

/// Renames `id` to `id-retired-<time>` and waits until the name is free.
async fn retire(rds: &aws_sdk_rds::Client, id: &str) -> anyhow::Result<()> {
    if instance(rds, id).await? == Instance::Missing {
        return Ok(());
    }
    rename(rds, id, &format!("{id}-retired-{}", unix_now())).await
}

async fn rename(rds: &aws_sdk_rds::Client, from: &str, to: &str) -> anyhow::Result<()> {
    (rds.modify_db_instance())
        .db_instance_identifier(from)
        .new_db_instance_identifier(to)
        .apply_immediately(true)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("could not rename {from} to {to} ({}): retry failback", error_text(&e)))?;
    let mut waiting = Waiting::new(format!("RDS to rename {from} to {to}"));
    while instance(rds, to).await? == Instance::Missing {
        waiting.tick();
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    Ok(())
}

async fn wait_writer(rds: &aws_sdk_rds::Client, id: &str) -> anyhow::Result<(String, i32)> {
    let mut waiting = Waiting::new(format!("{id} to be promoted to an available writer"));
    loop {
        if let Some(endpoint) = db::writer_endpoint(rds, id).await.map_err(anyhow::Error::msg)? {
            return Ok(endpoint);
        }
        waiting.tick();
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

async fn wait_available(rds: &aws_sdk_rds::Client, id: &str) -> anyhow::Result<(String, i32)> {
    let mut waiting = Waiting::new(format!("{id} to be available"));
    loop {
        if let Some(endpoint) = db::instance_endpoint(rds, id).await.map_err(anyhow::Error::msg)? {
            return Ok(endpoint);
        }
        waiting.tick();
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

#[cfg(test)]
mod tests;
