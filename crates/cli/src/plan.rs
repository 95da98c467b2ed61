//! Which stacks to deploy, where, in what order, with which parameters: a
//! pure function of the configuration, the current region roles and the
//! function code keys.

use crate::config::Config;
use std::collections::BTreeMap;

/// The three templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `cfn/bootstrap.yaml`: the control plane, in each region.
    Bootstrap,
    /// `cfn/region.yaml`: the service, in each region.
    Region,
    /// `cfn/global.yaml`: DNS failover and peering, in the primary region.
    Global,
}

impl Template {
    /// The template's file under the repository root.
    pub fn path(self) -> &'static str {
        match self {
            Self::Bootstrap => "cfn/bootstrap.yaml",
            Self::Region => "cfn/region.yaml",
            Self::Global => "cfn/global.yaml",
        }
    }

    /// The last part of the stack name.
    pub fn part(self) -> &'static str {
        match self {
            Self::Bootstrap => "bootstrap",
            Self::Region => "region",
            Self::Global => "global",
        }
    }
}

/// Which region is which, now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// Takes traffic and holds the writer database.
    pub primary: String,
    /// Holds the replica and takes over on failover.
    pub standby: String,
}

/// One stack to deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSpec {
    /// Which template.
    pub template: Template,
    /// `tandem-<env>-<part>`.
    pub name: String,
    /// Where it lives.
    pub region: String,
    /// Its parameters.
    pub parameters: BTreeMap<String, String>,
}

/// Every stack, in dependency order: bootstrap (both regions), region
/// (primary, then standby), global (in the primary region). `code_keys`
/// maps a function to its zip's key (empty before the first upload).
pub fn deploy_order(config: &Config, roles: &Roles, code_keys: &BTreeMap<String, String>) -> Vec<StackSpec> {
    let env = config.env.clone();
    let bootstrap = |region: &str| StackSpec {
        template: Template::Bootstrap,
        name: config.stack_name("bootstrap"),
        region: region.to_owned(),
        parameters: BTreeMap::from([
            ("Env".into(), env.clone()),
            (
                "TopologyCodeKey".into(),
                code_keys.get("topology").cloned().unwrap_or_default(),
            ),
        ]),
    };
    let region_stack = |region: &str, role: &str, peer: &str| {
        let settings = &config.regions[region];
        let mut parameters = config.region_parameters.clone();
        parameters.extend([
            ("Env".into(), env.clone()),
            ("Role".into(), role.to_owned()),
            ("PeerRegion".into(), peer.to_owned()),
            ("VpcCidr".into(), settings.vpc_cidr.clone()),
            ("CertificateArn".into(), settings.certificate_arn.clone()),
        ]);
        StackSpec {
            template: Template::Region,
            name: config.stack_name("region"),
            region: region.to_owned(),
            parameters,
        }
    };
    let https = config.regions.values().all(|r| !r.certificate_arn.is_empty());
    let global = StackSpec {
        template: Template::Global,
        name: config.stack_name("global"),
        region: roles.primary.clone(),
        parameters: BTreeMap::from([
            ("Env".into(), env.clone()),
            ("PrimaryRegion".into(), roles.primary.clone()),
            ("StandbyRegion".into(), roles.standby.clone()),
            ("DomainName".into(), config.domain_name.clone()),
            ("HostedZoneId".into(), config.hosted_zone_id.clone()),
            (
                "HealthCheckProtocol".into(),
                if https { "HTTPS" } else { "HTTP" }.into(),
            ),
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
pub fn destroy_order(config: &Config, roles: &Roles) -> Vec<StackSpec> {
    let mut stacks = deploy_order(config, roles, &BTreeMap::new());
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
    fn stacks_deploy_in_dependency_order() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys());
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
    }

    #[test]
    fn region_stacks_get_their_role_peer_and_own_cidr() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys());
        let standby = &plan[3].parameters;
        assert_eq!(
            (standby["Role"].as_str(), standby["PeerRegion"].as_str()),
            ("standby", "us-east-1")
        );
        assert_eq!(standby["VpcCidr"], "10.1.0.0/16");
        assert_eq!(
            standby["DesiredCount"], "1",
            "extra parameters from the config pass through"
        );
        assert_eq!(plan[2].parameters["VpcCidr"], "10.0.0.0/16");
    }

    #[test]
    fn after_a_failover_the_roles_follow_the_state_not_the_config() {
        let plan = deploy_order(&config(), &roles("us-east-2", "us-east-1"), &keys());
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
        assert_eq!(plan[4].region, "us-east-2", "the global stack follows the primary");
        assert_eq!(plan[4].parameters["PrimaryRegion"], "us-east-2");
    }

    #[test]
    fn no_certificate_means_http_health_checks() {
        let plan = deploy_order(&config(), &roles("us-east-1", "us-east-2"), &keys());
        assert_eq!(plan[4].parameters["HealthCheckProtocol"], "HTTP");
    }

    #[test]
    fn destroy_runs_in_reverse() {
        let plan = destroy_order(&config(), &roles("us-east-1", "us-east-2"));
        let parts: Vec<&str> = plan.iter().map(|s| s.template.part()).collect();
        assert_eq!(parts, vec!["global", "region", "region", "bootstrap", "bootstrap"]);
        assert_eq!(plan[1].region, "us-east-2", "the standby goes before the primary");
    }
}
