use super::*;
use crate::config::Config;

fn local_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/local.toml")).unwrap()
}

/// config/local.toml made a dev configuration (no endpoint, certificates):
/// where `[ecs_release]`'s numbers take effect.
fn dev_text() -> String {
    local_text()
        .replace("env = \"local\"", "env = \"dev\"")
        .replace("endpoint_url = \"http://127.0.0.1:4566\"\n", "")
        .replace(
            "certificate_arn = \"\"",
            "certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/c\"",
        )
}

/// config/local.toml with `lines` added at the top level (before the first table).
fn with(lines: &str) -> Result<Config, String> {
    let text = local_text().replacen("env = ", &format!("{lines}\nenv = "), 1);
    Config::parse(&text, "local")
}

/// config/local.toml with a table appended.
fn with_table(table: &str) -> Result<Config, String> {
    Config::parse(&format!("{}\n{table}\n", local_text()), "local")
}

#[test]
fn nothing_set_is_codedeploy_with_the_sample_apps_contract() {
    let c = Config::parse(&local_text(), "local").unwrap();
    assert_eq!(c.release_engine, ReleaseEngine::CodeDeploy);
    let p = c.release().parameters();
    let expected = [
        ("ReleaseEngine", "codedeploy"),
        ("EcsStrategy", "CANARY"),
        ("EcsBakeMinutes", "15"),
        ("EcsCanaryPercent", "10"),
        ("EcsCanaryBakeMinutes", "5"),
        ("EcsLinearStepPercent", "25"),
        ("EcsLinearStepBakeMinutes", "2"),
        ("ReleaseApproval", "false"),
        ("ApprovalTimeoutMinutes", "20"),
        ("HealthPath", "/health"),
        ("SmokePaths", "/version=200,/db=200"),
        ("ContainerPort", "8080"),
        ("TaskCpu", "256"),
        ("TaskMemory", "512"),
        ("AppEnvironment", ""),
        ("AppSecrets", ""),
        ("AppSecretArns", ""),
    ];
    assert_eq!(p.len(), expected.len(), "{p:?}");
    for (k, v) in expected {
        assert_eq!(p[k], v, "{k}");
    }
}

