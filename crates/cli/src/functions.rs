//! The functions tandem deploys: one table that the build, the deploy's
//! code keys, `tandem logs` and `tandem audit --kind` all read. Its tests
//! hold it to `functions/*`, the templates, the samples and the steps of
//! docs/contributing.md's "Adding a function".

use crate::plan::Template;
use tandem_core::state::AuditKind;

/// One function under `functions/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Function {
    /// Its directory under `functions/`, its crate, and the last part of
    /// its Lambda name `tandem-<env>-<name>`.
    pub(crate) name: &'static str,
    /// The stack that deploys it.
    pub(crate) template: Template,
    /// The template parameter that takes its zip's S3 key.
    pub(crate) code_key: &'static str,
    /// The kind of decision it writes to the audit trail; `None` if it writes none.
    pub(crate) audit: Option<AuditKind>,
}

impl Function {
    /// Its log group in environment `env`: `/aws/lambda/tandem-<env>-<name>`,
    /// the `LogGroupName` its template gives it.
    pub(crate) fn log_group(&self, env: &str) -> String {
        format!("/aws/lambda/tandem-{env}-{}", self.name)
    }
}

/// Every function, in the order `tandem logs` and the build list them.
pub(crate) const FUNCTIONS: &[Function] = &[
    Function {
        name: "topology",
        template: Template::Bootstrap,
        code_key: "TopologyCodeKey",
        audit: Some(AuditKind::Release),
    },
    Function {
        name: "deploy-hook",
        template: Template::Region,
        code_key: "DeployHookCodeKey",
        audit: Some(AuditKind::Hook),
    },
    Function {
        name: "rollback",
        template: Template::Region,
        code_key: "RollbackCodeKey",
        audit: Some(AuditKind::Rollback),
    },
    Function {
        name: "failover",
        template: Template::Region,
        code_key: "FailoverCodeKey",
        audit: Some(AuditKind::Failover),
    },
    Function {
        name: "notify",
        template: Template::Region,
        code_key: "NotifyCodeKey",
        audit: Some(AuditKind::Notify),
    },
    // Its schedule exists only in the writer's region on AWS while it is the
    // primary (the template's RotateDbSecret); the key is passed everywhere,
    // and elsewhere its log group is absent.
    Function {
        name: "db-rotation",
        template: Template::Region,
        code_key: "DbRotationCodeKey",
        audit: None,
    },
];

/// The function called `name`, if there is one.
pub(crate) fn named(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Every function's name, in table order (the choices of `tandem logs --function`).
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.name)
}

/// The functions `template` deploys.
pub(crate) fn in_template(template: Template) -> impl Iterator<Item = &'static Function> {
    FUNCTIONS.iter().filter(move |f| f.template == template)
}

/// Every kind of decision the audit trail holds, each once, in table order
/// (the choices of `tandem audit --kind`).
pub(crate) fn audit_kinds() -> Vec<AuditKind> {
    let mut kinds: Vec<AuditKind> = Vec::new();
    for kind in FUNCTIONS.iter().filter_map(|f| f.audit) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

#[cfg(test)]
mod tests;
