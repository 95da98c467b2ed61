//! Tests of [`FUNCTIONS`] against the repository: each numbered step of
//! docs/contributing.md's "Adding a function" is a check here, so that a
//! new function with one step missed fails, and a tree with each step taken
//! away in turn shows that every check can fail.

use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use template_tests::Template as Cfn;

/// The repository as the checks read it, with some files taken away or
/// rewritten (to show that each check fails when its step is missed).
#[derive(Default)]
struct Tree {
    /// Paths (relative to the root) that read as absent, with everything under them.
    removed: Vec<String>,
    /// Paths whose text reads as this instead.
    replaced: BTreeMap<String, String>,
}

impl Tree {
    /// The repository root.
    fn root() -> PathBuf {
        template_tests::repo_root()
    }

    /// Whether `path` reads as taken away.
    fn is_removed(&self, path: &str) -> bool {
        self.removed
            .iter()
            .any(|r| path == r || path.starts_with(&format!("{r}/")))
    }

    /// The text of `path`, `None` when it is absent.
    fn read(&self, path: &str) -> Option<String> {
        if self.is_removed(path) {
            return None;
        }
        if let Some(text) = self.replaced.get(path) {
            return Some(text.clone());
        }
        std::fs::read_to_string(Self::root().join(path)).ok()
    }

    /// Whether `path` (a file or a directory) is there.
    fn exists(&self, path: &str) -> bool {
        !self.is_removed(path) && (self.replaced.contains_key(path) || Self::root().join(path).exists())
    }

    /// The names in directory `dir` that are there, sorted.
    fn list(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(Self::root().join(dir))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| !self.is_removed(&format!("{dir}/{name}")))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The text of every `.rs` file under `dir`, joined.
    fn rust_under(&self, dir: &str) -> String {
        let mut text = String::new();
        for name in self.list(dir) {
            let path = format!("{dir}/{name}");
            if name.ends_with(".rs") {
                text.push_str(&self.read(&path).unwrap_or_default());
            } else if Self::root().join(&path).is_dir() {
                text.push_str(&self.rust_under(&path));
            }
        }
        text
    }

    /// Template `template` as parsed.
    fn template(&self, template: Template) -> Option<Cfn> {
        let text = self.read(template.path())?;
        Cfn::from_yaml_str(template.path(), &text).ok()
    }
}

