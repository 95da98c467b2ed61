//! The release settings of an environment: which engine releases the
//! service (`release_engine`), how ECS-native blue/green moves traffic
//! (`[ecs_release]`), and the app contract (`[app]`): what any service must
//! tell tandem for a release to start and check it. Each setting becomes a
//! parameter of the region stacks ([`RegionRelease::parameters`]).

use super::app::App;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Which engine releases the service: `codedeploy` (the default) or `ecs`.
pub(crate) use tandem_core::release_engine::ReleaseEngine;

/// How ECS-native blue/green moves production traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum EcsStrategy {
    /// All traffic at once after the test-traffic checks.
    BlueGreen,
    /// Equal steps, each baked.
    Linear,
    /// One share first, baked, then the rest (the default, as CodeDeploy's canary).
    #[default]
    Canary,
}

impl EcsStrategy {
    /// The value of `DeploymentConfiguration.Strategy`.
    pub(crate) fn parameter(self) -> &'static str {
        match self {
            Self::BlueGreen => "BLUE_GREEN",
            Self::Linear => "LINEAR",
            Self::Canary => "CANARY",
        }
    }
}

/// `[ecs_release]`: read when `release_engine = "ecs"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct EcsRelease {
    /// `BLUE_GREEN`, `LINEAR` or `CANARY`.
    pub(crate) strategy: EcsStrategy,
    /// Minutes blue and green both run after production moved, with the
    /// alarms able to roll back (ECS's `BakeTimeInMinutes`).
    pub(crate) bake_minutes: u32,
    /// `CANARY`: the share of production traffic moved first (1 to 99).
    pub(crate) canary_percent: u32,
    /// `CANARY`: minutes the first share runs before the rest moves.
    pub(crate) canary_bake_minutes: u32,
    /// `LINEAR`: the share moved at each step (3 to 100).
    pub(crate) linear_step_percent: u32,
    /// `LINEAR`: minutes between two steps.
    pub(crate) linear_step_bake_minutes: u32,
    /// Hold the production shift until a person runs `tandem release --approve`
    /// (or `--reject`): a pause hook after the test-traffic checks.
    pub(crate) approval: bool,
    /// Minutes the pause waits for a person before ECS rolls back.
    pub(crate) approval_timeout_minutes: u32,
}

impl Default for EcsRelease {
    fn default() -> Self {
        Self {
            strategy: EcsStrategy::Canary,
            bake_minutes: 15,
            canary_percent: 10,
            canary_bake_minutes: 5,
            linear_step_percent: 25,
            linear_step_bake_minutes: 2,
            approval: false,
            approval_timeout_minutes: 20,
        }
    }
}

/// The most minutes a release may wait in all: the release resource's
/// `ServiceTimeout` is an hour, and the hooks, scaling and clean-up need
/// the rest.
pub(crate) const MOST_RELEASE_WAIT_MINUTES: u32 = 45;

impl EcsRelease {
    /// Minutes a release spends waiting by design: the traffic steps' bakes,
    /// the bake time and the approval's timeout.
    pub(crate) fn waiting_minutes(&self) -> u32 {
        let shifting = match self.strategy {
            EcsStrategy::BlueGreen => 0,
            EcsStrategy::Canary => self.canary_bake_minutes,
            // ceil(100 / step) steps, the last one not baked.
            EcsStrategy::Linear => {
                let steps = 100_u32.div_ceil(self.linear_step_percent.max(1));
                steps.saturating_sub(1) * self.linear_step_bake_minutes
            }
        };
        let approval = if self.approval {
            self.approval_timeout_minutes
        } else {
            0
        };
        self.bake_minutes + shifting + approval
    }

    /// The local AWS keeps a stack parameter's string where ECS answers an
    /// integer, so the region template gives it the defaults as literals:
    /// a number set for `local` would do nothing there.
    fn check_local(&self) -> Result<(), String> {
        let default = Self::default();
        let numbers = [
            ("bake_minutes", self.bake_minutes, default.bake_minutes),
            ("canary_percent", self.canary_percent, default.canary_percent),
            (
                "canary_bake_minutes",
                self.canary_bake_minutes,
                default.canary_bake_minutes,
            ),
            (
                "linear_step_percent",
                self.linear_step_percent,
                default.linear_step_percent,
            ),
            (
                "linear_step_bake_minutes",
                self.linear_step_bake_minutes,
                default.linear_step_bake_minutes,
            ),
            (
                "approval_timeout_minutes",
                self.approval_timeout_minutes,
                default.approval_timeout_minutes,
            ),
        ];
        match numbers.iter().find(|(_, value, default)| value != default) {
            Some((key, value, default)) => Err(format!(
                "ecs_release.{key} = {value}: the local environment takes the default ({default}), because the \
                 local AWS keeps these numbers as strings that ECS's answers cannot carry; remove it from config/local.toml"
            )),
            None => Ok(()),
        }
    }

