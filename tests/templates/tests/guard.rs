//! The cfn-guard rules in cfn/guard/: they pass on every template in cfn/, and
//! each one fails on a fixture in cfn/guard/tests/ that breaks it.
//!
//! Each fixture names the rules it must fail in header lines
//! `# expect-fail: <file>.guard/<rule>` (or `(none)`); the test asserts that
//! cfn-guard fails exactly those rules, exits non-zero, and prints one of the
//! rule file's custom messages.
//!
//! When cfn-guard is not installed (`make setup` puts it in .tools/bin), the
//! tests that run it fail if `CI=true` or `TANDEM_REQUIRE_TOOLS=1` is set
//! (scripts/test.sh sets the latter), so a pipeline cannot pass without
//! running the rules; elsewhere they skip, saying so on stderr.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use template_tests::repo_root;

/// The cfn-guard binary: $CFN_GUARD, .tools/bin/cfn-guard, or cfn-guard on PATH.
fn cfn_guard() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CFN_GUARD").map(PathBuf::from),
        Some(repo_root().join(".tools/bin/cfn-guard")),
        Some(PathBuf::from("cfn-guard")),
    ];
    candidates.into_iter().flatten().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Whether a missing cfn-guard fails a test instead of skipping it, given
/// the values of `CI` and `TANDEM_REQUIRE_TOOLS`: it does when `CI` is `true`
/// (any case, as CI services set it) or `TANDEM_REQUIRE_TOOLS` is `1`.
fn missing_tool_is_fatal(ci: Option<&str>, require: Option<&str>) -> bool {
    ci.is_some_and(|v| v.eq_ignore_ascii_case("true")) || require == Some("1")
}

/// The fix to print when cfn-guard cannot be found.
const INSTALL_HINT: &str =
    "run `make setup` (it installs cfn-guard into .tools/bin), or set CFN_GUARD to a cfn-guard binary";

/// The cfn-guard binary for a test; `None` (after saying so on stderr) when
/// it is missing and that is allowed. Panics, naming the fix, when it is
/// missing and [`missing_tool_is_fatal`] says that is a failure.
fn cfn_guard_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(bin) = cfn_guard() {
        return Some(bin);
    }
    let ci = std::env::var("CI").ok();
    let require = std::env::var("TANDEM_REQUIRE_TOOLS").ok();
    if missing_tool_is_fatal(ci.as_deref(), require.as_deref()) {
        let shown = |v: Option<String>| v.unwrap_or_else(|| "<unset>".to_string());
        panic!(
            "{test}: cfn-guard not found, and it is required here (CI={}, TANDEM_REQUIRE_TOOLS={}): {INSTALL_HINT}",
            shown(ci),
            shown(require)
        );
    }
    eprintln!(
        "SKIPPED {test}: cfn-guard not found; {INSTALL_HINT}. \
         (This is a failure when CI=true or TANDEM_REQUIRE_TOOLS=1.)"
    );
    None
}

fn run(bin: &Path, args: &[&str]) -> (Output, String) {
    let output = Command::new(bin)
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run cfn-guard");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

/// The rules in the summary with a given status (`FAIL`, `PASS`, `SKIP`), as `file.guard/rule`.
fn rules_with_status(summary: &str, status: &str) -> BTreeSet<String> {
    summary
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (rule, s) = (words.next()?, words.next()?);
            (words.next().is_none() && s == status && rule.contains(".guard/")).then(|| rule.to_string())
        })
        .collect()
}

/// The rule files, with their text.
fn rule_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(repo_root().join("cfn/guard"))
        .expect("cfn/guard exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "guard"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no rule files in cfn/guard");
    files
}

/// The top-level rules of a file (not the parameterized helpers, which the
/// summary does not list), as (name, body).
fn rules(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("rule ") else {
            continue;
        };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if rest[name.len()..].starts_with('(') {
            continue;
        }
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with('}'))
            .map_or(lines.len(), |p| i + 1 + p);
        out.push((name, lines[i..end].join("\n")));
    }
    out
}

/// The parameterized helper rules of a file, as (name, body).
fn helpers(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("rule ") else {
            continue;
        };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if rest[name.len()..].starts_with('(') {
            let end = lines[i + 1..]
                .iter()
                .position(|l| l.starts_with('}'))
                .map_or(lines.len(), |p| i + 1 + p);
            out.push((name, lines[i..end].join("\n")));
        }
    }
    out
}

