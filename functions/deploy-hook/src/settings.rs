//! The function's settings, from its environment, checked once at start.

use std::time::Duration;

/// One smoke path and the status it must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokePath {
    /// Such as `/health`.
    pub path: String,
    /// Such as 200.
    pub status: u16,
}

/// What the hook checks, and how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The test listener, whose default action forwards to the green target
    /// group (CodeDeploy moves it).
    pub test_listener_arn: String,
    /// The test listener's rule that ECS-native blue/green moves between the
    /// two target groups (`TANDEM_TEST_LISTENER_RULE_ARN`): when set, green
    /// is the group this rule forwards to, not the listener's default action's.
    pub test_listener_rule_arn: Option<String>,
    /// The paths to probe on each green target, the health path
    /// (`TANDEM_HEALTH_PATH`, `/health` by default) first.
    pub smoke_paths: Vec<SmokePath>,
    /// The most the whole validation may take (also bounded by the Lambda deadline).
    pub budget: Duration,
    /// The wait between observations while the targets are not ready.
    pub interval: Duration,
    /// The most one probe may take.
    pub probe_timeout: Duration,
    /// The state table for the audit trail (`TANDEM_STATE_TABLE`).
    pub state_table: Option<String>,
    /// `http` or `https`: how the tasks serve (`TANDEM_PROBE_SCHEME`; HTTPS
    /// behind the ALB's HTTPS target groups on AWS).
    pub probe_scheme: &'static str,
}

pub use tandem_core::settings::SettingError;

/// The health path when `TANDEM_HEALTH_PATH` is not set.
pub const DEFAULT_HEALTH_PATH: &str = "/health";

/// The defaults: a 4-minute budget, a look every 5 s, 5 s per probe.
pub const DEFAULT_BUDGET_SECS: u64 = 240;
const DEFAULT_INTERVAL_SECS: u64 = 5;
const DEFAULT_PROBE_TIMEOUT_SECS: u64 = 5;

impl Settings {
    /// From `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let test_listener_arn = lookup("TANDEM_TEST_LISTENER_ARN")
            .filter(|v| v.starts_with("arn:"))
            .ok_or_else(|| SettingError {
                name: "TANDEM_TEST_LISTENER_ARN",
                reason: "must be the ARN of the ALB's test listener (the template sets it)".into(),
            })?;
        let test_listener_rule_arn = listener_rule(lookup("TANDEM_TEST_LISTENER_RULE_ARN"))?;
        let health_path = health_path(lookup("TANDEM_HEALTH_PATH"))?;
        let smoke_paths = parse_smoke_paths(&lookup("TANDEM_SMOKE_PATHS").unwrap_or_default(), &health_path)?;
        let secs = |name: &'static str, default: u64, max: u64| -> Result<Duration, SettingError> {
            match lookup(name) {
                None => Ok(Duration::from_secs(default)),
                Some(text) => match text.trim().parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(Duration::from_secs(n)),
                    _ => Err(SettingError {
                        name,
                        reason: format!(
                            "{} is not a whole number of seconds from 1 to {max}",
                            tandem_core::text::quote(&text)
                        ),
                    }),
                },
            }
        };
        Ok(Self {
            test_listener_arn,
            test_listener_rule_arn,
            smoke_paths,
            budget: secs("TANDEM_HOOK_BUDGET_SECS", DEFAULT_BUDGET_SECS, 840)?,
            interval: secs("TANDEM_PROBE_INTERVAL_SECS", DEFAULT_INTERVAL_SECS, 60)?,
            probe_timeout: secs("TANDEM_PROBE_TIMEOUT_SECS", DEFAULT_PROBE_TIMEOUT_SECS, 30)?,
            state_table: lookup("TANDEM_STATE_TABLE").filter(|t| !t.trim().is_empty()),
            probe_scheme: match lookup("TANDEM_PROBE_SCHEME").as_deref().map(str::trim) {
                None | Some("" | "http") => "http",
                Some("https") => "https",
                Some(other) => {
                    return Err(SettingError {
                        name: "TANDEM_PROBE_SCHEME",
                        reason: format!(
                            "{} is neither \"http\" nor \"https\" (how the tasks serve)",
                            tandem_core::text::quote(other)
                        ),
                    });
                }
            },
        })
    }
}