    fn check(&self) -> Result<(), String> {
        let ranges = [
            ("bake_minutes", self.bake_minutes, 0, 1440),
            ("canary_percent", self.canary_percent, 1, 99),
            ("canary_bake_minutes", self.canary_bake_minutes, 0, 1440),
            ("linear_step_percent", self.linear_step_percent, 3, 100),
            ("linear_step_bake_minutes", self.linear_step_bake_minutes, 0, 1440),
            ("approval_timeout_minutes", self.approval_timeout_minutes, 1, 1440),
        ];
        for (key, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                return Err(format!(
                    "ecs_release.{key} = {value}: use a whole number from {low} to {high}"
                ));
            }
        }
        let waiting = self.waiting_minutes();
        if waiting > MOST_RELEASE_WAIT_MINUTES {
            return Err(format!(
                "[ecs_release] makes a release wait {waiting} minutes (bake, traffic steps and approval), \
                 but a release must end within an hour: keep the sum at {MOST_RELEASE_WAIT_MINUTES} minutes or less \
                 (shorten bake_minutes, the step bakes or approval_timeout_minutes)"
            ));
        }
        Ok(())
    }
}

/// The release settings of one environment, as the region stacks take them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RegionRelease<'a> {
    /// The engine.
    pub(crate) engine: ReleaseEngine,
    /// `[ecs_release]`.
    pub(crate) ecs: &'a EcsRelease,
    /// `[app]`.
    pub(crate) app: &'a App,
}

impl RegionRelease<'_> {
    /// The region stack's parameters that the release settings set, each
    /// one of them whatever the settings' values.
    pub(crate) fn parameters(&self) -> BTreeMap<String, String> {
        let (ecs, app) = (self.ecs, self.app);
        let pairs = |map: &BTreeMap<String, String>| {
            map.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        [
            ("ReleaseEngine", self.engine.as_str().to_owned()),
            ("EcsStrategy", ecs.strategy.parameter().to_owned()),
            ("EcsBakeMinutes", ecs.bake_minutes.to_string()),
            ("EcsCanaryPercent", ecs.canary_percent.to_string()),
            ("EcsCanaryBakeMinutes", ecs.canary_bake_minutes.to_string()),
            ("EcsLinearStepPercent", ecs.linear_step_percent.to_string()),
            ("EcsLinearStepBakeMinutes", ecs.linear_step_bake_minutes.to_string()),
            ("ReleaseApproval", ecs.approval.to_string()),
            ("ApprovalTimeoutMinutes", ecs.approval_timeout_minutes.to_string()),
            ("HealthPath", app.health_path.clone()),
            ("SmokePaths", app.smoke_paths.join(",")),
            ("ContainerPort", app.container_port.to_string()),
            ("TaskCpu", app.cpu.clone()),
            ("TaskMemory", app.memory.clone()),
            ("AppEnvironment", pairs(&app.environment)),
            ("AppSecrets", pairs(&app.secrets)),
            (
                "AppSecretArns",
                app.secrets.values().cloned().collect::<Vec<_>>().join(","),
            ),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }
}

/// Checks the release settings of a configuration.
pub(crate) fn check(
    engine: ReleaseEngine,
    ecs: &EcsRelease,
    app: &App,
    region_parameters: &BTreeMap<String, String>,
    is_local: bool,
) -> Result<(), String> {
    let set_here = RegionRelease { engine, ecs, app }.parameters();
    if let Some(name) = set_here.keys().find(|p| region_parameters.contains_key(*p)) {
        return Err(format!(
            "region_parameters sets {name}, which release_engine, [ecs_release] or [app] sets: move it there \
             (see docs/configuration.md)"
        ));
    }
    if engine == ReleaseEngine::CodeDeploy && *ecs != EcsRelease::default() {
        return Err(
            "[ecs_release] is set, but release_engine is \"codedeploy\", which does not read it: \
             set release_engine = \"ecs\", or remove [ecs_release]"
                .into(),
        );
    }
    ecs.check()?;
    if is_local {
        ecs.check_local()?;
    }
    app.check(is_local)
}

#[cfg(test)]
mod tests;