/// `Custom::VpcPeering` as a sample's prefix: `vpc-peering`.
fn kebab(resource_type: &str) -> String {
    let name = resource_type.trim_start_matches("Custom::");
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The prefixes of `f`'s samples under events/: after each custom resource
/// type it serves (its ARN export is the type's ServiceToken), or else its name.
fn sample_prefixes(tree: &Tree, f: &Function) -> Vec<String> {
    let export = format!("tandem-${{Env}}-{}-arn", f.name);
    let mut served = BTreeSet::new();
    for template in [Template::Bootstrap, Template::Region, Template::Global] {
        let Some(t) = tree.template(template) else { continue };
        for resource in t.resources().values() {
            let kind = resource["Type"].as_str().unwrap_or_default();
            if kind.starts_with("Custom::") && resource["Properties"]["ServiceToken"].to_string().contains(&export) {
                served.insert(kebab(kind));
            }
        }
    }
    if served.is_empty() {
        served.insert(f.name.to_owned());
    }
    served.into_iter().map(|p| format!("{p}-")).collect()
}

/// Whether `value` is `!Sub <text>` (or the plain string `text`).
fn is_sub(value: &Value, text: &str) -> bool {
    value == text || value["Fn::Sub"] == text
}

/// Step 3: the template's parameter, function, role boundary and log group.
fn template_gaps(tree: &Tree, f: &Function) -> Vec<String> {
    let file = f.template.path();
    let Some(t) = tree.template(f.template) else {
        return vec![format!("3. {file} cannot be read")];
    };
    let mut gaps = Vec::new();
    if !t.parameters().contains_key(f.code_key) {
        gaps.push(format!("3. {file} has no parameter {}", f.code_key));
    }
    let name = format!("tandem-${{Env}}-{}", f.name);
    let function = t
        .resources_of("AWS::Lambda::Function")
        .into_iter()
        .find(|(_, r)| is_sub(&r["Properties"]["FunctionName"], &name));
    match function {
        None => gaps.push(format!("3. {file} has no AWS::Lambda::Function named {name}")),
        Some((id, r)) => {
            if r["Properties"]["Code"]["S3Key"]["Ref"] != f.code_key {
                gaps.push(format!("3. {file}: {id}'s Code.S3Key is not !Ref {}", f.code_key));
            }
            let role = r["Properties"]["Role"]["Fn::GetAtt"][0].as_str().unwrap_or_default();
            let bounded = t.resources().get(role).is_some_and(|role| {
                role["Properties"]["PermissionsBoundary"]
                    .to_string()
                    .contains("boundary")
            });
            if !bounded {
                gaps.push(format!("3. {file}: {id}'s role has no permissions boundary"));
            }
        }
    }
    let group = format!("/aws/lambda/{name}");
    let has_group = (t.resources_of("AWS::Logs::LogGroup").into_iter())
        .any(|(_, r)| is_sub(&r["Properties"]["LogGroupName"], &group));
    if !has_group {
        gaps.push(format!("3. {file} has no log group {group}"));
    }
    gaps
}

/// Every step of "Adding a function" that `table` and `tree` miss, each as
/// `<step>. <what is missing>`.
fn gaps(tree: &Tree, table: &[Function]) -> Vec<String> {
    let mut gaps = Vec::new();
    // 1 and 4: each crate under functions/ has its row, each row its crate.
    let crates: Vec<String> = (tree.list("functions").into_iter())
        .filter(|d| tree.exists(&format!("functions/{d}/Cargo.toml")))
        .collect();
    for name in &crates {
        if !table.iter().any(|f| f.name == name) {
            gaps.push(format!("4. functions/{name} has no row in crates/cli/src/functions.rs"));
        }
    }
    // Each code-key parameter of the templates belongs to a row.
    for template in [Template::Bootstrap, Template::Region] {
        for parameter in tree
            .template(template)
            .iter()
            .flat_map(|t| t.parameters().keys().cloned().collect::<Vec<_>>())
        {
            if parameter.ends_with("CodeKey") && !table.iter().any(|f| f.code_key == parameter) {
                gaps.push(format!("4. {}'s {parameter} belongs to no row", template.path()));
            }
        }
    }
    let workspace = tree.read("Cargo.toml").unwrap_or_default();
    let makefile = tree.read("Makefile").unwrap_or_default();
    let kinds_help = (makefile.lines().find(|l| l.starts_with("audit:")))
        .and_then(|l| l.split("KIND=").nth(1))
        .map(|rest| {
            rest.split(')')
                .next()
                .unwrap_or_default()
                .split('|')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let events = tree.list("events");
    let template_tests = tree.rust_under("tests/templates/tests");
    let architecture = tree.read("docs/architecture.md").unwrap_or_default();
    let configuration = tree.read("docs/configuration.md").unwrap_or_default();
    let operating = tree.read("docs/operating.md").unwrap_or_default();
    let logs_groups = (operating.lines())
        .find_map(|l| l.split("/aws/lambda/tandem-<env>-{").nth(1))
        .map(|rest| {
            rest.split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let kinds_doc = operating.split("`--kind` is one of").nth(1).unwrap_or_default();
    let kinds_doc = kinds_doc.split("\n\n").next().unwrap_or_default();
    for f in table {
        let dir = format!("functions/{}", f.name);
        // 1. The crate.
        if !crates.iter().any(|c| c == f.name) {
            gaps.push(format!("1. {dir}/Cargo.toml is missing"));
            continue;
        }
        let manifest = tree.read(&format!("{dir}/Cargo.toml")).unwrap_or_default();
        if !manifest.lines().any(|l| l.starts_with("description")) {
            gaps.push(format!("1. {dir}/Cargo.toml has no description"));
        }
        for file in ["src/main.rs", "tests/bad_events.rs"] {
            if !tree.exists(&format!("{dir}/{file}")) {
                gaps.push(format!("1. {dir}/{file} is missing"));
            }
        }
        // 2. The workspace.
        if !workspace.contains(&format!("\"{dir}\"")) {
            gaps.push(format!("2. the root Cargo.toml's members lack {dir}"));
        }
        // 3. The template.
        gaps.extend(template_gaps(tree, f));
        // 4. The row's audit kind is the one its code writes.
        let code = tree.rust_under(&format!("{dir}/src"));
        for kind in AuditKind::ALL {
            let writes = code.contains(&format!("AuditKind::{kind:?}"));
            if writes != (f.audit == Some(kind)) {
                gaps.push(format!(
                    "4. {dir} writes AuditKind::{kind:?}: {writes}, its row says {:?}",
                    f.audit
                ));
            }
        }
        // 5. The audit kind in the Makefile's and operating.md's lists.
        if let Some(kind) = f.audit.map(AuditKind::as_str) {
            if !kinds_help.iter().any(|k| k == kind) {
                gaps.push(format!("5. the Makefile's audit help lacks KIND={kind}"));
            }
            if !kinds_doc.contains(&format!("`{kind}`")) {
                gaps.push(format!("5. docs/operating.md's `--kind` list lacks `{kind}`"));
            }
        }
        // 6. Samples and malformed events.
        let prefixes = sample_prefixes(tree, f);
        for prefix in &prefixes {
            if !events
                .iter()
                .any(|e| e.starts_with(prefix.as_str()) && e.ends_with(".json"))
            {
                gaps.push(format!("6. events/ has no {prefix}*.json"));
            }
        }
        let bad = format!("tests/bad-events/{}", f.name);
        if !tree.list(&bad).iter().any(|e| e.ends_with(".expect")) {
            gaps.push(format!("6. {bad}/ has no malformed events"));
        }
        // 7. Template assertions.
        if !template_tests.contains(f.code_key) {
            gaps.push(format!("7. no test under tests/templates/tests deploys {}", f.code_key));
        }
        // 8. The docs.
        if !architecture.contains(&format!("| `{dir}` |")) {
            gaps.push(format!("8. docs/architecture.md's layout has no row for `{dir}`"));
        }
        if !configuration.contains(&format!("`{}`", f.code_key)) {
            gaps.push(format!("8. docs/configuration.md does not name `{}`", f.code_key));
        }
        if !logs_groups.iter().any(|g| g == f.name) {
            gaps.push(format!("8. docs/operating.md's log groups lack {}", f.name));
        }
    }
    gaps
}

#[test]
fn every_step_of_adding_a_function_is_taken_for_every_function() {
    let gaps = gaps(&Tree::default(), FUNCTIONS);
    assert!(
        gaps.is_empty(),
        "docs/contributing.md \"Adding a function\" steps missed: {gaps:#?}"
    );
}

#[test]
fn docs_contributing_lists_the_steps_that_are_checked() {
    let doc = Tree::default().read("docs/contributing.md").unwrap_or_default();
    let section = doc.split("## Adding a function").nth(1).unwrap_or_default();
    let section = section.split("\n## ").next().unwrap_or_default();
    for step in 1..=8 {
        assert!(
            section.contains(&format!("\n{step}. ")),
            "step {step} is not in the list"
        );
    }
    assert!(!section.contains("\n9. "), "a step past 8 that no check holds");
}

/// The gaps of the repository with `path`'s first `from` replaced by `to`.
fn edited(path: &str, from: &str, to: &str) -> Vec<String> {
    let text = Tree::default().read(path).unwrap_or_default();
    assert!(text.contains(from), "{path} has no {from:?}");
    let replaced = BTreeMap::from([(path.to_owned(), text.replacen(from, to, 1))]);
    gaps(
        &Tree {
            replaced,
            ..Tree::default()
        },
        FUNCTIONS,
    )
}

/// The gaps of the repository without `paths`.
fn without(paths: &[&str]) -> Vec<String> {
    let removed = paths.iter().map(|p| (*p).to_owned()).collect();
    gaps(
        &Tree {
            removed,
            ..Tree::default()
        },
        FUNCTIONS,
    )
}

#[test]
fn each_step_fails_when_it_is_missed() {
    let samples: Vec<String> = (Tree::default().list("events").into_iter())
        .filter(|e| e.starts_with("notify-"))
        .map(|e| format!("events/{e}"))
        .collect();
    let samples: Vec<&str> = samples.iter().map(String::as_str).collect();
    let without_row: Vec<Function> = FUNCTIONS.iter().filter(|r| r.name != "notify").copied().collect();
    let no_audit: Vec<Function> = FUNCTIONS.iter().map(|r| Function { audit: None, ..*r }).collect();
    let region = "cfn/region.yaml";
    let cases = [
        ("1.", without(&["functions/notify/tests/bad_events.rs"])),
        (
            "1.",
            edited("functions/notify/Cargo.toml", "description", "# description"),
        ),
        ("2.", edited("Cargo.toml", "\"functions/notify\", ", "")),
        ("3.", edited(region, "\n  NotifyCodeKey:", "\n  NotifyKey:")),
        ("3.", edited(region, "-${Env}-notify\n", "-notify\n")),
        ("3.", edited(region, "S3Key: !Ref NotifyCodeKey", "S3Key: notify.zip")),
        ("4.", gaps(&Tree::default(), &without_row)),
        ("4.", gaps(&Tree::default(), &no_audit)),
        ("5.", edited("Makefile", "|notify)", ")")),
        (
            "5.",
            edited("docs/operating.md", "`notify` (each message", "(each message"),
        ),
        ("6.", without(&samples)),
        ("6.", without(&["tests/bad-events/notify"])),
        (
            "7.",
            edited("tests/templates/tests/notify.rs", "NotifyCodeKey", "Notify"),
        ),
        (
            "8.",
            edited("docs/architecture.md", "| `functions/notify` |", "| notify |"),
        ),
        ("8.", edited("docs/operating.md", ",notify,", ",")),
    ];
    for (step, gaps) in cases {
        assert!(gaps.iter().any(|g| g.starts_with(step)), "{step}: {gaps:#?}");
    }
}

#[test]
fn samples_of_a_custom_resource_function_are_named_after_the_types_it_serves() {
    assert_eq!(kebab("Custom::CrossRegionOutputs"), "cross-region-outputs");
    let topology = FUNCTIONS.iter().find(|f| f.name == "topology").unwrap();
    assert_eq!(
        sample_prefixes(&Tree::default(), topology),
        ["blue-green-deployment-", "cross-region-outputs-", "vpc-peering-"]
    );
    let rollback = FUNCTIONS.iter().find(|f| f.name == "rollback").unwrap();
    assert_eq!(sample_prefixes(&Tree::default(), rollback), ["rollback-"]);
}

#[test]
fn the_choices_of_logs_and_audit_come_from_the_table() {
    assert_eq!(names().count(), FUNCTIONS.len());
    assert_eq!(
        named("notify").map(|f| f.log_group("dev")).as_deref(),
        Some("/aws/lambda/tandem-dev-notify")
    );
    assert_eq!(named("app"), None);
    let kinds: Vec<&str> = audit_kinds().into_iter().map(AuditKind::as_str).collect();
    assert_eq!(kinds, ["release", "hook", "rollback", "failover", "notify"]);
    assert_eq!(
        in_template(Template::Bootstrap).map(|f| f.name).collect::<Vec<_>>(),
        ["topology"]
    );
}
