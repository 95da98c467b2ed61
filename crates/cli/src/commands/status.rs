//! `tandem status`: the region roles, each stack's status, its outputs, and
//! each region's last release.

use super::stacks_for;
use crate::context::Context;
use crate::plan::{Template, deploy_order};
use crate::release::status_lines;
use std::collections::BTreeMap;

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
                healthy &= crate::events::phase(&view.status) == crate::events::Phase::Succeeded;
                println!("{} ({}): {}", spec.name, spec.region, view.status);
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
    Ok(healthy)
}
