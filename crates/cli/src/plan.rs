//! Which stacks to deploy, where, in what order, with which parameters: a
//! pure function of the configuration, the current region roles and the
//! function code keys.

use crate::config::Config;
use std::collections::{BTreeMap, BTreeSet};

/// The region stack's parameter that names the released image. Only
/// `tandem release` sets it; a deploy keeps whatever it is.
pub(crate) const IMAGE_TAG: &str = "ImageTag";

/// The region stack's parameter that says whether its ECS service exists:
/// `false` only in the change set that creates the stack, so that the
/// service starts with zero tasks and no update ever sends a task count
/// (which would reset what auto scaling set).
pub(crate) const SERVICE_EXISTS: &str = "ServiceExists";

/// The three templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Template {
    /// `cfn/bootstrap.yaml`: the control plane, in each region.
    Bootstrap,
    /// `cfn/region.yaml`: the service, in each region.
    Region,
    /// `cfn/global.yaml`: DNS failover and peering, in the configured primary
    /// region, where it stays through every failover.
    Global,
}

impl Template {
    /// The template's file under the repository root.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Bootstrap => "cfn/bootstrap.yaml",
            Self::Region => "cfn/region.yaml",
            Self::Global => "cfn/global.yaml",
        }
    }

    /// The last part of the stack name.
    pub(crate) fn part(self) -> &'static str {
        match self {
            Self::Bootstrap => "bootstrap",
            Self::Region => "region",
            Self::Global => "global",
        }
    }

    /// The parameters a deploy never sets: an update keeps the stack's
    /// current value, a create leaves the template's default.
    pub(crate) fn kept_on_update(self) -> &'static [&'static str] {
        match self {
            Self::Region => &[IMAGE_TAG],
            Self::Bootstrap | Self::Global => &[],
        }
    }
}

/// One parameter's value in a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamValue {
    /// This value.
    Set(String),
    /// Whatever the stack has now (`UsePreviousValue`).
    Previous,
}

/// The parameters of a deploy's change set for `spec`. `existing` holds the
/// parameter names the stack has now, `None` when it is being created. A
/// kept parameter is sent as [`ParamValue::Previous`] when the stack has
/// it, and left out otherwise (the template's default applies); every
/// other parameter gets the plan's value. The region stack also gets
/// [`SERVICE_EXISTS`]: `false` when it is being created, `true` otherwise.
pub(crate) fn change_set_parameters(
    spec: &StackSpec,
    existing: Option<&BTreeSet<String>>,
) -> Vec<(String, ParamValue)> {
    let kept = spec.template.kept_on_update();
    let values = spec
        .parameters
        .iter()
        .filter(|(k, _)| !kept.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), ParamValue::Set(v.clone())));
    let previous = kept
        .iter()
        .filter(|k| existing.is_some_and(|names| names.contains(**k)))
        .map(|k| ((*k).to_owned(), ParamValue::Previous));
    let service = (spec.template == Template::Region).then(|| {
        (
            SERVICE_EXISTS.to_owned(),
            ParamValue::Set(existing.is_some().to_string()),
        )
    });
    values.chain(previous).chain(service).collect()
}

/// The parameters of a release's change set: every parameter the stack has
/// now keeps its value, except [`IMAGE_TAG`], which becomes `tag`.
pub(crate) fn release_parameters(existing: &BTreeSet<String>, tag: &str) -> Vec<(String, ParamValue)> {
    existing
        .iter()
        .filter(|k| k.as_str() != IMAGE_TAG)
        .map(|k| (k.clone(), ParamValue::Previous))
        .chain([(IMAGE_TAG.to_owned(), ParamValue::Set(tag.to_owned()))])
        .collect()
}

/// Which region is which, now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Roles {
    /// Takes traffic and holds the writer database.
    pub(crate) primary: String,
    /// Holds the replica and takes over on failover.
    pub(crate) standby: String,
}

/// One stack to deploy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StackSpec {
    /// Which template.
    pub(crate) template: Template,
    /// `tandem-<env>-<part>`.
    pub(crate) name: String,
    /// Where it lives.
    pub(crate) region: String,
    /// Its parameters.
    pub(crate) parameters: BTreeMap<String, String>,
}

/// Each region's public `/health` as its own and the other region's
/// failover function probe it: the configured override; on AWS (HTTPS) its
/// regional name `<region>.<domain>`, which the certificate covers (an ALB's
/// own DNS name does not match the certificate, so a probe of it fails
/// TLS); on the local AWS, plain HTTP to its ALB. A local region whose stack
/// does not exist yet has none (the next deploy fills it in).
pub(crate) fn health_url(config: &Config, region: &str, alb_dns_name: Option<&str>) -> String {
    let settings = &config.regions[region];
    if !settings.health_url.is_empty() {
        return settings.health_url.clone();
    }
    if !settings.certificate_arn.is_empty() {
        return format!("https://{}{}", regional_name(config, region), config.app.health_path);
    }
    alb_dns_name.map_or_else(String::new, |dns| format!("http://{dns}{}", config.app.health_path))
}