/// Every `<<message>>` of a rule file.
fn messages(text: &str) -> Vec<String> {
    text.split("<<")
        .skip(1)
        .filter_map(|s| s.split_once(">>").map(|(m, _)| m.trim().to_string()))
        .collect()
}

fn all_rules() -> BTreeSet<String> {
    rule_files()
        .iter()
        .flat_map(|(file, text)| rules(text).into_iter().map(move |(r, _)| format!("{file}/{r}")))
        .collect()
}

fn fixtures() -> Vec<(PathBuf, BTreeSet<String>)> {
    let dir = repo_root().join("cfn/guard/tests");
    let mut out: Vec<(PathBuf, BTreeSet<String>)> = std::fs::read_dir(&dir)
        .expect("cfn/guard/tests exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let expected: BTreeSet<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect-fail:"))
                .map(|r| r.trim().to_string())
                .filter(|r| r != "(none)")
                .collect();
            assert!(
                text.contains("# expect-fail:"),
                "{} has no `# expect-fail:` line",
                p.display()
            );
            (p, expected)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_rule_is_commented_and_has_a_custom_message() {
    for (file, text) in rule_files() {
        let lines: Vec<&str> = text.lines().collect();
        for (rule, body) in rules(&text) {
            let at = lines
                .iter()
                .position(|l| l.starts_with(&format!("rule {rule}")))
                .unwrap();
            assert!(
                at > 0 && lines[at - 1].starts_with('#'),
                "{file}/{rule} has no comment above it"
            );
            // Its clauses have messages, or it calls helper rules of the file that do.
            let helpers_with_messages = helpers(&text).into_iter().filter(|(_, b)| b.contains("<<"));
            let calls_helper = helpers_with_messages
                .clone()
                .any(|(h, _)| body.contains(&format!("{h}(")));
            assert!(
                body.contains("<<") || calls_helper,
                "{file}/{rule} has no custom message"
            );
        }
    }
}

/// Every template in cfn/, as `make lint` passes them to cfn-guard.
fn templates() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(repo_root().join("cfn"))
        .expect("read cfn/")
        .map(|e| e.expect("cfn/ entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .map(|name| format!("cfn/{name}"))
        .collect();
    found.sort();
    found
}

/// cfn-guard over every template with every rule, as `make lint` runs it
/// (with `summary` as the `--show-summary` value).
fn validate_templates(bin: &Path, summary: &str) -> (Output, String) {
    let data = templates();
    assert!(data.len() >= 4, "cfn/ has {data:?}");
    let mut args = vec!["validate"];
    for template in &data {
        args.extend(["--data", template.as_str()]);
    }
    args.extend(["--rules", "cfn/guard/", "--show-summary", summary]);
    run(bin, &args)
}

#[test]
fn the_templates_pass_and_every_rule_applies_to_one_of_them() {
    let Some(bin) = cfn_guard_or_skip("the_templates_pass_and_every_rule_applies_to_one_of_them") else {
        return;
    };
    // Exactly what `make test` runs.
    let (out, text) = validate_templates(&bin, "fail");
    assert!(out.status.success(), "cfn-guard failed on the templates:\n{text}");
    // No rule may be vacuous: each one passes on at least one template.
    let (out, text) = validate_templates(&bin, "all");
    assert!(out.status.success(), "{text}");
    let passed = rules_with_status(&text, "PASS");
    let rules = all_rules();
    let never: Vec<&String> = rules.difference(&passed).collect();
    assert!(
        never.is_empty(),
        "rules that never apply to a template (always SKIP): {never:?}"
    );
    assert!(rules_with_status(&text, "FAIL").is_empty(), "{text}");
}

#[test]
fn each_fixture_fails_exactly_the_rules_it_names() {
    let Some(bin) = cfn_guard_or_skip("each_fixture_fails_exactly_the_rules_it_names") else {
        return;
    };
    let files = rule_files();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 10);
    let rules = all_rules();
    for (path, expected) in &fixtures {
        let name = path.file_name().unwrap().to_string_lossy();
        let path = path.to_string_lossy();
        for rule in expected {
            assert!(rules.contains(rule), "{name} expects unknown rule {rule}");
        }
        let (out, text) = run(
            &bin,
            &[
                "validate",
                "--data",
                &path,
                "--rules",
                "cfn/guard/",
                "--show-summary",
                "fail",
            ],
        );
        let failed = rules_with_status(&text, "FAIL");
        assert_eq!(
            &failed, expected,
            "{name}: failed rules differ from its expect-fail lines\n{text}"
        );
        if expected.is_empty() {
            assert!(out.status.success(), "{name} should pass:\n{text}");
            assert!(
                name.starts_with("good-"),
                "{name}: a fixture that passes is named good-*"
            );
            continue;
        }
        assert!(
            !out.status.success(),
            "{name}: cfn-guard exited 0 on a violation\n{text}"
        );
        assert!(name.starts_with("bad-"), "{name}: a fixture that fails is named bad-*");
        // The failing clauses carry the rule file's custom messages. They are
        // read from the structured report: the default report prints a custom
        // message only for a failure it can pin on one resource
        // (aws-cloudformation/cloudformation-guard#443).
        let (_, json) = run(
            &bin,
            &[
                "validate",
                "--data",
                &path,
                "--rules",
                "cfn/guard/",
                "-o",
                "json",
                "--show-summary",
                "none",
            ],
        );
        let reported = custom_messages(&json);
        for rule in expected {
            let file = rule.split('/').next().unwrap();
            let (_, rule_text) = files.iter().find(|(f, _)| f == file).unwrap();
            assert!(
                messages(rule_text).iter().any(|m| reported.contains(m)),
                "{name}: no failing clause of {rule} reports one of {file}'s custom messages: {reported:?}\n{text}"
            );
        }
    }
}

