//! What a deleted stack leaves behind on purpose, in one table: the
//! resources whose `DeletionPolicy` keeps them (in prod, or everywhere).
//! Those with a fixed name block the next stack that makes them again:
//! CloudFormation would fail half-way through the create. So `tandem
//! deploy`, before it changes any stack, looks for each one the stacks it
//! is about to create would make ([`probes`], looked up by
//! `crate::leftovers`), and stops with nothing changed, saying per resource
//! what it holds and exactly what to do ([`blocked`]). `tandem destroy`
//! lists what it kept and points at the same guidance ([`kept_after_destroy`]).
//! The table is held to the templates by `retained/tests.rs`.

use crate::plan::{StackSpec, Template};
use std::collections::BTreeMap;

/// What kind of resource a kept one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `AWS::DynamoDB::Table`.
    Table,
    /// `AWS::SQS::Queue`.
    Queue,
    /// `AWS::Logs::LogGroup`.
    LogGroup,
    /// `AWS::SecretsManager::Secret`.
    Secret,
    /// `AWS::S3::Bucket`.
    Bucket,
    /// `AWS::KMS::Key`.
    Key,
    /// `AWS::ECR::ReplicationConfiguration`.
    Replication,
}

impl Kind {
    /// How a person calls it.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Table => "DynamoDB table",
            Self::Queue => "SQS queue",
            Self::LogGroup => "log group",
            Self::Secret => "secret",
            Self::Bucket => "S3 bucket",
            Self::Key => "KMS key",
            Self::Replication => "ECR replication rule",
        }
    }
}

/// In which environments a deleted stack keeps the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// `!If [IsProd, Retain, Delete]`.
    Prod,
    /// `!If [IsLocal, Delete, Retain]`.
    NotLocal,
    /// `Retain`.
    Always,
}

impl Kept {
    /// Whether a stack of environment `env` keeps it.
    pub(crate) fn in_env(self, env: &str) -> bool {
        match self {
            Self::Prod => env == "prod",
            Self::NotLocal => env != "local",
            Self::Always => true,
        }
    }
}

/// When a stack makes the resource: its template `Condition`, as a function
/// of the stack's parameters (a missing one is empty, as its default is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// No condition.
    Always,
    /// `CreateDbSecret`: the writer's region (`DbOrigin` writer), or the local AWS.
    Writer,
    /// `ReplicateSecret`: the writer's region, on AWS.
    WriterOnAws,
    /// `Notifies`: a webhook (`OpsWebhookUrl`) and the notify function's code.
    Notifies,
    /// `IsRealAws`: not the local AWS.
    OnAws,
    /// `ReplicateFromHere`: the primary region, on AWS.
    PrimaryOnAws,
}

impl When {
    /// Whether it holds for a stack with `parameters`.
    pub(crate) fn holds(self, parameters: &BTreeMap<String, String>) -> bool {
        let p = |k: &str| parameters.get(k).map_or("", String::as_str);
        let on_aws = p("Env") != "local";
        match self {
            Self::Always => true,
            Self::Writer => p("DbOrigin") == "writer" || !on_aws,
            Self::WriterOnAws => p("DbOrigin") == "writer" && on_aws,
            Self::Notifies => !p("OpsWebhookUrl").is_empty() && !p("NotifyCodeKey").is_empty(),
            Self::OnAws => on_aws,
            Self::PrimaryOnAws => p("Role") == "primary" && on_aws,
        }
    }
}

/// One resource a deleted stack keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retained {
    /// The template that declares it.
    pub(crate) template: Template,
    /// Its logical id there.
    pub(crate) logical_id: &'static str,
    /// What it is.
    pub(crate) kind: Kind,
    /// Its name, `{env}` standing for the environment; `None` when no new
    /// stack can collide with it (no name, or one unique to its stack).
    pub(crate) name: Option<&'static str>,
    /// Where it is kept.
    pub(crate) kept: Kept,
    /// When a stack makes it.
    pub(crate) when: When,
    /// When it is also replicated to the stack's `PeerRegion`, under the
    /// same name (a replica is kept with its primary).
    pub(crate) replica: Option<When>,
    /// What it holds, for a person deciding whether to keep it.
    pub(crate) holds: &'static str,
}