/// `TANDEM_TEST_LISTENER_RULE_ARN`: unset or blank is none (green is then
/// the test listener's default action's group); otherwise a listener rule's ARN.
fn listener_rule(value: Option<String>) -> Result<Option<String>, SettingError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.starts_with("arn:") && value.contains(":listener-rule/") && !value.contains(char::is_whitespace) {
        return Ok(Some(value));
    }
    Err(SettingError {
        name: "TANDEM_TEST_LISTENER_RULE_ARN",
        reason: format!(
            "{} is not a listener rule's ARN: give the ECS service's TestListenerRule \
             (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/...), or unset it to read \
             the test listener's default action",
            tandem_core::text::quote(&value)
        ),
    })
}

/// `TANDEM_HEALTH_PATH`: [`DEFAULT_HEALTH_PATH`] when unset or blank;
/// otherwise a path with a leading `/` and no spaces.
fn health_path(value: Option<String>) -> Result<String, SettingError> {
    let Some(path) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_HEALTH_PATH.to_owned());
    };
    if path.starts_with('/') && !path.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Ok(path);
    }
    Err(SettingError {
        name: "TANDEM_HEALTH_PATH",
        reason: format!(
            "{} is not a path: give the path the app answers 200 on when it can serve, such as \"/health\" \
             (a leading /, no spaces)",
            tandem_core::text::quote(&path)
        ),
    })
}

