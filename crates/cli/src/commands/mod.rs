//! One module per `tandem` command.

pub(crate) mod deploy;
pub(crate) mod destroy;
pub(crate) mod diff;
pub(crate) mod release;
pub(crate) mod status;

use crate::context::Context;
use crate::plan::StackSpec;
use crate::stacks::Stacks;

/// The stack helper for `spec`'s region.
pub(crate) fn stacks_for<'a>(ctx: &'a Context, spec: &'a StackSpec) -> Stacks<'a> {
    Stacks::new(&ctx.aws.region(&spec.region).cfn, &spec.region, ctx.poll)
}

/// The template text for `spec`.
pub(crate) fn template_body(ctx: &Context, spec: &StackSpec) -> anyhow::Result<String> {
    let path = ctx.root.join(spec.template.path());
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    // Sent without its comment lines: CloudFormation takes 51,200 bytes inline.
    let body = tandem_core::template::strip_comments(&text);
    let max = tandem_core::template::MAX_TEMPLATE_BODY;
    if body.len() > max {
        anyhow::bail!(
            "{} is {} bytes without comments, more than the {max} CloudFormation takes inline: split it, then retry",
            path.display(),
            body.len()
        );
    }
    Ok(body)
}