/// A log group of one of the functions, `/aws/lambda/tandem-<env>-<function>`.
const fn function_logs(template: Template, logical_id: &'static str, name: &'static str, when: When) -> Retained {
    Retained {
        template,
        logical_id,
        kind: Kind::LogGroup,
        name: Some(name),
        kept: Kept::Prod,
        when,
        replica: None,
        holds: "a function's logs",
    }
}

/// Every resource a deleted bootstrap or region stack keeps (global keeps none).
pub(crate) const RETAINED: &[Retained] = &[
    Retained {
        template: Template::Bootstrap,
        logical_id: "Key",
        kind: Kind::Key,
        name: None,
        kept: Kept::NotLocal,
        when: When::Always,
        replica: None,
        holds: "the key everything below and the databases' final snapshots are encrypted with; \
                a new deploy makes a new one, so schedule its deletion only once nothing it encrypts is wanted",
    },
    Retained {
        template: Template::Bootstrap,
        logical_id: "DeadLetterQueue",
        kind: Kind::Queue,
        name: Some("tandem-{env}-dlq"),
        kept: Kept::Prod,
        when: When::Always,
        replica: None,
        holds: "the events no function could handle",
    },
    Retained {
        template: Template::Bootstrap,
        logical_id: "StateTable",
        kind: Kind::Table,
        name: Some("tandem-{env}-state"),
        kept: Kept::Prod,
        when: When::Always,
        replica: None,
        holds: "the audit history, the region roles and fences, the releases",
    },
    function_logs(
        Template::Bootstrap,
        "TopologyLogGroup",
        "/aws/lambda/tandem-{env}-topology",
        When::Always,
    ),
    Retained {
        template: Template::Region,
        logical_id: "FlowLogGroup",
        kind: Kind::LogGroup,
        name: Some("/tandem/{env}/vpc-flow-logs"),
        kept: Kept::Prod,
        when: When::Always,
        replica: None,
        holds: "the VPC's flow logs",
    },
    Retained {
        template: Template::Region,
        logical_id: "AccessLogBucket",
        kind: Kind::Bucket,
        name: None,
        kept: Kept::Always,
        when: When::OnAws,
        replica: None,
        holds: "the load balancer's access logs; its name carries its stack's id, so a new stack makes its own",
    },
    Retained {
        template: Template::Region,
        logical_id: "Replication",
        kind: Kind::Replication,
        name: None,
        kept: Kept::Always,
        when: When::PrimaryOnAws,
        replica: None,
        holds: "the registry's replication of tandem-* repositories to the peer region; \
                every environment writes the same rule, so a new stack writes it again",
    },
    Retained {
        template: Template::Region,
        logical_id: "DbSecret",
        kind: Kind::Secret,
        name: Some("tandem-{env}/db"),
        kept: Kept::Prod,
        when: When::Writer,
        replica: Some(When::WriterOnAws),
        holds: "the database's master credentials, the only ones its final snapshot opens with",
    },
    Retained {
        template: Template::Region,
        logical_id: "AppLogGroup",
        kind: Kind::LogGroup,
        name: Some("/ecs/tandem-{env}"),
        kept: Kept::Prod,
        when: When::Always,
        replica: None,
        holds: "the app's logs",
    },
    function_logs(
        Template::Region,
        "DeployHookLogGroup",
        "/aws/lambda/tandem-{env}-deploy-hook",
        When::Always,
    ),
    function_logs(
        Template::Region,
        "RollbackLogGroup",
        "/aws/lambda/tandem-{env}-rollback",
        When::Always,
    ),
    function_logs(
        Template::Region,
        "NotifyLogGroup",
        "/aws/lambda/tandem-{env}-notify",
        When::Notifies,
    ),
    function_logs(
        Template::Region,
        "FailoverLogGroup",
        "/aws/lambda/tandem-{env}-failover",
        When::Always,
    ),
];

