//! `tandem status`: the region roles, each stack's status, its outputs,
//! each region's last release, and the failover picture: each region's
//! probes of the other, the failover lock, and the last decisions.

use super::stacks_for;
use crate::context::Context;
use crate::plan::{Template, deploy_order};
use crate::release::status_lines;
use std::collections::BTreeMap;
use tandem_core::state::AuditKind;

/// Prints the status; returns whether every stack exists and is settled.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    println!("roles: primary {}, standby {}", ctx.roles.primary, ctx.roles.standby);
    let mut healthy = true;
    for spec in deploy_order(&ctx.config, &ctx.roles, &BTreeMap::new(), &BTreeMap::new()) {
        match stacks_for(ctx, &spec).describe(&spec.name).await? {
            None => {
                healthy = false;
                println!("{} ({}): not deployed", spec.name, spec.region);
            }
            Some(view) => {
                let settled = crate::events::phase(&view.status) == crate::events::Phase::Succeeded;
                healthy &= settled;
                println!("{} ({}): {}", spec.name, spec.region, view.status);
                // Why a stack is not settled, as CloudFormation says it (a CI job summary shows it).
                if let Some(reason) = view.reason.as_ref().filter(|_| !settled) {
                    println!("    reason                     {reason}");
                }
                for (key, value) in view.outputs {
                    println!("    {key:<26} {value}");
                }
                if spec.template == Template::Region {
                    match ctx.state(&spec.region).last_release(&spec.region).await {
                        Ok(record) => status_lines(record.as_ref()).iter().for_each(|l| println!("{l}")),
                        Err(e) => println!("    last release               cannot be read: {e}"),
                    }
                }
            }
        }
    }
    failover(ctx).await;
    Ok(healthy)
}

/// The failover lines; a region whose table cannot be read says so.
async fn failover(ctx: &Context) {
    println!("failover");
    let mut decisions = Vec::new();
    for region in ctx.config.regions.keys() {
        let table = ctx.state(region);
        let version = match table.roles().await {
            Ok(roles) => roles.map_or(0, |r| r.updated_at),
            Err(e) => {
                println!("  {region}: cannot be read: {e}");
                continue;
            }
        };
        match table.probe(region).await {
            Ok(Some(p)) => println!(
                "  {region} probes the other region: {} failed in a row (last at {}){}",
                p.failures,
                p.last_at,
                p.last_error.map(|e| format!(": {e}")).unwrap_or_default()
            ),
            Ok(None) => println!("  {region} probes the other region: none yet"),
            Err(e) => println!("  {region} probes: cannot be read: {e}"),
        }
        match table.failover_lock(version).await {
            Ok(Some(l)) => println!(
                "  {region} failover lock: step {}, held by {} until {}{}",
                l.step.as_str(),
                l.holder,
                l.lease_until,
                l.error.map(|e| format!(", error: {e}")).unwrap_or_default()
            ),
            Ok(None) => println!("  {region} failover lock: free"),
            Err(e) => println!("  {region} failover lock: cannot be read: {e}"),
        }
        if let Ok(mut entries) = table.recent_audits(AuditKind::Failover, 5).await {
            decisions.append(&mut entries);
        }
    }
    decisions.sort_by_key(|d| std::cmp::Reverse(d.at));
    println!(
        "  last failover decisions{}",
        if decisions.is_empty() { ": none" } else { "" }
    );
    for d in decisions.iter().take(5) {
        println!("    {} {} {}: {} ({})", d.at, d.region, d.decision, d.reason, d.outcome);
    }
}