#[test]
fn every_release_parameter_is_a_region_template_parameter_with_that_default() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../cfn/region.yaml")).unwrap();
    let c = Config::parse(&local_text(), "local").unwrap();
    for (name, value) in c.release().parameters() {
        let block = template
            .split(&format!("\n  {name}:\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("cfn/region.yaml has no parameter {name}"));
        let default = block
            .lines()
            .take_while(|l| l.starts_with("    "))
            .find_map(|l| l.trim().strip_prefix("Default:"));
        // AppSecretArns has none on purpose (see its comment): tandem always passes it.
        let Some(default) = default else {
            assert_eq!(name, "AppSecretArns", "parameter {name} has no Default");
            continue;
        };
        assert_eq!(
            default.trim().trim_matches('"'),
            value,
            "the default of {name} must be the configuration's, so that a stack deployed by hand is the same"
        );
    }
}

#[test]
fn the_ecs_engine_takes_its_settings() {
    let c = with_table(
        "[ecs_release]\nstrategy = \"LINEAR\"\nlinear_step_percent = 25\nlinear_step_bake_minutes = 2\napproval = true",
    )
    .unwrap_err();
    assert!(c.contains("does not read it"), "{c}");
    let text = format!(
        "{}\n[ecs_release]\nstrategy = \"LINEAR\"\nlinear_step_percent = 25\nlinear_step_bake_minutes = 2\napproval = true\n",
        local_text().replacen("env = ", "release_engine = \"ecs\"\nenv = ", 1)
    );
    let c = Config::parse(&text, "local").unwrap();
    let p = c.release().parameters();
    assert_eq!(p["ReleaseEngine"], "ecs");
    assert_eq!(p["EcsStrategy"], "LINEAR");
    assert_eq!(p["EcsLinearStepPercent"], "25");
    assert_eq!(p["ReleaseApproval"], "true");
    // 15 bake + 3 baked steps of 2 + 20 approval.
    assert_eq!(c.ecs_release.waiting_minutes(), 15 + 3 * 2 + 20);
}

#[test]
fn the_local_environment_takes_the_default_numbers() {
    let ecs = |table: &str| {
        Config::parse(
            &format!(
                "{}\n[ecs_release]\n{table}\n",
                local_text().replacen("env = ", "release_engine = \"ecs\"\nenv = ", 1)
            ),
            "local",
        )
    };
    assert!(ecs("strategy = \"LINEAR\"\napproval = true").is_ok());
    let e = ecs("bake_minutes = 10").unwrap_err();
    assert!(
        e.contains("ecs_release.bake_minutes = 10") && e.contains("default (15)"),
        "{e}"
    );
    let e = ecs("approval_timeout_minutes = 5").unwrap_err();
    assert!(e.contains("approval_timeout_minutes"), "{e}");
}

#[test]
fn an_unknown_engine_or_strategy_is_named() {
    let e = with("release_engine = \"ecs-native\"").unwrap_err();
    assert!(e.contains("ecs-native") && e.contains("codedeploy"), "{e}");
    let e = Config::parse(
        &format!(
            "{}\n[ecs_release]\nstrategy = \"ROLLING\"\n",
            local_text().replacen("env = ", "release_engine = \"ecs\"\nenv = ", 1)
        ),
        "local",
    )
    .unwrap_err();
    assert!(e.contains("ROLLING"), "{e}");
}

#[test]
fn ecs_settings_out_of_range_or_too_long_are_refused_naming_the_key() {
    let ecs = |table: &str| {
        Config::parse(
            &format!(
                "{}\n[ecs_release]\n{table}\n",
                dev_text().replacen("env = ", "release_engine = \"ecs\"\nenv = ", 1)
            ),
            "dev",
        )
    };
    assert!(ecs("").is_ok(), "the dev variant of config/local.toml parses");
    for (table, needle) in [
        ("canary_percent = 0", "ecs_release.canary_percent = 0"),
        ("canary_percent = 100", "ecs_release.canary_percent = 100"),
        ("linear_step_percent = 2", "ecs_release.linear_step_percent"),
        ("approval_timeout_minutes = 0", "ecs_release.approval_timeout_minutes"),
        ("bake_minutes = 40\napproval = true", "within an hour"),
        (
            "strategy = \"LINEAR\"\nlinear_step_percent = 3\nlinear_step_bake_minutes = 1",
            "within an hour",
        ),
    ] {
        let e = ecs(table).unwrap_err();
        assert!(e.contains(needle), "{table}: {e}");
    }
    assert!(ecs("strategy = \"BLUE_GREEN\"\nbake_minutes = 45").is_ok());
}

#[test]
fn the_app_contract_is_checked_naming_the_key_and_the_fix() {
    for (table, needle) in [
        ("health_path = \"health\"", "app.health_path"),
        ("smoke_paths = [\"/version\"]", "\"/version\""),
        ("smoke_paths = [\"/v=abc\"]", "/path=status"),
        ("smoke_paths = [\"/a,b=200\"]", "/path=status"),
        ("container_port = 80", "from 1024"),
        ("container_port = 9090", "8080 only"),
        ("cpu = \"300\"", "app.cpu"),
        ("memory = \"300\"", "app.memory"),
        ("environment = { \"1X\" = \"a\" }", "variable name"),
        ("environment = { PORT = \"1\" }", "tandem sets itself"),
        ("environment = { A = \"x,y\" }", "comma"),
        (
            "secrets = { A = \"arn:aws:ssm:us-east-1:1:parameter/x\" }",
            "app.secrets.A",
        ),
        (
            "secrets = { TANDEM_TLS = \"arn:aws:secretsmanager:us-east-1:1:secret:x\" }",
            "app.secrets",
        ),
        (
            "environment = { A = \"1\" }\nsecrets = { A = \"arn:aws:secretsmanager:us-east-1:1:secret:x\" }",
            "both",
        ),
    ] {
        let e = with_table(&format!("[app]\n{table}")).unwrap_err();
        assert!(e.contains(needle), "{table}: {e}");
    }
}

#[test]
fn an_app_contract_becomes_the_stack_parameters() {
    let c = with_table(
        "[app]\nhealth_path = \"/ready\"\nsmoke_paths = [\"/\", \"/api/ping=204\"]\ncpu = \"512\"\nmemory = \"1024\"\n\
         environment = { LOG_LEVEL = \"debug\", FEATURE = \"on\" }\n\
         secrets = { API_KEY = \"arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf\" }",
    );
    let e = c.unwrap_err();
    assert!(e.contains("\"/\""), "a smoke path needs its status: {e}");
    let c = with_table(
        "[app]\nhealth_path = \"/ready\"\nsmoke_paths = [\"/api/ping=204\"]\ncpu = \"512\"\nmemory = \"1024\"\n\
         environment = { LOG_LEVEL = \"debug\", FEATURE = \"on\" }\n\
         secrets = { API_KEY = \"arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf\" }",
    )
    .unwrap();
    let p = c.release().parameters();
    assert_eq!(p["HealthPath"], "/ready");
    assert_eq!(p["SmokePaths"], "/api/ping=204");
    assert_eq!(p["TaskCpu"], "512");
    assert_eq!(p["AppEnvironment"], "FEATURE=on,LOG_LEVEL=debug");
    assert_eq!(
        p["AppSecrets"],
        "API_KEY=arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf"
    );
    assert_eq!(
        p["AppSecretArns"],
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf"
    );
}

#[test]
fn region_parameters_may_not_set_what_the_release_settings_set() {
    let text = local_text().replace(
        "[region_parameters]\n",
        "[region_parameters]\nContainerPort = \"9000\"\n",
    );
    let e = Config::parse(&text, "local").unwrap_err();
    assert!(
        e.contains("region_parameters sets ContainerPort") && e.contains("[app]"),
        "{e}"
    );
}