/// Every `custom_message` in cfn-guard's JSON report (one JSON document per
/// data file and rule file, one after another).
fn custom_messages(report: &str) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(o) => o.iter().for_each(|(k, v)| match (k.as_str(), v) {
                ("custom_message", serde_json::Value::String(m)) => {
                    out.insert(m.trim().to_string());
                }
                _ => walk(v, out),
            }),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for doc in serde_json::Deserializer::from_str(report).into_iter::<serde_json::Value>() {
        walk(&doc.expect("cfn-guard's JSON report parses"), &mut out);
    }
    out
}

#[test]
fn every_rule_has_a_fixture_that_fails_it() {
    let covered: BTreeSet<String> = fixtures().into_iter().flat_map(|(_, e)| e).collect();
    let missing: Vec<String> = all_rules().difference(&covered).cloned().collect();
    assert!(
        missing.is_empty(),
        "rules with no failing fixture in cfn/guard/tests: {missing:?}"
    );
}

#[test]
fn the_parsers_here_read_what_they_should() {
    let summary = "x.yaml Status = FAIL\nFAILED rules\na.guard/one    FAIL\nb.guard/two    PASS\n---\nMessage = x FAIL";
    assert_eq!(
        rules_with_status(summary, "FAIL"),
        ["a.guard/one".to_string()].into_iter().collect()
    );
    let text = "# c\nrule one when %x !empty {\n  a == 1 <<fix a>>\n}\nrule helper(x) {\n  %x exists\n}\n";
    let found = rules(text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "one");
    assert_eq!(messages(text), ["fix a"]);
}

#[test]
fn a_missing_cfn_guard_is_fatal_only_in_ci_or_when_required() {
    assert!(!missing_tool_is_fatal(None, None), "a laptop without the tools skips");
    assert!(missing_tool_is_fatal(Some("true"), None));
    assert!(missing_tool_is_fatal(Some("TRUE"), None));
    assert!(missing_tool_is_fatal(None, Some("1")));
    assert!(missing_tool_is_fatal(Some("false"), Some("1")));
    for ci in [None, Some(""), Some("false"), Some("0")] {
        for require in [None, Some(""), Some("0"), Some("true"), Some("yes")] {
            assert!(
                !missing_tool_is_fatal(ci, require),
                "CI={ci:?} TANDEM_REQUIRE_TOOLS={require:?} must not be fatal"
            );
        }
    }
    assert!(INSTALL_HINT.contains("make setup") && INSTALL_HINT.contains(".tools/bin"));
}
