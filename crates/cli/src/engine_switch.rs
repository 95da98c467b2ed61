//! A change of release engine on a region stack that exists: what it would
//! do, said before anything changes.
//!
//! CloudFormation's resource schema for `AWS::ECS::Service` (the registry's,
//! as cfn-lint ships it) does not list `DeploymentController` among the
//! create-only properties: the stack update would change the controller in
//! place (`UpdateService`), which ECS allows only with no deployment in
//! flight and one primary task set. (The older template reference says
//! "Update requires: Replacement"; the schema is what the handler does.)
//! In the same update production would move to the blue target group (the
//! new production rule starts there; going back, the listener's default
//! is blue), while a release can leave production on green, with no task
//! behind blue: an outage. And the switch
//! is not proven on an AWS account. So `tandem deploy` refuses it with
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
        "The configuration of {env} sets release_engine = \"{to}\", but {stacks}. Nothing was changed. \
         The stack update would switch tandem-{env}-app's deployment controller in place, which ECS refuses \
         while a deployment is in flight or the service has more than one task set, and its listener changes \
         would send production to the blue target group, where no task serves if the last release left \
         production on green. To keep deploying, set release_engine = \"{from}\" again; to \
         switch, follow docs/operating.md, \"Switching the release engine\".",
        to = first.to,
        from = first.from,
        stacks = stacks.join(", and "),
    ))
}

#[cfg(test)]
mod tests;
