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
    /// The test listener, whose default action forwards to the green target group.
    pub test_listener_arn: String,
    /// The paths to probe on each green target, `/health` first.
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
        let smoke_paths = parse_smoke_paths(&lookup("TANDEM_SMOKE_PATHS").unwrap_or_default())?;
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

/// `"/version=200,/db=200"`: `/health=200` always comes first.
pub fn parse_smoke_paths(text: &str) -> Result<Vec<SmokePath>, SettingError> {
    let fail = |reason: String| SettingError {
        name: "TANDEM_SMOKE_PATHS",
        reason,
    };
    let mut paths = vec![SmokePath {
        path: "/health".into(),
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
    }

    #[test]
    fn a_missing_listener_is_named_with_the_fix() {
        let e = settings(&[]).unwrap_err();
        assert_eq!(e.name, "TANDEM_TEST_LISTENER_ARN");
        assert!(e.to_string().contains("the template sets it"), "{e}");
    }

    #[test]
    fn smoke_paths_keep_health_first_and_take_statuses() {
        let paths = parse_smoke_paths("/version, /db=200,/gone=404,/health=200").unwrap();
        let got: Vec<(&str, u16)> = paths.iter().map(|p| (p.path.as_str(), p.status)).collect();
        assert_eq!(got, [("/health", 200), ("/version", 200), ("/db", 200), ("/gone", 404)]);
        assert!(
            parse_smoke_paths("version=200")
                .unwrap_err()
                .reason
                .contains("not a path")
        );
        assert!(parse_smoke_paths("/x=abc").unwrap_err().reason.contains("100 to 599"));
        assert!(parse_smoke_paths("/x=700").is_err());
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
}
