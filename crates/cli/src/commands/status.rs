//! `tandem status`: the region roles, each stack's status, and its outputs.

use super::stacks_for;
use crate::context::Context;
use crate::plan::deploy_order;
use std::collections::BTreeMap;

/// Prints the status; returns whether every stack exists and is settled.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    println!("roles: primary {}, standby {}", ctx.roles.primary, ctx.roles.standby);
    let mut healthy = true;
    for spec in deploy_order(&ctx.config, &ctx.roles, &BTreeMap::new()) {
        match stacks_for(ctx, &spec).describe(&spec.name).await? {
            None => {
                healthy = false;
                println!("{} ({}): not deployed", spec.name, spec.region);
            }
            Some(view) => {
                healthy &= crate::events::phase(&view.status) == crate::events::Phase::Succeeded;
                println!("{} ({}): {}", spec.name, spec.region, view.status);
                for (key, value) in view.outputs {
                    println!("    {key:<26} {value}");
                }
            }
        }
    }
    Ok(healthy)
}
