//! A change of release engine on a region stack that exists: what it would
//! do, said before anything changes.
//!
//! CloudFormation replaces an `AWS::ECS::Service` whose
//! `DeploymentController` changes ("Update requires: Replacement" in its
//! template reference), and it cannot replace a resource with a fixed name
//! (`tandem-<env>-app`): the update would fail and roll back, after the
//! stack's other changes had been tried. A replacement that worked would
//! delete the running service. So `tandem deploy` refuses the switch with
//! nothing changed, and says how to migrate (docs/operating.md, "Switching
//! the release engine").

/// The engine a stack was deployed with: its `ReleaseEngine` parameter, or
/// `codedeploy` for a stack from before the parameter existed.
pub(crate) fn deployed_engine(parameters: &std::collections::BTreeMap<String, String>) -> &str {
    parameters
        .get("ReleaseEngine")
        .map(String::as_str)
        .filter(|e| !e.is_empty())
        .unwrap_or("codedeploy")
}

/// One region stack whose engine would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Switch {
    /// The stack.
    pub(crate) stack: String,
    /// Its region.
    pub(crate) region: String,
    /// The engine it releases with now.
    pub(crate) from: String,
    /// The engine the configuration asks for.
    pub(crate) to: String,
}

/// The refusal for `switches` (none: the deploy goes on), one paragraph
/// naming each stack, what would happen, and what to do instead.
pub(crate) fn refusal(env: &str, switches: &[Switch]) -> Option<String> {
    let first = switches.first()?;
    let stacks: Vec<String> = switches
        .iter()
        .map(|s| format!("{} in {} releases with {}", s.stack, s.region, s.from))
        .collect();
    Some(format!(
        "config/{env}.toml sets release_engine = \"{to}\", but {stacks}. Nothing was changed. \
         A change of engine is not an update: CloudFormation replaces an ECS service whose deployment \
         controller changes, and it cannot replace tandem-{env}-app, a named service, so the deploy would \
         fail and roll back (and a replacement would delete the running service). To keep deploying, set \
         release_engine = \"{from}\" again; to switch, follow docs/operating.md, \"Switching the release engine\".",
        to = first.to,
        from = first.from,
        stacks = stacks.join(", and "),
    ))
}

#[cfg(test)]
mod tests;
