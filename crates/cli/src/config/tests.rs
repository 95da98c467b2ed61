use super::*;

fn local_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/local.toml")).unwrap()
}

#[test]
fn the_shipped_local_config_is_valid() {
    let c = Config::parse(&local_text(), "local").unwrap();
    assert!(c.is_local());
    assert_eq!(c.regions["us-east-2"].vpc_cidr, "10.1.0.0/16");
    assert_eq!(c.stack_name("region"), "tandem-local-region");
    assert_eq!(c.function_build, FunctionBuild::HostDev);
}

#[test]
fn the_state_table_is_the_one_the_bootstrap_template_makes() {
    let c = Config::parse(&local_text(), "local").unwrap();
    assert_eq!(c.state_table(), "tandem-local-state");
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../cfn/bootstrap.yaml")).unwrap();
    let table = template
        .split("\n  StateTable:\n")
        .nth(1)
        .expect("cfn/bootstrap.yaml has a StateTable resource");
    let name = table
        .lines()
        .find(|l| l.trim_start().starts_with("TableName:"))
        .unwrap();
    assert_eq!(name.trim(), "TableName: !Sub tandem-${Env}-state");
}

#[test]
fn the_repository_is_the_one_the_region_template_makes() {
    let c = Config::parse(&local_text(), "local").unwrap();
    assert_eq!(c.repository_name(), "tandem-local-app");
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../cfn/region.yaml")).unwrap();
    let repository = template
        .split("\n  Repository:\n")
        .nth(1)
        .expect("cfn/region.yaml has a Repository resource");
    let name = repository
        .lines()
        .find(|l| l.trim_start().starts_with("RepositoryName:"))
        .unwrap();
    assert_eq!(name.trim(), "RepositoryName: !Sub tandem-${Env}-app");
}

#[test]
fn the_image_is_not_a_configuration_setting() {
    let text = local_text().replace("[region_parameters]\n", "[region_parameters]\nImageTag = \"v1\"\n");
    let e = Config::parse(&text, "local").unwrap_err();
    assert!(
        e.contains("region_parameters sets ImageTag") && e.contains("make release"),
        "{e}"
    );
}

#[test]
fn the_shipped_aws_configs_parse_but_demand_certificates() {
    for env in ["dev", "prod"] {
        let path = format!("{}/../../config/{env}.toml", env!("CARGO_MANIFEST_DIR"));
        let e = Config::parse(&std::fs::read_to_string(path).unwrap(), env).unwrap_err();
        assert!(e.contains("certificate_arn is empty"), "{e}");
    }
}

#[test]
fn an_unknown_env_names_the_known_ones() {
    let e = Config::load(Path::new("."), "staging").unwrap_err().to_string();
    assert!(e.contains("dev, prod, local"), "{e}");
}

#[test]
fn a_missing_key_is_named() {
    let text = local_text().replace("domain_name = \"app.tandem.local\"\n", "");
    let e = Config::parse(&text, "local").unwrap_err();
    assert!(e.contains("domain_name"), "{e}");
}

#[test]
fn an_unknown_key_is_named() {
    let text = local_text().replace("hosted_zone_id", "hosted_zone");
    let e = Config::parse(&text, "local").unwrap_err();
    assert!(e.contains("hosted_zone"), "{e}");
}

#[test]
fn overlapping_cidrs_are_refused_with_the_reason() {
    let text = local_text().replace("10.1.0.0/16", "10.0.0.0/16");
    assert!(Config::parse(&text, "local").unwrap_err().contains("cannot be peered"));
}

#[test]
fn regions_must_have_tables_and_differ() {
    let text = local_text().replace("standby_region = \"us-east-2\"", "standby_region = \"us-west-2\"");
    assert!(
        Config::parse(&text, "local")
            .unwrap_err()
            .contains("[regions.us-west-2]")
    );
    let text = local_text().replace("standby_region = \"us-east-2\"", "standby_region = \"us-east-1\"");
    assert!(Config::parse(&text, "local").unwrap_err().contains("the same"));
}

#[test]
fn endpoint_overrides_are_for_local_only() {
    let text = local_text().replace("env = \"local\"", "env = \"dev\"");
    assert!(
        Config::parse(&text, "dev")
            .unwrap_err()
            .contains("only the local environment")
    );
    let text = local_text().replace("endpoint_url = \"http://127.0.0.1:4566\"\n", "");
    assert!(
        Config::parse(&text, "local")
            .unwrap_err()
            .contains("endpoint_url is missing")
    );
}

#[test]
fn the_file_must_match_its_env() {
    assert!(
        Config::parse(&local_text(), "dev")
            .unwrap_err()
            .contains("set env = \"dev\"")
    );
}

#[test]
fn cidrs_must_be_ten_dot_slash_16() {
    for bad in [
        "10.0.0.0/24",
        "192.168.0.0/16",
        "10.300.0.0/16",
        "10.0.1.0/16",
        "nonsense",
    ] {
        assert!(!is_slash16(bad), "{bad}");
    }
    assert!(is_slash16("10.42.0.0/16"));
}

#[test]
fn ops_subscriptions_must_be_an_address_and_an_https_url() {
    let with = |line: &str| local_text().replacen("env = ", &format!("{line}\nenv = "), 1);
    for good in [
        "ops_email = \"ops@example.com\"",
        "ops_webhook_url = \"https://hooks.example.com/T1/x\"",
    ] {
        assert!(Config::parse(&with(good), "local").is_ok(), "{good}");
    }
    for (bad, names) in [
        ("ops_email = \"ops.example.com\"", "ops_email = \"ops.example.com\""),
        ("ops_email = \"a@b@c\"", "ops_email"),
        ("ops_email = \"ops @example.com\"", "ops_email"),
        (
            "ops_webhook_url = \"http://hooks.example.com/secret\"",
            "ops_webhook_url is not an https:// URL",
        ),
        ("ops_webhook_url = \"https://\"", "ops_webhook_url"),
    ] {
        let e = Config::parse(&with(bad), "local").unwrap_err();
        assert!(e.contains(names), "{bad}: {e}");
        assert!(
            !e.contains("secret"),
            "the webhook URL is a credential and is not repeated: {e}"
        );
    }
}

#[test]
fn the_environment_s_webhook_overrides_the_file_and_is_checked() {
    let c = Config::parse(&local_text(), "local").unwrap();
    assert_eq!(c.ops_webhook_url, "");
    let same = c.clone().with_webhook(Some(String::new())).unwrap();
    assert_eq!(same, c, "an empty variable changes nothing");
    let set = c
        .clone()
        .with_webhook(Some("https://127.0.0.1:18443/hooks/x".into()))
        .unwrap();
    assert_eq!(set.ops_webhook_url, "https://127.0.0.1:18443/hooks/x");
    let e = c
        .with_webhook(Some("http://hooks.example.com/secret".into()))
        .unwrap_err();
    assert!(e.contains(WEBHOOK_ENV) && !e.contains("secret"), "{e}");
}
