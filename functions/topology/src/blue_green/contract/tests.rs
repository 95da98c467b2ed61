//! The app contract's entries, and the engine, as the properties parse and
//! validate them: every way to get them wrong is refused naming the
//! property, the entry and the fix.

use super::*;
use crate::blue_green::props::{Engine, Props, raw_ecs_fixture, raw_fixture, validate};
use serde_json::{Value, json};
use tandem_core::cfn::props;

const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tandem-dev/api-AbCdEf";

fn strings(entries: &[&str]) -> Vec<String> {
    entries.iter().map(|e| (*e).to_owned()).collect()
}

/// The properties `raw` with `changes`, parsed and validated.
fn checked(mut raw: Value, changes: &[(&str, Value)]) -> Result<Props, String> {
    for (key, value) in changes {
        if value.is_null() {
            raw.as_object_mut().unwrap().remove(*key);
        } else {
            raw[*key] = value.clone();
        }
    }
    let p: Props = props::parse(raw.as_object().unwrap()).map_err(|e| e.to_string())?;
    validate(&p).map(|()| p)
}

#[test]
fn entries_become_variables_and_empty_ones_are_ignored() {
    let parsed = parse_extra_environment(&strings(&["", "FEATURE=on", " ", "EMPTY=", "URL=https://x/?a=b"])).unwrap();
    let expected: BTreeMap<String, String> = [("FEATURE", "on"), ("EMPTY", ""), ("URL", "https://x/?a=b")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(parsed, expected, "the value is everything after the first `=`");
    assert_eq!(parse_extra_environment(&strings(&[""])).unwrap(), BTreeMap::new());
    assert_eq!(parse_extra_environment(&[]).unwrap(), BTreeMap::new());
    let secrets = parse_secrets(&strings(&["", &format!("API_KEY={SECRET}")])).unwrap();
    assert_eq!(secrets["API_KEY"], SECRET);
}

#[test]
fn variable_names_are_letters_digits_and_underscores() {
    for good in ["A", "_", "a_b", "API_KEY2", "_1"] {
        assert!(is_variable_name(good), "{good}");
    }
    for bad in ["", "1A", "A-B", "A B", "Ä", "A.B", "A=B"] {
        assert!(!is_variable_name(bad), "{bad}");
    }
}

#[test]
fn only_secrets_manager_secret_arns_are_secrets() {
    let good = [
        SECRET,
        "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:db",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::",
    ];
    for arn in good {
        assert!(is_secret_arn(arn), "{arn}");
    }
    let bad = [
        "",
        "tandem-dev/db",
        "arn:aws:ssm:us-east-1:123456789012:parameter/tandem-dev/db",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret",
        "arn:aws:secretsmanager::123456789012:secret:db",
        "arn:aws:secretsmanager:us-east-1:1234:secret:db",
        "arn:aws:secretsmanager:us-east-1:12345678901x:secret:db",
        "arn::secretsmanager:us-east-1:123456789012:secret:db",
        "urn:aws:secretsmanager:us-east-1:123456789012:secret:db",
        "arn:aws:secretsmanager:us-east-1:123456789012:other:db",
    ];
    for arn in bad {
        assert!(!is_secret_arn(arn), "{arn}");
    }
}

#[test]
fn the_engine_is_codedeploy_by_default_or_ecs_and_nothing_else() {
    assert_eq!(checked(raw_fixture(), &[]).unwrap().engine, Engine::CodeDeploy);
    let named = checked(raw_fixture(), &[("Engine", json!("codedeploy"))]).unwrap();
    assert_eq!(named.engine, Engine::CodeDeploy);
    assert_eq!(checked(raw_ecs_fixture(), &[]).unwrap().engine, Engine::Ecs);
    for bad in ["ECS", "CodeDeploy", "", "rolling"] {
        let err = checked(raw_fixture(), &[("Engine", json!(bad))]).unwrap_err();
        assert!(
            err.starts_with("property `Engine`") && err.contains("\"codedeploy\"") && err.contains("\"ecs\""),
            "{bad}: {err}"
        );
    }
    assert_eq!(
        (Engine::CodeDeploy.as_str(), Engine::Ecs.to_string().as_str()),
        ("codedeploy", "ecs")
    );
}

#[test]
fn the_codedeploy_names_are_required_under_codedeploy_only() {
    for name in ["ApplicationName", "DeploymentGroupName"] {
        for value in [Value::Null, json!(""), json!(" ")] {
            let err = checked(raw_fixture(), &[(name, value.clone())]).unwrap_err();
            assert!(
                err.contains(&format!("`{name}` is empty")) && err.contains("\"ecs\""),
                "{name}={value}: {err}"
            );
            let ecs = checked(raw_ecs_fixture(), &[(name, value.clone())]);
            assert!(ecs.is_ok(), "{name}={value} under ecs: {ecs:?}");
        }
    }
    let p = checked(raw_ecs_fixture(), &[]).unwrap();
    assert!(p.application_name.is_empty() && p.deployment_group_name.is_empty());
}

#[test]
fn a_commadelimitedlist_parameter_left_empty_gives_nothing() {
    for raw in [raw_fixture(), raw_ecs_fixture()] {
        let p = checked(raw, &[("ExtraEnvironment", json!([""])), ("Secrets", json!([""]))]).unwrap();
        assert!(p.extra_environment.is_empty() && p.secrets.is_empty());
    }
    let p = checked(
        raw_ecs_fixture(),
        &[
            ("ExtraEnvironment", json!(["FEATURE=on", "LEVEL=3"])),
            ("Secrets", json!([format!("API_KEY={SECRET}")])),
        ],
    )
    .unwrap();
    assert_eq!(p.extra_environment.len(), 2);
    assert_eq!(p.secrets["API_KEY"], SECRET);
}

#[test]
fn bad_entries_are_refused_naming_the_property_the_entry_and_the_fix() {
    let secret = |name: &str| json!([format!("{name}={SECRET}")]);
    let cases = [
        (
            "ExtraEnvironment",
            json!(["FEATURE"]),
            vec!["property `ExtraEnvironment`", "entry 1", "FEATURE", "NAME=value"],
        ),
        (
            "ExtraEnvironment",
            json!(["", "1X=y"]),
            vec![
                "property `ExtraEnvironment`",
                "entry 2",
                "\"1X\"",
                "not a variable name",
            ],
        ),
        (
            "ExtraEnvironment",
            json!(["=y"]),
            vec!["entry 1", "not a variable name"],
        ),
        (
            "ExtraEnvironment",
            json!(["A=1", "A=2"]),
            vec!["entry 2 sets A a second time", "one entry per name"],
        ),
        (
            "ExtraEnvironment",
            json!(["PORT=9090"]),
            vec!["property `ExtraEnvironment` sets PORT", "`Environment` sets it already"],
        ),
        (
            "ExtraEnvironment",
            json!(["TANDEM_IMAGE_TAG=x"]),
            vec![
                "sets TANDEM_IMAGE_TAG",
                "the release sets it itself",
                "remove the entry",
            ],
        ),
        ("ExtraEnvironment", json!("A=1"), vec!["property `ExtraEnvironment`"]),
        (
            "Secrets",
            json!(["API_KEY"]),
            vec!["property `Secrets`", "entry 1", "NAME=arn:aws:secretsmanager:"],
        ),
        (
            "Secrets",
            json!(["api-key=x"]),
            vec!["property `Secrets`", "\"api-key\"", "not a variable name"],
        ),
        (
            "Secrets",
            json!(["DB=arn:aws:ssm:us-east-1:123456789012:parameter/db"]),
            vec![
                "property `Secrets`",
                "entry DB",
                "not a Secrets Manager secret ARN",
                "describe-secret",
            ],
        ),
        (
            "Secrets",
            json!(["DB=tandem-dev/db"]),
            vec!["entry DB", "not a Secrets Manager secret ARN"],
        ),
        (
            "Secrets",
            secret("TANDEM_ENV"),
            vec!["property `Secrets` sets TANDEM_ENV", "`Environment` sets it already"],
        ),
        (
            "Secrets",
            secret("TANDEM_IMAGE_TAG"),
            vec!["property `Secrets` sets TANDEM_IMAGE_TAG", "remove the entry"],
        ),
    ];
    for raw in [raw_fixture(), raw_ecs_fixture()] {
        for (key, value, needles) in &cases {
            let err = checked(raw.clone(), &[(key, value.clone())]).unwrap_err();
            for needle in needles {
                assert!(err.contains(needle), "{key}={value}: {err:?} lacks {needle:?}");
            }
        }
    }
    let err = checked(
        raw_ecs_fixture(),
        &[
            ("ExtraEnvironment", json!(["API_KEY=plain"])),
            ("Secrets", secret("API_KEY")),
        ],
    )
    .unwrap_err();
    assert!(
        err.contains("property `Secrets` sets API_KEY") && err.contains("`ExtraEnvironment` sets it already"),
        "{err}"
    );
}