/// A region's own name under the service's domain, `<region>.<domain>`: an
/// alias to its ALB (the global stack's regional records), for probes and
/// health checks that must reach one region whatever the roles.
pub(crate) fn regional_name(config: &Config, region: &str) -> String {
    format!("{region}.{}", config.domain_name)
}

/// What a region's database was created as (the region stack's `DbOrigin`):
/// the configured primary builds the writer, the standby a replica. It comes
/// from the configuration, never from the roles, so a deploy after a
/// failover keeps every database and secret where it is.
pub(crate) fn db_origin(config: &Config, region: &str) -> &'static str {
    if region == config.primary_region {
        "writer"
    } else {
        "replica"
    }
}

/// The code-key parameter of each function `template` deploys, with its
/// zip's key from `code_keys` (empty before the function's first upload).
fn code_key_parameters<'a>(
    template: Template,
    code_keys: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = (String, String)> + 'a {
    crate::functions::in_template(template).map(|f| {
        let key = code_keys.get(f.name).cloned().unwrap_or_default();
        (f.code_key.to_owned(), key)
    })
}

/// Every stack, in dependency order: bootstrap (both regions), region
/// (primary, then standby), global (in the configured primary region, which
/// a failover does not move). `code_keys` maps a function to its zip's key
/// (empty before the first upload).
/// `health_urls` maps a region to its public `/health` (see [`health_url`]).
pub(crate) fn deploy_order(
    config: &Config,
    roles: &Roles,
    code_keys: &BTreeMap<String, String>,
    health_urls: &BTreeMap<String, String>,
) -> Vec<StackSpec> {
    let env = config.env.clone();
    let bootstrap = |region: &str| StackSpec {
        template: Template::Bootstrap,
        name: config.stack_name("bootstrap"),
        region: region.to_owned(),
        parameters: BTreeMap::from([
            ("Env".into(), env.clone()),
            ("OpsEmail".into(), config.ops_email.clone()),
        ])
        .into_iter()
        .chain(code_key_parameters(Template::Bootstrap, code_keys))
        .collect(),
    };
    let region_stack = |region: &str, role: &str, peer: &str| {
        let settings = &config.regions[region];
        let mut parameters = config.region_parameters.clone();
        parameters.extend([
            ("Env".into(), env.clone()),
            ("Role".into(), role.to_owned()),
            ("DbOrigin".into(), db_origin(config, region).to_owned()),
            ("PeerRegion".into(), peer.to_owned()),
            ("VpcCidr".into(), settings.vpc_cidr.clone()),
            ("CertificateArn".into(), settings.certificate_arn.clone()),
            ("HealthUrl".into(), health_url(config, region, None)),
            // The region's notify function forwards its ops topic to the
            // webhook, whose URL the stack keeps in a secret (NoEcho).
            ("OpsWebhookUrl".into(), config.ops_webhook_url.clone()),
            (
                "PeerHealthUrl".into(),
                health_urls.get(peer).cloned().unwrap_or_default(),
            ),
        ]);
        // The engine, its traffic settings and the app contract (config/<env>.toml).
        parameters.extend(config.release().parameters());
        parameters.extend(code_key_parameters(Template::Region, code_keys));
        StackSpec {
            template: Template::Region,
            name: config.stack_name("region"),
            region: region.to_owned(),
            parameters,
        }
    };
    let global = StackSpec {
        template: Template::Global,
        name: config.stack_name("global"),
        region: config.primary_region.clone(),
        parameters: BTreeMap::from([
            ("Env".into(), env.clone()),
            ("PrimaryRegion".into(), roles.primary.clone()),
            ("StandbyRegion".into(), roles.standby.clone()),
            ("PeerRegion".into(), config.standby_region.clone()),
            ("DomainName".into(), config.domain_name.clone()),
            ("HostedZoneId".into(), config.hosted_zone_id.clone()),
        ]),
    };
    vec![
        bootstrap(&roles.primary),
        bootstrap(&roles.standby),
        region_stack(&roles.primary, "primary", &roles.standby),
        region_stack(&roles.standby, "standby", &roles.primary),
        global,
    ]
}

/// The same stacks in the order to delete them: the reverse.
pub(crate) fn destroy_order(config: &Config, roles: &Roles) -> Vec<StackSpec> {
    let mut stacks = deploy_order(config, roles, &BTreeMap::new(), &BTreeMap::new());
    stacks.reverse();
    stacks
}

#[cfg(test)]
mod tests;
