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
        let text = std::fs::read_to_string(format!("{}/../../config/{env}.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
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
