//! The failback's fences: it fences the region it leaves before the cut
//! over, and lifts that fence once the region's secret names the new
//! writer (see [`crate::commands::failback::decide::failback_epoch`]).

use crate::commands::failback::decide::{failback_epoch, lifting_epoch};
use crate::context::Context;
use tandem_core::clock::unix_now;
use tandem_core::fence;
use tandem_core::state::{FenceRecord, RolesRecord, Standing};

/// Both regions' standings; a failback needs both regions, so either
/// unreadable stops it.
pub(super) async fn standings(ctx: &Context, regions: &[&str]) -> anyhow::Result<Vec<Standing>> {
    let mut all = Vec::new();
    for region in regions {
        all.push(ctx.state(region).standing().await?);
    }
    Ok(all)
}

/// Fences `away` at the failback's epoch, in both tables, before the cut
/// over: from here until its secret names the new writer, its app writes
/// nothing.
pub(super) async fn fence_away(ctx: &Context, home: &str, away: &str) -> anyhow::Result<()> {
    let epoch = failback_epoch(home, &standings(ctx, &[home, away]).await?);
    let fence = FenceRecord {
        region: away.to_owned(),
        epoch,
        by: home.to_owned(),
        reason: "failback: the service moves back to the configured primary".into(),
        at: unix_now(),
    };
    for region in [home, away] {
        ctx.state(region).put_fence(&fence).await?;
    }
    println!("  {away} is fenced at epoch {epoch}: its app takes no writes until the last step");
    Ok(())
}

/// Lifts the failback's fence on `away` with one more epoch in both tables,
/// and its traffic fence.
pub(super) async fn lift_away(ctx: &Context, home: &str, away: &str) -> anyhow::Result<()> {
    let Some(epoch) = lifting_epoch(away, &standings(ctx, &[home, away]).await?) else {
        return Ok(());
    };
    let reason = format!("failback: {away}'s secret names the writer in {home}; its fence is lifted");
    record_roles_in_both(ctx, home, away, epoch, &reason).await?;
    fence::publish(&ctx.aws.region(home).cloudwatch, &ctx.config.env, away, false)
        .await
        .map_err(anyhow::Error::msg)?;
    println!("  {away}'s fence is lifted (epoch {epoch})");
    Ok(())
}

/// Records `primary` (and `standby`) at `epoch` in both regions' tables,
/// each from the version it reads: how a failback (and the drill's restore)
/// lifts every fence of an earlier epoch.
pub(crate) async fn record_roles_in_both(
    ctx: &Context,
    primary: &str,
    standby: &str,
    epoch: u64,
    reason: &str,
) -> anyhow::Result<()> {
    for region in [primary, standby] {
        let table = ctx.state(region);
        let read = table.roles().await?;
        let roles = RolesRecord {
            primary: primary.to_owned(),
            standby: standby.to_owned(),
            updated_at: unix_now().max(read.as_ref().map_or(0, |r| r.updated_at) + 1),
            epoch,
            reason: Some(reason.to_owned()),
        };
        table.put_roles(&roles, read.map(|r| r.updated_at)).await?;
    }
    Ok(())
}
