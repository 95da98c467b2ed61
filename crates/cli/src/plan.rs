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
mod tests {
    use super::*;

    fn config() -> Config {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/local.toml")).unwrap();
        Config::parse(&text, "local").unwrap()
    }

    fn roles(primary: &str, standby: &str) -> Roles {
        Roles {
            primary: primary.into(),
            standby: standby.into(),
        }
    }

    fn keys() -> BTreeMap<String, String> {
        BTreeMap::from([("topology".to_string(), "topology/abc.zip".to_string())])
    }

    #[test]
    fn region_stacks_get_each_region_functions_code_key() {
        let keys = BTreeMap::from([
            ("deploy-hook".to_string(), "deploy-hook/1.zip".to_string()),
            ("rollback".to_string(), "rollback/2.zip".to_string()),
        ]);
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys, &BTreeMap::new());
        for region_stack in &plan[2..4] {
            assert_eq!(region_stack.parameters["DeployHookCodeKey"], "deploy-hook/1.zip");
            assert_eq!(region_stack.parameters["RollbackCodeKey"], "rollback/2.zip");
        }
        let none = deploy_order(
            &config(),
            &roles("us-east-1", "us-east-2"),
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(
            none[2].parameters["RollbackCodeKey"], "",
            "no function before its first upload"
        );
    }

    #[test]
    fn stacks_deploy_in_dependency_order() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        let order: Vec<(Template, &str)> = plan.iter().map(|s| (s.template, s.region.as_str())).collect();
        assert_eq!(
            order,
            vec![
                (Template::Bootstrap, "us-east-1"),
                (Template::Bootstrap, "us-east-2"),
                (Template::Region, "us-east-1"),
                (Template::Region, "us-east-2"),
                (Template::Global, "us-east-1"),
            ]
        );
        assert_eq!(plan[0].name, "tandem-local-bootstrap");
        assert_eq!(plan[0].parameters["TopologyCodeKey"], "topology/abc.zip");
        let mut with_ops = config();
        with_ops.ops_email = "ops@example.com".into();
        with_ops.ops_webhook_url = "https://hooks.example.com/x".into();
        let plan = deploy_order(&with_ops, &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        for bootstrap in &plan[0..2] {
            assert_eq!(bootstrap.parameters["OpsEmail"], "ops@example.com");
            assert!(
                !bootstrap.parameters.contains_key("OpsWebhookUrl"),
                "no HTTPS subscription: the region's notify function posts to the webhook"
            );
        }
        for region_stack in &plan[2..4] {
            assert_eq!(region_stack.parameters["OpsWebhookUrl"], "https://hooks.example.com/x");
        }
    }

