//! `tandem deploy`: build, upload, then every stack through change sets in
//! dependency order, with live events and a summary of outputs.

use super::{stacks_for, template_for};
use crate::artifacts::{self, Artifact};
use crate::context::Context;
use crate::engine_switch;
use crate::leftovers::{self, Clients};
use crate::plan::{StackSpec, Template, deploy_order};
use crate::reach::reachable_plan;
use crate::retained;
use crate::stacks::{Start, start_for};
use std::collections::{BTreeMap, BTreeSet};

/// `tandem deploy`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local (the local AWS).
    #[arg(long)]
    pub(crate) env: String,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(&ctx).await.map(|_| true)
    }
}

/// Deploys everything; returns whether anything changed.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    let built = artifacts::build_all(&ctx.root, ctx.config.function_build, &ctx.config.env)?;
    let keys: BTreeMap<String, String> = built.iter().map(|a| (a.function.clone(), a.key.clone())).collect();
    // Each region stack's PeerHealthUrl is read just before it deploys (below).
    let plan = deploy_order(&ctx.config, &ctx.roles, &keys, &BTreeMap::new());
    // With a region down, only what can be read is touched (crate::reach).
    let (plan, skipped) = reachable_plan(plan, &ctx.unreachable);
    for line in &skipped {
        println!("skipped {line}");
    }
    if plan.is_empty() {
        anyhow::bail!("no stack can be deployed: no region answered");
    }
    let creating = preflight(ctx, &plan).await?;
    let mut changed = false;
    for (step, spec) in plan.iter().enumerate() {
        println!("\n[{}/{}] {} in {}", step + 1, plan.len(), spec.name, spec.region);
        if spec.template == Template::Bootstrap {
            changed |= bootstrap(ctx, spec, &built).await?;
        } else if spec.template == Template::Region {
            // Read now: the other region's stack may have been made by this very deploy.
            let mut spec = spec.clone();
            let peer = spec.parameters["PeerRegion"].clone();
            let url = if ctx.unreachable.contains_key(&peer) {
                // Its stack cannot be read: the name alone (on AWS it needs no stack).
                crate::plan::health_url(&ctx.config, &peer, None)
            } else {
                super::health_url(ctx, &peer).await?
            };
            spec.parameters.insert("PeerHealthUrl".into(), url);
            let created_now = creating.contains(&(spec.name.clone(), spec.region.clone()));
            changed |= region(ctx, &spec, created_now).await?;
        } else {
            changed |= deploy_one(ctx, spec).await?;
        }
    }
    summary(ctx, &plan).await?;
    if !changed {
        println!("no changes: every stack and function is up to date");
    }
    Ok(changed)
}

/// Before the first change to any stack: stops, with nothing changed, when
/// a region stack would change its release engine (crate::engine_switch),
/// or when a stack about to be created would make again a named resource
/// that an earlier stack kept (crate::retained), saying per resource what to do.
/// Returns the stacks this deploy creates, as (name, region).
async fn preflight(ctx: &Context, plan: &[StackSpec]) -> anyhow::Result<BTreeSet<(String, String)>> {
    let mut creating = Vec::new();
    let mut switches = Vec::new();
    for spec in plan {
        let view = stacks_for(ctx, spec).describe(&spec.name).await?;
        let status = view.as_ref().map(|v| v.status.clone());
        if matches!(start_for(status.as_deref()), Start::Create | Start::DeleteThenCreate) {
            creating.push(spec);
        } else if let (Some(view), Some(wanted)) = (&view, spec.parameters.get("ReleaseEngine")) {
            let deployed = engine_switch::deployed_engine(&view.parameters);
            if deployed != wanted {
                switches.push(engine_switch::Switch {
                    stack: spec.name.clone(),
                    region: spec.region.clone(),
                    from: deployed.to_owned(),
                    to: wanted.clone(),
                });
            }
        }
    }
    if let Some(message) = engine_switch::refusal(&ctx.config.env, &switches) {
        anyhow::bail!(message);
    }
    let mut found = Vec::new();
    for probe in retained::probes(&creating, &ctx.unreachable) {
        let region = ctx.aws.region(&probe.region);
        let clients = Clients {
            dynamodb: &region.dynamodb,
            sqs: &region.sqs,
            logs: &region.logs,
            secrets: &region.secrets,
        };
        let what = leftovers::look(&clients, &probe).await?;
        found.push((probe, what));
    }
    match retained::blocked(&ctx.config.env, &found) {
        Some(message) => anyhow::bail!(message),
        None => Ok(creating.iter().map(|s| (s.name.clone(), s.region.clone())).collect()),
    }
}

