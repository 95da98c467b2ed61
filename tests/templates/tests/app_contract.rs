//! The app contract and the release engine are parameters of
//! cfn/region.yaml. Their defaults are the sample app's values and the
//! CodeDeploy engine, and with them the region stack must be what it was
//! before either existed: the same resources, properties and outputs, so
//! that an environment that sets nothing new sees no change on its next
//! deploy.
//!
//! `golden/region-*.json` holds the template of that time, resolved for
//! each environment and role with every parameter at its default. Set
//! `TANDEM_BLESS=1` to rewrite them (only for a change that is meant to
//! alter the default stack; say why in the commit).

use serde_json::{Map, Value, json};
use std::path::PathBuf;
use template_tests::{Params, Template, repo_root};

/// The stacks a deploy makes: (env, role, what its database was built as, image tag).
const STACKS: &[(&str, &str, &str, &str)] = &[
    ("dev", "primary", "writer", "v1"),
    ("dev", "standby", "replica", "v1"),
    ("prod", "primary", "writer", "v1"),
    ("prod", "standby", "replica", ""),
    ("local", "primary", "writer", "v1"),
    ("local", "standby", "replica", "v1"),
];

fn given(env: &str, role: &str, origin: &str, image: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Env", env.into()),
        ("Role", role.into()),
        ("DbOrigin", origin.into()),
        ("PeerRegion", "us-east-2".into()),
        ("VpcCidr", "10.0.0.0/16".into()),
        ("ImageTag", image.into()),
        (
            "CertificateArn",
            if env == "local" {
                String::new()
            } else {
                "arn:aws:acm:us-east-1:123456789012:certificate/c".into()
            },
        ),
        ("OpsWebhookUrl", "https://hooks.example/x".into()),
    ]
}

/// Every function's code uploaded: each `...CodeKey` parameter set (named
/// from the template, so that this suite is no function's own test).
fn with_code(t: &Template, mut given: Vec<(&'static str, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = (t.parameters().keys())
        .filter(|name| name.ends_with("CodeKey"))
        .map(|name| (name.clone(), format!("functions/{name}/k.zip")))
        .collect();
    out.extend(given.drain(..).map(|(k, v)| (k.to_owned(), v)));
    out
}

/// Every parameter's value: the given ones, else the template's default.
fn values(t: &Template, given: &[(String, String)]) -> Params {
    let mut out = Params::new();
    for (name, p) in t.parameters() {
        let default = match p.get("Default") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => continue,
        };
        out.insert(name.clone(), default);
    }
    for (k, v) in given {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// `value` with every `Ref` to a parameter replaced by its value, and every
/// `${Parameter}` in a `Fn::Sub` string too: what CloudFormation would send.
fn substitute(value: &Value, params: &Params) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("Ref")
                && map.len() == 1
                && let Some(v) = params.get(name)
            {
                return Value::String(v.clone());
            }
            if let Some(sub) = map.get("Fn::Sub")
                && map.len() == 1
            {
                let replace = |s: &str| -> String {
                    let mut s = s.to_owned();
                    for (k, v) in params {
                        s = s.replace(&format!("${{{k}}}"), v);
                    }
                    s
                };
                let sub = match sub {
                    Value::String(s) => Value::String(replace(s)),
                    Value::Array(parts) if parts.len() == 2 => {
                        json!([parts[0].as_str().map(replace), substitute(&parts[1], params)])
                    }
                    other => substitute(other, params),
                };
                // A Sub left with no placeholder is its string.
                return match &sub {
                    Value::String(s) if !s.contains("${") => Value::String(s.clone()),
                    _ => json!({ "Fn::Sub": sub }),
                };
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, params))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, params)).collect()),
        other => other.clone(),
    }
}

/// The stack as CloudFormation would build it: its resources and outputs.
fn rendered(env: &str, role: &str, origin: &str, image: &str) -> Value {
    let t = Template::load("region.yaml");
    let given = with_code(&t, given(env, role, origin, image));
    let params = values(&t, &given);
    let pairs: Vec<(&str, &str)> = given.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resolved = t.resolved(&pairs);
    // A resource's `Condition` only says whether it exists, which the
    // resolution has decided, and its `Metadata` is for the linters: the
    // comparison is of what exists and what CloudFormation sends.
    let created = |section: &str| -> Value {
        let mut items = resolved.json()[section].as_object().cloned().unwrap_or_default();
        for item in items.values_mut() {
            if let Some(item) = item.as_object_mut() {
                item.remove("Condition");
                item.remove("Metadata");
            }
        }
        substitute(&Value::Object(items), &params)
    };
    let mut out = Map::new();
    out.insert("Resources".into(), created("Resources"));
    out.insert("Outputs".into(), created("Outputs"));
    Value::Object(out)
}

fn golden_path(env: &str, role: &str) -> PathBuf {
    repo_root().join(format!("tests/templates/golden/region-{env}-{role}.json"))
}

#[test]
fn the_sample_apps_defaults_render_the_region_stack_of_before() {
    let bless = std::env::var("TANDEM_BLESS").is_ok_and(|v| v == "1");
    for &(env, role, origin, image) in STACKS {
        let now = rendered(env, role, origin, image);
        let path = golden_path(env, role);
        if bless {
            let text = serde_json::to_string_pretty(&now).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let before: Value = serde_json::from_str(&text).unwrap();
        for section in ["Resources", "Outputs"] {
            let (a, b) = (&before[section], &now[section]);
            let names: std::collections::BTreeSet<&String> = a
                .as_object()
                .unwrap()
                .keys()
                .chain(b.as_object().unwrap().keys())
                .collect();
            for name in names {
                assert_eq!(
                    a.get(name),
                    b.get(name),
                    "{env} {role}: {section}.{name} differs from the stack of before ({}); \
                     the defaults must render what they rendered",
                    path.display()
                );
            }
        }
    }
}