    #[test]
    fn region_stacks_get_their_role_peer_and_own_cidr() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        let standby = &plan[3].parameters;
        assert_eq!(
            (standby["Role"].as_str(), standby["PeerRegion"].as_str()),
            ("standby", "us-east-1")
        );
        assert_eq!(standby["VpcCidr"], "10.1.0.0/16");
        assert!(
            !standby.contains_key("PeerVpcCidr"),
            "no database admits the other region's addresses: each region's app uses its own region's database"
        );
        assert_eq!(
            standby["DesiredCount"], "1",
            "extra parameters from the config pass through"
        );
        assert_eq!(plan[2].parameters["VpcCidr"], "10.0.0.0/16");
    }

    /// cfn/region.yaml's parameters, as (name, whether it has a default).
    fn region_template_parameters() -> Vec<(String, bool)> {
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../cfn/region.yaml")).unwrap();
        let section = template
            .split("\nParameters:\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .expect("cfn/region.yaml has a Parameters section")
            .to_owned();
        // Each parameter: its `  Name:` line, then its indented properties.
        let mut parameters: Vec<(String, bool)> = Vec::new();
        for line in section.lines() {
            if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
                && !name.starts_with(' ')
            {
                parameters.push((name.to_owned(), false));
            } else if line.starts_with("    Default:")
                && let Some((_, has_default)) = parameters.last_mut()
            {
                *has_default = true;
            }
        }
        parameters
    }

    #[test]
    fn every_region_parameter_without_a_default_is_rendered() {
        // CloudFormation refuses a stack that leaves such a parameter out.
        let parameters = region_template_parameters();
        let required: Vec<&str> = parameters.iter().filter(|(_, d)| !d).map(|(n, _)| n.as_str()).collect();
        assert!(required.contains(&"VpcCidr"), "{required:?}");
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        for region_stack in &plan[2..4] {
            for name in &required {
                assert!(
                    region_stack.parameters.contains_key(*name),
                    "{}: region.yaml's {name} has no default and the plan does not set it",
                    region_stack.region
                );
            }
        }
    }

    #[test]
    fn every_rendered_region_parameter_is_declared_by_the_template() {
        // CloudFormation refuses a parameter the template does not declare
        // (as PeerVpcCidr would be, now that no database admits the other
        // region's addresses).
        let declared: Vec<String> = region_template_parameters().into_iter().map(|(n, _)| n).collect();
        assert!(declared.len() > 10, "{declared:?}");
        assert!(!declared.iter().any(|n| n == "PeerVpcCidr"), "{declared:?}");
        for env in ["local", "dev", "prod"] {
            let text =
                std::fs::read_to_string(format!("{}/../../config/{env}.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
            // The shipped AWS configs leave the certificates empty (Config::parse refuses that).
            let text = text.replace("certificate_arn = \"\"", "certificate_arn = \"arn:aws:acm:x\"");
            let config = Config::parse(&text, env).unwrap();
            let plan = deploy_order(&config, &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
            for region_stack in &plan[2..4] {
                for name in region_stack.parameters.keys() {
                    assert!(
                        declared.contains(name),
                        "{env}, {}: the plan sets {name}, which region.yaml does not declare",
                        region_stack.region
                    );
                }
            }
        }
    }

    #[test]
    fn after_a_failover_the_roles_follow_the_state_not_the_config() {
        let plan = deploy_order(&config(), &roles("us-east-2", "us-east-1"), &keys(), &BTreeMap::new());
        assert_eq!(
            (plan[2].region.as_str(), plan[2].parameters["Role"].as_str()),
            ("us-east-2", "primary")
        );
        assert_eq!(
            (plan[3].region.as_str(), plan[3].parameters["Role"].as_str()),
            ("us-east-1", "standby")
        );
        assert_eq!(
            plan[3].parameters["VpcCidr"], "10.0.0.0/16",
            "a VPC keeps its CIDR whatever its role"
        );
        assert_eq!(
            (
                plan[2].parameters["DbOrigin"].as_str(),
                plan[3].parameters["DbOrigin"].as_str()
            ),
            ("replica", "writer"),
            "each database keeps what it was built as: the promoted replica and the old writer both stay"
        );
        assert_eq!(
            plan[4].region, "us-east-1",
            "the global stack stays where it was first deployed"
        );
        assert_eq!(
            (
                plan[4].parameters["PrimaryRegion"].as_str(),
                plan[4].parameters["StandbyRegion"].as_str()
            ),
            ("us-east-2", "us-east-1"),
            "its records follow the roles"
        );
        assert_eq!(plan[4].parameters["PeerRegion"], "us-east-2", "its peering does not");
        let before = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        for spec in &plan[..2] {
            let same = before
                .iter()
                .find(|b| b.template == spec.template && b.region == spec.region);
            assert_eq!(same, Some(spec), "a failover changes no bootstrap stack");
        }
    }

    #[test]
    fn the_configured_primary_builds_the_writer() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        assert_eq!(plan[2].parameters["DbOrigin"], "writer");
        assert_eq!(plan[3].parameters["DbOrigin"], "replica");
    }

    #[test]
    fn each_region_probes_the_others_health_url() {
        let urls = BTreeMap::from([
            ("us-east-1".to_string(), "http://a/health".to_string()),
            ("us-east-2".to_string(), "http://b/health".to_string()),
        ]);
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &urls);
        assert_eq!(plan[2].parameters["PeerHealthUrl"], "http://b/health");
        assert_eq!(plan[3].parameters["PeerHealthUrl"], "http://a/health");
        let first = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        assert_eq!(
            first[2].parameters["PeerHealthUrl"], "",
            "unknown before the other stack exists"
        );
    }

    #[test]
    fn a_health_url_is_the_override_the_regional_name_or_the_local_albs() {
        let mut c = config();
        c.regions.get_mut("us-east-1").unwrap().health_url.clear();
        assert_eq!(
            health_url(&c, "us-east-1", Some("alb.example")),
            "http://alb.example/health"
        );
        assert_eq!(health_url(&c, "us-east-1", None), "");
        c.regions.get_mut("us-east-1").unwrap().certificate_arn = "arn:aws:acm:us-east-1:1:certificate/x".into();
        // On AWS the regional name, which the certificate covers, never the ALB's own name.
        let regional = format!("https://us-east-1.{}/health", c.domain_name);
        assert_eq!(health_url(&c, "us-east-1", Some("alb.example")), regional);
        assert_eq!(
            health_url(&c, "us-east-1", None),
            regional,
            "known before the ALB exists"
        );
        c.regions.get_mut("us-east-1").unwrap().health_url = "http://127.0.0.1:18081/health".into();
        assert_eq!(
            health_url(&c, "us-east-1", Some("alb.example")),
            "http://127.0.0.1:18081/health"
        );
    }

    /// The name cfn/global.yaml's record `record` gives, for a stack in
    /// `here` whose peer is `peer`, with `domain` (its `Name: !Sub "..."`).
    fn global_record_name(record: &str, here: &str, peer: &str, domain: &str) -> String {
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../cfn/global.yaml")).unwrap();
        let block = template
            .split(&format!("\n  {record}:\n"))
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_else(|| panic!("cfn/global.yaml has {record}"));
        let name = block
            .lines()
            .find_map(|l| l.trim().strip_prefix("Name: !Sub "))
            .unwrap_or_else(|| panic!("{record}: a `Name: !Sub \"...\"`"))
            .trim_matches('"');
        name.replace("${AWS::Region}", here)
            .replace("${PeerRegion}", peer)
            .replace("${DomainName}", domain)
    }

    #[test]
    fn the_regional_names_the_probes_use_are_the_ones_the_global_stack_makes() {
        let c = config();
        let plan = deploy_order(&c, &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        let global = &plan[4];
        let (here, peer) = (global.region.as_str(), global.parameters["PeerRegion"].as_str());
        let domain = global.parameters["DomainName"].as_str();
        assert_eq!(
            global_record_name("HereRegionalRecord", here, peer, domain),
            regional_name(&c, here)
        );
        assert_eq!(
            global_record_name("OtherRegionalRecord", here, peer, domain),
            regional_name(&c, peer)
        );
        assert_eq!(regional_name(&c, "us-east-2"), "us-east-2.app.tandem.local");
    }

    #[test]
    fn every_stack_is_named_for_the_env_and_the_global_one_carries_the_dns_settings() {
        let mut c = config();
        c.hosted_zone_id = "Z123".into();
        let plan = deploy_order(&c, &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        let names: Vec<&str> = plan.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tandem-local-bootstrap",
                "tandem-local-bootstrap",
                "tandem-local-region",
                "tandem-local-region",
                "tandem-local-global"
            ]
        );
        assert!(plan.iter().all(|s| s.parameters["Env"] == "local"));
        assert_eq!(plan[4].parameters["DomainName"], c.domain_name);
        assert_eq!(plan[4].parameters["HostedZoneId"], "Z123");
        assert_eq!(plan[4].parameters["StandbyRegion"], "us-east-2");
    }

    #[test]
    fn before_the_first_upload_the_bootstrap_has_no_code_key() {
        let plan = deploy_order(
            &config(),
            &roles("us-east-1", "us-east-2"),
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(plan[0].parameters["TopologyCodeKey"], "");
        assert_eq!(plan[1].parameters["TopologyCodeKey"], "");
    }

    #[test]
    fn each_region_stack_gets_its_own_certificate() {
        let mut c = config();
        for region in c.regions.values_mut() {
            region.certificate_arn = "arn:aws:acm:us-east-1:123:certificate/x".into();
        }
        c.regions.get_mut("us-east-2").unwrap().certificate_arn = "arn:aws:acm:us-east-2:123:certificate/y".into();
        let plan = deploy_order(&c, &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        assert_eq!(
            plan[2].parameters["CertificateArn"],
            "arn:aws:acm:us-east-1:123:certificate/x"
        );
        assert_eq!(
            plan[3].parameters["CertificateArn"],
            "arn:aws:acm:us-east-2:123:certificate/y"
        );
        assert!(
            !plan[4].parameters.contains_key("HealthCheckProtocol"),
            "the health checks are HTTPS in the template: no parameter"
        );
    }

    /// The set of parameter names `list`.
    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_deploy_update_keeps_the_released_image() {
        let mut spec = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new()).remove(2);
        spec.parameters.insert(IMAGE_TAG.into(), "from-somewhere".into());
        let params = change_set_parameters(&spec, Some(&names(&["Env", "ImageTag", "Role"])));
        let image: Vec<&ParamValue> = params.iter().filter(|(k, _)| k == IMAGE_TAG).map(|(_, v)| v).collect();
        assert_eq!(image, [&ParamValue::Previous], "exactly one ImageTag, never a value");
        assert!(params.contains(&("Role".into(), ParamValue::Set("primary".into()))));
        assert_eq!(
            params.len(),
            spec.parameters.len() + 1,
            "every other parameter is sent, and ServiceExists"
        );
    }

    #[test]
    fn only_the_change_set_that_creates_the_region_stack_says_the_service_is_new() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        let exists = |spec: &StackSpec, existing: Option<&BTreeSet<String>>| -> Vec<ParamValue> {
            change_set_parameters(spec, existing)
                .into_iter()
                .filter(|(k, _)| k == SERVICE_EXISTS)
                .map(|(_, v)| v)
                .collect()
        };
        let region = &plan[2];
        assert_eq!(region.template, Template::Region);
        assert_eq!(
            exists(region, None),
            [ParamValue::Set("false".into())],
            "create: zero tasks"
        );
        for older in [names(&["Env"]), names(&["Env", SERVICE_EXISTS])] {
            assert_eq!(
                exists(region, Some(&older)),
                [ParamValue::Set("true".into())],
                "update: no task count is sent, whatever the stack had"
            );
        }
        for spec in [&plan[0], &plan[4]] {
            assert!(exists(spec, None).is_empty(), "{}: not a region stack", spec.name);
        }
    }

    #[test]
    fn a_deploy_create_leaves_the_image_to_the_template_default() {
        let spec = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new()).remove(2);
        let params = change_set_parameters(&spec, None);
        assert!(params.iter().all(|(k, _)| k != IMAGE_TAG), "{params:?}");
        assert!(params.iter().all(|(_, v)| matches!(v, ParamValue::Set(_))));
        let older = change_set_parameters(&spec, Some(&names(&["Env"])));
        assert!(
            older.iter().all(|(k, _)| k != IMAGE_TAG),
            "a stack without ImageTag yet cannot keep a previous value"
        );
    }

    #[test]
    fn other_stacks_keep_nothing() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys(), &BTreeMap::new());
        for spec in [&plan[0], &plan[4]] {
            let params = change_set_parameters(spec, Some(&names(&["ImageTag", "Env"])));
            assert!(
                params.iter().all(|(_, v)| matches!(v, ParamValue::Set(_))),
                "{params:?}"
            );
            assert_eq!(params.len(), spec.parameters.len());
        }
    }

    #[test]
    fn a_release_changes_only_the_image() {
        let params = release_parameters(&names(&["DesiredCount", "Env", "ImageTag"]), "v2");
        assert_eq!(
            params,
            vec![
                ("DesiredCount".to_owned(), ParamValue::Previous),
                ("Env".to_owned(), ParamValue::Previous),
                ("ImageTag".to_owned(), ParamValue::Set("v2".into())),
            ]
        );
    }

    #[test]
    fn destroy_runs_in_reverse() {
        let plan = destroy_order(&config(), &roles("us-east-1", "us-east-2"));
        let parts: Vec<&str> = plan.iter().map(|s| s.template.part()).collect();
        assert_eq!(parts, vec!["global", "region", "region", "bootstrap", "bootstrap"]);
        assert_eq!(plan[1].region, "us-east-2", "the standby goes before the primary");
    }
}
