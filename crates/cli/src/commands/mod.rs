//! One module per `tandem` command: each owns its arguments ([`CommandArgs`]),
//! checks them before anything runs, and runs.

pub(crate) mod audit;
pub(crate) mod completions;
pub(crate) mod deploy;
pub(crate) mod destroy;
pub(crate) mod diff;
pub(crate) mod drill;
pub(crate) mod failback;
pub(crate) mod failover;
pub(crate) mod logs;
pub(crate) mod release;
pub(crate) mod roles;
pub(crate) mod status;

use crate::context::Context;
use crate::plan::StackSpec;
use crate::stacks::Body;
use crate::stacks::Stacks;
use crate::templates::{self, Sent};
use std::collections::BTreeMap;
use std::path::Path;

/// Arguments that make no sense, whatever the environment: one sentence
/// that says what to pass instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Invalid(pub(crate) String);

/// A command's arguments, as clap parses them: checked, then run.
pub(crate) trait CommandArgs: Sized {
    /// Checks the arguments before anything is read or changed.
    fn validate(&self) -> Result<(), Invalid> {
        Ok(())
    }

    /// Runs the command in the checkout at `root`; `Ok(false)` means the
    /// command ran and the answer is "no" (exit code 3).
    async fn start(self, root: &Path) -> anyhow::Result<bool>;
}

/// The stack helper for `region`: every command's changes go through the
/// CloudFormation service role when one is set.
pub(crate) fn stacks_in<'a>(ctx: &'a Context, region: &'a str) -> Stacks<'a> {
    Stacks::new(&ctx.aws.region(region).cfn, region, ctx.poll).acting_as(ctx.cloudformation_role.as_deref())
}

/// The stack helper for `spec`'s region.
pub(crate) fn stacks_for<'a>(ctx: &'a Context, spec: &'a StackSpec) -> Stacks<'a> {
    stacks_in(ctx, &spec.region)
}

/// `region`'s public `/health` (see [`crate::plan::health_url`]), from the
/// configuration or its region stack's `AlbDnsName` output.
pub(crate) async fn health_url(ctx: &Context, region: &str) -> anyhow::Result<String> {
    let stacks = stacks_in(ctx, region);
    let alb = (stacks.describe(&ctx.config.stack_name("region")).await?)
        .and_then(|view| view.outputs.get("AlbDnsName").cloned());
    Ok(crate::plan::health_url(&ctx.config, region, alb.as_deref()))
}

/// Every configured region's public `/health` ([`health_url`]).
pub(crate) async fn health_urls(ctx: &Context) -> anyhow::Result<BTreeMap<String, String>> {
    let mut urls = BTreeMap::new();
    for region in ctx.config.regions.keys() {
        urls.insert(region.clone(), health_url(ctx, region).await?);
    }
    Ok(urls)
}

/// The template for `spec` as it is sent: inline when it fits, otherwise
/// stored in the region's artifact bucket (the bootstrap stack's output).
pub(crate) async fn template_for(ctx: &Context, spec: &StackSpec) -> anyhow::Result<Sent> {
    let body = templates::text(&ctx.root, spec.template)?;
    if body.len() <= tandem_core::template::MAX_TEMPLATE_BODY {
        return Ok(Sent::Inline(body));
    }
    let bootstrap = ctx.config.stack_name("bootstrap");
    let bucket = stacks_for(ctx, spec)
        .describe(&bootstrap)
        .await?
        .and_then(|view| view.outputs.get("ArtifactBucketName").cloned());
    let s3 = &ctx.aws.region(&spec.region).s3;
    templates::store(s3, ctx.config.endpoint_url.as_deref(), bucket.as_deref(), spec, body).await
}

impl Sent {
    /// The change set's template.
    pub(crate) fn body(&self) -> Body<'_> {
        match self {
            Self::Inline(text) => Body::Text(text),
            Self::Url(url) => Body::Url(url),
        }
    }
}
