//! The function's settings, from its environment, checked once at start.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `TANDEM_ENV` | the environment; names the alarms (`tandem-<env>-`), the CodeDeploy group and the state table | required |
//! | `TANDEM_OPS_TOPIC_ARN` | the SNS topic every decision is published to | required |
//! | `TANDEM_RELEASE_ENGINE` | `codedeploy` or `ecs`: which engine releases the service, and so which calls stop and redeploy | `codedeploy` |
//! | `TANDEM_CLUSTER` | the ECS cluster of the service (`tandem-<env>`) | required under `ecs`, unread otherwise |
//! | `TANDEM_SERVICE` | the ECS service (`tandem-<env>-app`) | required under `ecs`, unread otherwise |
//! | `TANDEM_BAKE_WINDOW_SECS` | how long after a release an alarm still rolls it back | 1800 |
//! | `TANDEM_HOOK_FUNCTION` | the hook a redeploy's AppSpec names | `tandem-<env>-deploy-hook` |
//! | `TANDEM_CONTAINER_PORT` | the container port a redeploy targets | 8080 |
//! | `DRY_RUN` | `true`: decide and audit, act on nothing | `false` |
//! | `AWS_REGION` | this region (Lambda sets it) | required |

use crate::decide::Scope;
use crate::engine::Engine;
use crate::shell::Settings;

/// The default bake window: 30 minutes.
pub const DEFAULT_BAKE_WINDOW_SECS: u64 = 1800;

use tandem_core::release_engine::ReleaseEngine;
pub use tandem_core::settings::SettingError;
use tandem_core::settings::{flag, number, required};
use tandem_core::text::quote;

/// The variable that picks the release engine.
pub const RELEASE_ENGINE: &str = "TANDEM_RELEASE_ENGINE";

/// The engine `TANDEM_RELEASE_ENGINE` names (`codedeploy` when it is unset
/// or empty), with the service's names there.
pub fn engine(lookup: &impl Fn(&str) -> Option<String>, env: &str) -> Result<Engine, SettingError> {
    let chosen = lookup(RELEASE_ENGINE).unwrap_or_default();
    let named = chosen.trim().to_ascii_lowercase();
    let kind = if named.is_empty() {
        ReleaseEngine::default()
    } else {
        ReleaseEngine::parse(&named).map_err(|_| SettingError {
            name: RELEASE_ENGINE,
            reason: format!(
                "is {}; it must be codedeploy (the default when it is unset) or ecs",
                quote(&chosen)
            ),
        })?
    };
    match kind {
        ReleaseEngine::CodeDeploy => Ok(Engine::CodeDeploy {
            application: format!("tandem-{env}"),
            group: format!("tandem-{env}-app"),
        }),
        ReleaseEngine::Ecs => Ok(Engine::Ecs {
            cluster: required(
                lookup,
                "TANDEM_CLUSTER",
                "the ECS cluster of the service, such as tandem-dev, when TANDEM_RELEASE_ENGINE is ecs",
            )?,
            service: required(
                lookup,
                "TANDEM_SERVICE",
                "the ECS service, such as tandem-dev-app, when TANDEM_RELEASE_ENGINE is ecs",
            )?,
        }),
    }
}