/// A region stack. One that this deploy creates is made with
/// `ServiceExists=false` (the service with zero tasks) and then, in the same
/// deploy, updated to `ServiceExists=true`, which leaves the service's task
/// count out of the template from then on (`crate::plan::SERVICE_EXISTS`):
/// the next deploy has nothing of the create left to change. `creating`:
/// the preflight found no stack to update ([`preflight`]).
async fn region(ctx: &Context, spec: &StackSpec, creating: bool) -> anyhow::Result<bool> {
    let changed = deploy_one(ctx, spec).await?;
    if creating {
        println!(
            "  {} ({}): created with zero tasks; the task count is auto scaling's from now on",
            spec.name, spec.region
        );
        deploy_one(ctx, spec).await?;
    }
    Ok(changed)
}

/// A bootstrap stack owns the bucket its functions' code comes from, so on
/// the very first deploy it is made without functions, then the code is
/// uploaded, then it is deployed with them.
async fn bootstrap(ctx: &Context, spec: &StackSpec, built: &[Artifact]) -> anyhow::Result<bool> {
    let stacks = stacks_for(ctx, spec);
    let mut changed = false;
    let bucket = match stacks
        .describe(&spec.name)
        .await?
        .and_then(|view| view.outputs.get("ArtifactBucketName").cloned())
    {
        Some(bucket) => bucket,
        None => {
            let mut first = spec.clone();
            first.parameters.insert("TopologyCodeKey".into(), String::new());
            println!(
                "{} ({}): first deploy, without functions, to make the artifact bucket",
                spec.name, spec.region
            );
            changed |= deploy_one(ctx, &first).await?;
            stacks
                .describe(&spec.name)
                .await?
                .and_then(|view| view.outputs.get("ArtifactBucketName").cloned())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} in {} has no ArtifactBucketName output after its first deploy: \
                         restore that output in cfn/bootstrap.yaml and deploy again",
                        spec.name,
                        spec.region
                    )
                })?
        }
    };
    for artifact in built {
        if artifacts::upload(&ctx.aws.region(&spec.region).s3, &bucket, artifact).await? {
            println!("  uploaded {} to s3://{bucket}", artifact.key);
            changed = true;
        }
    }
    Ok(deploy_one(ctx, spec).await? || changed)
}

async fn deploy_one(ctx: &Context, spec: &StackSpec) -> anyhow::Result<bool> {
    let stacks = stacks_for(ctx, spec);
    let sent = template_for(ctx, spec).await?;
    match stacks.prepare(spec, sent.body(), &ctx.config.env).await? {
        None => {
            println!("  {} ({}): no changes", spec.name, spec.region);
            Ok(false)
        }
        Some(change_set) => {
            stacks.execute(&spec.name, &change_set).await?;
            Ok(true)
        }
    }
}

async fn summary(ctx: &Context, plan: &[StackSpec]) -> anyhow::Result<()> {
    println!("\noutputs");
    for spec in plan {
        if let Some(view) = stacks_for(ctx, spec).describe(&spec.name).await? {
            println!("  {} ({}) {}", spec.name, spec.region, view.status);
            for (key, value) in view.outputs {
                println!("    {key:<26} {value}");
            }
        }
    }
    Ok(())
}