impl Retained {
    /// Its name in environment `env`, when it has a fixed one.
    pub(crate) fn name_in(&self, env: &str) -> Option<String> {
        self.name.map(|n| n.replace("{env}", env))
    }
}

/// One name to look for before a deploy: a kept resource that a stack
/// about to be created would make again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    /// What it is.
    pub(crate) entry: &'static Retained,
    /// Its name.
    pub(crate) name: String,
    /// The region to look in.
    pub(crate) region: String,
    /// The stack that would make it.
    pub(crate) stack: String,
}

/// The names to look for before deploying: for each stack in `creating`
/// (those about to be created), each fixed-name resource it would make, in
/// its region, and for a replicated one in its `PeerRegion` too unless that
/// region is `unreachable` (it is looked for on the next deploy). The
/// same name in the same region is looked for once.
pub(crate) fn probes(creating: &[&StackSpec], unreachable: &BTreeMap<String, String>) -> Vec<Probe> {
    let mut out: Vec<Probe> = Vec::new();
    for spec in creating {
        let env = spec.parameters.get("Env").map_or("", String::as_str);
        let entries = RETAINED
            .iter()
            .filter(|r| r.template == spec.template && r.when.holds(&spec.parameters));
        for entry in entries {
            let Some(name) = entry.name_in(env) else { continue };
            let mut regions = vec![spec.region.clone()];
            if let (Some(when), Some(peer)) = (entry.replica, spec.parameters.get("PeerRegion"))
                && when.holds(&spec.parameters)
                && !unreachable.contains_key(peer)
            {
                regions.push(peer.clone());
            }
            for region in regions {
                if !out.iter().any(|p| p.name == name && p.region == region) {
                    out.push(Probe {
                        entry,
                        name: name.clone(),
                        region,
                        stack: spec.name.clone(),
                    });
                }
            }
        }
    }
    out
}

/// What a look for one name found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing by that name: the stack can make it.
    Absent,
    /// A table, with DynamoDB's estimate of its items and whether deletion protection is on.
    Table {
        /// The estimate (refreshed about every six hours).
        items: Option<i64>,
        /// Deletion protection.
        protected: bool,
    },
    /// A queue, at this URL.
    Queue {
        /// Its URL (what the `aws sqs` commands take).
        url: String,
    },
    /// A log group.
    LogGroup,
    /// A secret.
    Secret {
        /// Scheduled for deletion: it keeps the name until then.
        pending_deletion: bool,
        /// Its primary's region, when this one is a replica.
        replica_of: Option<String>,
        /// The regions it is replicated to.
        replicas: Vec<String>,
    },
}

/// What a stack of `template` in `region`, with `parameters`, keeps when
/// it is deleted in `env`: each kept resource it has (`resources`: logical
/// id to physical id), as (region, entry, name), and a kept secret's
/// replica in the `PeerRegion` too.
pub(crate) fn kept_by(
    env: &str,
    template: Template,
    region: &str,
    parameters: &BTreeMap<String, String>,
    resources: &BTreeMap<String, String>,
) -> Vec<(String, &'static Retained, String)> {
    let mut out = Vec::new();
    for entry in RETAINED.iter().filter(|r| r.template == template && r.kept.in_env(env)) {
        let Some(physical) = resources.get(entry.logical_id) else {
            continue;
        };
        let name = entry.name_in(env).unwrap_or_else(|| physical.clone());
        if let (Some(when), Some(peer)) = (entry.replica, parameters.get("PeerRegion"))
            && when.holds(parameters)
        {
            out.push((peer.clone(), entry, name.clone()));
        }
        out.push((region.to_owned(), entry, name));
    }
    out
}

mod text;

pub(crate) use text::{blocked, kept_after_destroy};

#[cfg(test)]
mod tests;
