//! `tandem diff`: what a deploy would change, from change sets that are
//! created, shown, and deleted without being executed.

use super::{stacks_for, template_for};
use crate::artifacts;
use crate::context::Context;
use crate::plan::deploy_order;
use crate::say;
use crate::stacks::ChangeView;
use crate::ui;
use serde::Serialize;
use std::collections::BTreeMap;

/// The schema name of [`DiffReport`].
pub(crate) const DIFF_SCHEMA: &str = "tandem.diff/1";

/// `tandem diff --output json`.
#[derive(Debug, Serialize)]
pub(crate) struct DiffReport {
    /// [`DIFF_SCHEMA`].
    pub(crate) schema: &'static str,
    /// The environment.
    pub(crate) env: String,
    /// Whether any stack would change (or cannot be previewed yet).
    pub(crate) changes: bool,
    /// Every stack, in deploy order.
    pub(crate) stacks: Vec<StackDiff>,
}

/// What a deploy would do to one stack.
#[derive(Debug, Serialize)]
pub(crate) struct StackDiff {
    /// The stack.
    pub(crate) name: String,
    /// Its region.
    pub(crate) region: String,
    /// `no-changes`, `changes`, or `cannot-preview` (its inputs come from a
    /// stack that does not exist yet).
    pub(crate) state: &'static str,
    /// The resource changes.
    pub(crate) changes: Vec<ChangeView>,
    /// Why it cannot be previewed, when it cannot.
    pub(crate) reason: Option<String>,
}

/// `tandem diff`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// text for a person; json for scripts (tandem.diff/1, see docs/operating.md).
    #[arg(long, value_enum, default_value_t)]
    pub(crate) output: crate::ui::Output,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        crate::ui::set_output(self.output);
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(&ctx).await.map(|_| true)
    }
}

/// Prints each stack's pending changes; returns whether there are any.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    let built = artifacts::build_all(&ctx.root, ctx.config.function_build, &ctx.config.env)?;
    let keys: BTreeMap<String, String> = built.iter().map(|a| (a.function.clone(), a.key.clone())).collect();
    let mut stacks = Vec::new();
    for spec in deploy_order(&ctx.config, &ctx.roles, &keys, &super::health_urls(ctx).await?) {
        let helper = stacks_for(ctx, &spec);
        let sent = template_for(ctx, &spec).await?;
        let mut diff = StackDiff {
            name: spec.name.clone(),
            region: spec.region.clone(),
            state: "no-changes",
            changes: Vec::new(),
            reason: None,
        };
        match helper.prepare(&spec, sent.body(), &ctx.config.env).await {
            Ok(None) => say!("{} ({}): no changes", spec.name, spec.region),
            Ok(Some(change_set)) => {
                diff.state = "changes";
                say!("{} ({}):", spec.name, spec.region);
                let changes = helper.changes(&spec.name, &change_set).await;
                helper.discard(&spec.name, &change_set).await;
                diff.changes = changes?;
                diff.changes.iter().for_each(|c| say!("{}", c.line()));
            }
            // A stack whose inputs come from an earlier stack cannot be
            // previewed before that one exists.
            Err(e) => {
                diff.state = "cannot-preview";
                say!("{} ({}): cannot preview yet: {}", spec.name, spec.region, e.reason);
                diff.reason = Some(e.reason);
            }
        }
        stacks.push(diff);
    }
    let changes = stacks.iter().any(|s| s.state != "no-changes");
    if ui::json() {
        ui::emit_json(&DiffReport {
            schema: DIFF_SCHEMA,
            env: ctx.config.env.clone(),
            changes,
            stacks,
        })?;
    }
    Ok(changes)
}
