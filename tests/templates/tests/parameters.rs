//! Assertions on the `Parameters` of every template in cfn/: each
//! `AllowedPattern` is a valid pattern, and accepts the parameter's own
//! `Default` (CloudFormation checks a default against the pattern too, so a
//! default that fails it breaks every deploy that leaves the parameter out).

use serde_json::Value;
use template_tests::{Template, pattern_matches};

const TEMPLATES: [&str; 3] = ["bootstrap.yaml", "region.yaml", "global.yaml"];

#[test]
fn every_allowed_pattern_compiles_and_accepts_its_default() {
    let mut checked = 0;
    for file in TEMPLATES {
        let t = Template::load(file);
        for (name, p) in t.parameters() {
            let Some(pattern) = p.get("AllowedPattern") else {
                continue;
            };
            let pattern = pattern
                .as_str()
                .unwrap_or_else(|| panic!("{file}: {name}'s AllowedPattern is not a string: {pattern}"));
            let compiles = pattern_matches(pattern, "");
            assert!(compiles.is_ok(), "{file}: {name}: {}", compiles.unwrap_err());
            checked += 1;
            let default = match p.get("Default") {
                None => continue,
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            assert!(
                pattern_matches(pattern, &default).unwrap(),
                "{file}: {name}'s Default {default:?} does not match its AllowedPattern {pattern}"
            );
        }
    }
    assert!(
        checked > 0,
        "no AllowedPattern in {TEMPLATES:?}: this test checks nothing"
    );
}

#[test]
fn the_numeric_patterns_refuse_what_is_not_a_number() {
    let t = Template::load("region.yaml");
    for name in ["ContainerPort", "DesiredCount", "MaxCount", "DbAllocatedStorage"] {
        let pattern = t.parameter(name)["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has an AllowedPattern"));
        for bad in ["", "x", "12a", "-1", "1 2", " 80"] {
            assert!(
                !pattern_matches(pattern, bad).unwrap(),
                "{name}: {pattern} must refuse {bad:?}"
            );
        }
    }
    let port = t.parameter("ContainerPort")["AllowedPattern"].as_str().unwrap();
    assert!(pattern_matches(port, "80").unwrap() && pattern_matches(port, "65535").unwrap());
    assert!(!pattern_matches(port, "8").unwrap() && !pattern_matches(port, "123456").unwrap());
}
