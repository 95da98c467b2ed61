//! docs/configuration.md documents every setting: each key of
//! `config/<env>.toml` (the fields of `Config` and `RegionConfig` in
//! crates/cli/src/config.rs, `EcsRelease` in config/release.rs and `App` in
//! config/app.rs, read from their source text) and each parameter
//! of every template in cfn/ has a row of its own, a table line that starts
//! with the name in backticks. Adding a key or a parameter without a row
//! fails here.

use std::collections::BTreeSet;
use template_tests::{Template, repo_root};

const TEMPLATES: [&str; 4] = ["bootstrap.yaml", "region.yaml", "global.yaml", "github-oidc.yaml"];

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fields of `pub(crate) struct <name> { ... }` in `source`: each line
/// of the body that declares `pub(crate) <field>:`. Serde reads each field
/// under its own name (neither struct renames its fields).
fn struct_fields(source: &str, name: &str) -> Vec<String> {
    let start = format!("pub(crate) struct {name} {{");
    let body = source
        .split_once(&start)
        .unwrap_or_else(|| panic!("the config source has no `{start}`: update this test's reader"))
        .1;
    let body = &body[..body.find("\n}").expect("the struct's body ends")];
    let fields: Vec<String> = body
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub(crate) "))
        .filter_map(|l| l.split_once(':').map(|(field, _)| field.trim().to_owned()))
        .collect();
    assert!(!fields.is_empty(), "{name}: no fields read");
    fields
}

/// Every name that starts a row of a table in `doc`: "| `name` |" (the
/// first cell), or "| … | `name` |" where the first cell is a template.
fn documented(doc: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in doc.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // cells[0] is the empty text before the first bar.
        for cell in cells.iter().skip(1).take(2) {
            for part in cell.split(", ") {
                if let Some(name) = part.strip_prefix('`').and_then(|p| p.strip_suffix('`')) {
                    names.insert(name.to_owned());
                }
            }
        }
    }
    names
}

/// What docs/configuration.md leaves out of `expected`.
fn missing(doc: &str, expected: &[String]) -> Vec<String> {
    let names = documented(doc);
    expected.iter().filter(|e| !names.contains(*e)).cloned().collect()
}

fn config_keys() -> Vec<String> {
    let source = read("crates/cli/src/config.rs");
    let mut keys = struct_fields(&source, "Config");
    keys.extend(struct_fields(&source, "RegionConfig"));
    // The tables [ecs_release] and [app], each in its own module.
    keys.extend(struct_fields(&read("crates/cli/src/config/release.rs"), "EcsRelease"));
    keys.extend(struct_fields(&read("crates/cli/src/config/app.rs"), "App"));
    keys
}

fn template_parameters() -> Vec<String> {
    TEMPLATES
        .iter()
        .flat_map(|file| Template::load(file).parameters().keys().cloned().collect::<Vec<_>>())
        .collect()
}

#[test]
fn every_config_key_has_a_row() {
    let keys = config_keys();
    for key in [
        "env",
        "region_parameters",
        "ops_webhook_url",
        "vpc_cidr",
        "health_url",
        "approval",
        "smoke_paths",
    ] {
        assert!(keys.iter().any(|k| k == key), "the reader missed {key}: {keys:?}");
    }
    let gaps = missing(&read("docs/configuration.md"), &keys);
    assert!(
        gaps.is_empty(),
        "docs/configuration.md has no row for these keys of the configuration (crates/cli/src/config.rs and config/): {gaps:?}; \
         add each with its type, default and effect"
    );
}

#[test]
fn every_template_parameter_has_a_row() {
    let params = template_parameters();
    assert!(params.iter().any(|p| p == "FailoverThreshold"), "{params:?}");
    let gaps = missing(&read("docs/configuration.md"), &params);
    assert!(
        gaps.is_empty(),
        "docs/configuration.md has no row for these template parameters: {gaps:?}; \
         add each to the operator's table or to \"Set by tandem\""
    );
}

#[test]
fn the_check_fails_on_a_key_or_parameter_without_a_row() {
    let doc = read("docs/configuration.md");
    // A new config field, and a new template parameter, neither documented.
    let source = read("crates/cli/src/config.rs").replacen(
        "pub(crate) struct Config {",
        "pub(crate) struct Config {\n    pub(crate) brand_new_key: String,",
        1,
    );
    let keys = struct_fields(&source, "Config");
    assert_eq!(missing(&doc, &keys), ["brand_new_key"]);
    let mut params = template_parameters();
    params.push("BrandNewParameter".into());
    assert_eq!(missing(&doc, &params), ["BrandNewParameter"]);
    // A name mentioned only in prose is not a row.
    let prose = "`brand_new_key` is mentioned here.\n| key | type |\n| --- | --- |\n";
    assert_eq!(missing(prose, &["brand_new_key".to_owned()]), ["brand_new_key"]);
}