/// The settings from `lookup` (the environment, or a map in tests).
pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
    let env = required(&lookup, "TANDEM_ENV", "the environment, such as dev")?;
    let region = required(&lookup, "AWS_REGION", "this function's region")?;
    let topic_arn = required(&lookup, "TANDEM_OPS_TOPIC_ARN", "the ARN of the ops topic")?;
    let dry_run = flag(&lookup, "DRY_RUN")?;
    Ok(Settings {
        scope: Scope {
            region,
            alarm_prefix: format!("tandem-{env}-"),
            engine: engine(&lookup, &env)?,
            bake_window_secs: number(&lookup, "TANDEM_BAKE_WINDOW_SECS", DEFAULT_BAKE_WINDOW_SECS)?,
        },
        topic_arn,
        dry_run,
        hook_function: lookup("TANDEM_HOOK_FUNCTION")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| format!("tandem-{env}-deploy-hook")),
        container_name: "app".into(),
        container_port: number(&lookup, "TANDEM_CONTAINER_PORT", 8080)?,
        state_table: tandem_core::state::StateTable::name_for(&env),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_testing::settings::lookup;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, SettingError> {
        from_lookup(lookup(pairs))
    }

    const BASE: [(&str, &str); 3] = [
        ("TANDEM_ENV", "dev"),
        ("AWS_REGION", "us-east-1"),
        ("TANDEM_OPS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:tandem"),
    ];

    #[test]
    fn the_environment_names_the_service_and_the_defaults_apply() {
        let s = with(&BASE).unwrap();
        assert_eq!(s.scope.alarm_prefix, "tandem-dev-");
        assert_eq!(
            s.scope.engine,
            Engine::CodeDeploy {
                application: "tandem-dev".into(),
                group: "tandem-dev-app".into()
            }
        );
        assert_eq!(s.scope.bake_window_secs, 1800);
        assert_eq!(s.hook_function, "tandem-dev-deploy-hook");
        assert!(!s.dry_run);
    }

    #[test]
    fn dry_run_and_the_bake_window_are_read_and_checked() {
        let mut pairs = BASE.to_vec();
        pairs.extend([("DRY_RUN", "TRUE"), ("TANDEM_BAKE_WINDOW_SECS", "600")]);
        let s = with(&pairs).unwrap();
        assert!(s.dry_run);
        assert_eq!(s.scope.bake_window_secs, 600);
        let mut bad = BASE.to_vec();
        bad.push(("DRY_RUN", "maybe"));
        assert_eq!(with(&bad).unwrap_err().name, "DRY_RUN");
        let mut bad = BASE.to_vec();
        bad.push(("TANDEM_BAKE_WINDOW_SECS", "half an hour"));
        let err = with(&bad).unwrap_err();
        assert_eq!(err.name, "TANDEM_BAKE_WINDOW_SECS");
        assert!(err.to_string().contains("not a whole number"), "{err}");
    }

    #[test]
    fn a_missing_setting_is_named() {
        for missing in ["TANDEM_ENV", "AWS_REGION", "TANDEM_OPS_TOPIC_ARN"] {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != missing).collect();
            assert_eq!(with(&pairs).unwrap_err().name, missing);
        }
    }

    #[test]
    fn the_engine_is_codedeploy_unless_it_says_ecs() {
        for value in [None, Some(""), Some("  "), Some("codedeploy"), Some("CodeDeploy")] {
            let mut pairs = BASE.to_vec();
            pairs.extend(value.map(|v| (RELEASE_ENGINE, v)));
            // The ECS names are not read under CodeDeploy.
            assert_eq!(with(&pairs).unwrap().scope.engine.setting(), "codedeploy", "{value:?}");
        }
        let mut pairs = BASE.to_vec();
        pairs.extend([
            (RELEASE_ENGINE, " ecs "),
            ("TANDEM_CLUSTER", "tandem-dev"),
            ("TANDEM_SERVICE", "tandem-dev-app"),
        ]);
        assert_eq!(
            with(&pairs).unwrap().scope.engine,
            Engine::Ecs {
                cluster: "tandem-dev".into(),
                service: "tandem-dev-app".into()
            }
        );
    }

    #[test]
    fn another_engine_is_refused_naming_the_variable_and_both_values() {
        let mut pairs = BASE.to_vec();
        pairs.push((RELEASE_ENGINE, "ecs-native"));
        let err = with(&pairs).unwrap_err();
        assert_eq!(err.name, "TANDEM_RELEASE_ENGINE");
        assert_eq!(
            err.to_string(),
            "setting TANDEM_RELEASE_ENGINE: is \"ecs-native\"; it must be codedeploy (the default when it is unset) or ecs"
        );
    }

    #[test]
    fn under_ecs_the_cluster_and_the_service_are_required_and_named() {
        for missing in ["TANDEM_CLUSTER", "TANDEM_SERVICE"] {
            let mut pairs = BASE.to_vec();
            pairs.extend(
                [
                    (RELEASE_ENGINE, "ecs"),
                    ("TANDEM_CLUSTER", "tandem-dev"),
                    ("TANDEM_SERVICE", "tandem-dev-app"),
                ]
                .into_iter()
                .filter(|(k, _)| *k != missing),
            );
            let err = with(&pairs).unwrap_err();
            assert_eq!(err.name, missing);
            assert!(err.to_string().contains("when TANDEM_RELEASE_ENGINE is ecs"), "{err}");
        }
    }
}
