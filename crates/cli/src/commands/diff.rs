//! `tandem diff`: what a deploy would change, from change sets that are
//! created, shown, and deleted without being executed.

use super::{stacks_for, template_for};
use crate::artifacts;
use crate::context::Context;
use crate::plan::deploy_order;
use std::collections::BTreeMap;

/// Prints each stack's pending changes; returns whether there are any.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    let built = artifacts::build_all(&ctx.root, ctx.config.function_build, &ctx.config.env)?;
    let keys: BTreeMap<String, String> = built.iter().map(|a| (a.function.clone(), a.key.clone())).collect();
    let mut any = false;
    for spec in deploy_order(&ctx.config, &ctx.roles, &keys, &super::health_urls(ctx).await?) {
        let stacks = stacks_for(ctx, &spec);
        let sent = template_for(ctx, &spec).await?;
        match stacks.prepare(&spec, sent.body(), &ctx.config.env).await {
            Ok(None) => println!("{} ({}): no changes", spec.name, spec.region),
            Ok(Some(change_set)) => {
                any = true;
                println!("{} ({}):", spec.name, spec.region);
                for line in stacks.changes(&spec.name, &change_set).await? {
                    println!("{line}");
                }
                stacks.discard(&spec.name, &change_set).await;
            }
            // A stack whose inputs come from an earlier stack cannot be
            // previewed before that one exists.
            Err(e) => {
                any = true;
                println!("{} ({}): cannot preview yet: {}", spec.name, spec.region, e.reason);
            }
        }
    }
    Ok(any)
}