/// `"/version=200,/db=200"`: `health=200` (the health path) always comes first.
pub fn parse_smoke_paths(text: &str, health: &str) -> Result<Vec<SmokePath>, SettingError> {
    let fail = |reason: String| SettingError {
        name: "TANDEM_SMOKE_PATHS",
        reason,
    };
    let mut paths = vec![SmokePath {
        path: health.to_owned(),
        status: 200,
    }];
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (path, status) = part.split_once('=').unwrap_or((part, "200"));
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            return Err(fail(format!(
                "{} is not a path: write paths such as \"/version=200,/db=200\"",
                tandem_core::text::quote(path)
            )));
        }
        let status: u16 = status
            .trim()
            .parse()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| fail(format!("the status for {path} must be an HTTP status from 100 to 599")))?;
        if !paths.iter().any(|p| p.path == path) {
            paths.push(SmokePath {
                path: path.to_owned(),
                status,
            });
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_testing::settings::lookup;

    const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/tandem-dev/1/2";

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingError> {
        Settings::from_lookup(lookup(vars))
    }

    #[test]
    fn defaults_need_only_the_listener() {
        let s = settings(&[("TANDEM_TEST_LISTENER_ARN", LISTENER)]).unwrap();
        assert_eq!(s.budget, Duration::from_secs(DEFAULT_BUDGET_SECS));
        assert_eq!(
            s.smoke_paths,
            [SmokePath {
                path: "/health".into(),
                status: 200
            }]
        );
        assert_eq!(s.state_table, None);
        assert_eq!(
            s.test_listener_rule_arn, None,
            "green is the listener's default action's group"
        );
    }

    #[test]
    fn a_missing_listener_is_named_with_the_fix() {
        let e = settings(&[]).unwrap_err();
        assert_eq!(e.name, "TANDEM_TEST_LISTENER_ARN");
        assert!(e.to_string().contains("the template sets it"), "{e}");
    }

    #[test]
    fn smoke_paths_keep_health_first_and_take_statuses() {
        let paths = parse_smoke_paths("/version, /db=200,/gone=404,/health=200", "/health").unwrap();
        let got: Vec<(&str, u16)> = paths.iter().map(|p| (p.path.as_str(), p.status)).collect();
        assert_eq!(got, [("/health", 200), ("/version", 200), ("/db", 200), ("/gone", 404)]);
        assert!(
            parse_smoke_paths("version=200", "/health")
                .unwrap_err()
                .reason
                .contains("not a path")
        );
        assert!(
            parse_smoke_paths("/x=abc", "/health")
                .unwrap_err()
                .reason
                .contains("100 to 599")
        );
        assert!(parse_smoke_paths("/x=700", "/health").is_err());
    }

    #[test]
    fn bad_durations_name_the_variable_and_the_range() {
        let e = settings(&[("TANDEM_TEST_LISTENER_ARN", LISTENER), ("TANDEM_HOOK_BUDGET_SECS", "0")]).unwrap_err();
        assert_eq!(e.name, "TANDEM_HOOK_BUDGET_SECS");
        assert!(e.reason.contains("from 1 to 840"), "{e}");
        let s = settings(&[
            ("TANDEM_TEST_LISTENER_ARN", LISTENER),
            ("TANDEM_PROBE_INTERVAL_SECS", "2"),
        ])
        .unwrap();
        assert_eq!(s.interval, Duration::from_secs(2));
    }

    #[test]
    fn the_probes_follow_how_the_tasks_serve() {
        let scheme = |v: Option<&str>| {
            let mut vars = vec![("TANDEM_TEST_LISTENER_ARN", LISTENER)];
            vars.extend(v.map(|v| ("TANDEM_PROBE_SCHEME", v)));
            settings(&vars).map(|s| s.probe_scheme)
        };
        assert_eq!(scheme(None).unwrap(), "http");
        assert_eq!(scheme(Some("https")).unwrap(), "https");
        let e = scheme(Some("ftp")).unwrap_err();
        assert_eq!(e.name, "TANDEM_PROBE_SCHEME");
        assert!(e.reason.contains("\"ftp\""), "{}", e.reason);
    }

    const RULE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/tandem-dev/1/2/3";

    #[test]
    fn the_test_listener_rule_is_taken_when_set_and_refused_when_not_a_rule() {
        let rule = |v: &str| {
            settings(&[
                ("TANDEM_TEST_LISTENER_ARN", LISTENER),
                ("TANDEM_TEST_LISTENER_RULE_ARN", v),
            ])
        };
        assert_eq!(rule(RULE).unwrap().test_listener_rule_arn.as_deref(), Some(RULE));
        assert_eq!(
            rule(&format!(" {RULE} ")).unwrap().test_listener_rule_arn.as_deref(),
            Some(RULE)
        );
        assert_eq!(rule("  ").unwrap().test_listener_rule_arn, None, "blank is unset");
        for bad in [LISTENER, "TestListenerRule", "listener-rule/app/x/1/2/3"] {
            let e = rule(bad).unwrap_err();
            assert_eq!(e.name, "TANDEM_TEST_LISTENER_RULE_ARN");
            assert!(
                e.reason.contains("TestListenerRule") && e.reason.contains("unset it"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_health_path_comes_first_and_defaults_to_health() {
        let with = |v: Option<&str>| {
            let mut vars = vec![
                ("TANDEM_TEST_LISTENER_ARN", LISTENER),
                ("TANDEM_SMOKE_PATHS", "/version=200"),
            ];
            vars.extend(v.map(|v| ("TANDEM_HEALTH_PATH", v)));
            settings(&vars).map(|s| {
                s.smoke_paths
                    .into_iter()
                    .map(|p| (p.path, p.status))
                    .collect::<Vec<_>>()
            })
        };
        let paths = |list: &[(&str, u16)]| list.iter().map(|(p, s)| ((*p).to_owned(), *s)).collect::<Vec<_>>();
        assert_eq!(with(None).unwrap(), paths(&[("/health", 200), ("/version", 200)]));
        assert_eq!(with(Some("")).unwrap(), paths(&[("/health", 200), ("/version", 200)]));
        assert_eq!(
            with(Some("/healthz")).unwrap(),
            paths(&[("/healthz", 200), ("/version", 200)])
        );
        for bad in ["healthz", "/health check"] {
            let e = with(Some(bad)).unwrap_err();
            assert_eq!(e.name, "TANDEM_HEALTH_PATH");
            assert!(e.reason.contains("a leading /"), "{e}");
        }
        // A smoke path that repeats the health path does not probe it twice.
        let twice = parse_smoke_paths("/ready=200,/version", "/ready").unwrap();
        assert_eq!(twice.iter().filter(|p| p.path == "/ready").count(), 1);
        assert_eq!(twice[0].path, "/ready");
    }
}
