//! The function's settings, from its environment, checked once at start.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `TANDEM_ENV` | the environment; names the state table | required |
//! | `AWS_REGION` | this region (Lambda sets it) | required |
//! | `TANDEM_PEER_REGION` | the other region | required |
//! | `TANDEM_CONFIGURED_PRIMARY` | the primary while no roles are recorded | required |
//! | `TANDEM_OPS_TOPIC_ARN` | the SNS topic decisions are published to | required |
//! | `TANDEM_DB_INSTANCE` | this region's database instance | required |
//! | `TANDEM_DB_ENDPOINT_SECRET` | this region's endpoint secret (overrides the credentials secret's host) | `tandem-<env>/db-endpoint` |
//! | `TANDEM_OWN_HEALTH_URL` | this region's public `/health` | required |
//! | `TANDEM_PEER_HEALTH_URL` | the other region's public `/health`; empty: not known yet | empty |
//! | `TANDEM_FAILURE_THRESHOLD` | consecutive failed probes that mean "down" | 3 |
//! | `TANDEM_PROBE_INTERVAL_SECS` | between probes within one invocation | 10 |
//! | `TANDEM_PROBE_TIMEOUT_SECS` | the most one probe may take | 5 |
//! | `TANDEM_RPO_SECS` | the most replica lag a promotion accepts | 60 |
//! | `TANDEM_ROUND_SECS` | how long one scheduled invocation keeps probing | 50 |
//! | `TANDEM_LOCK_LEASE_SECS` | how long a holder keeps the lock without finishing | 660 |
//! | `DRY_RUN` | `true`: decide and audit, act on nothing | `false` |

use crate::decide::Limits;
pub use tandem_core::settings::SettingError;
use tandem_core::settings::{flag, number, required};

/// Everything the function needs besides its clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The environment, such as `dev` (the traffic fence's metric carries it).
    pub env: String,
    /// This region.
    pub region: String,
    /// The other region.
    pub peer_region: String,
    /// The primary while no roles are recorded.
    pub configured_primary: String,
    /// The ops topic.
    pub topic_arn: String,
    /// This region's database instance.
    pub db_instance: String,
    /// This region's endpoint secret, which a promotion points at the new writer.
    pub db_endpoint_secret: String,
    /// This region's public `/health`.
    pub own_health_url: String,
    /// The other region's public `/health` (empty: not known yet).
    pub peer_health_url: String,
    /// When to promote.
    pub limits: Limits,
    /// Seconds between probes.
    pub probe_interval_secs: u64,
    /// The most one probe may take.
    pub probe_timeout_secs: u64,
    /// How long one scheduled invocation keeps probing.
    pub round_secs: u64,
    /// How long a holder keeps the lock without finishing.
    pub lease_secs: u64,
    /// Decide and audit, act on nothing.
    pub dry_run: bool,
    /// This region's state table.
    pub state_table: String,
}

/// The settings from `lookup` (the environment, or a map in tests).
pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
    let env = required(&lookup, "TANDEM_ENV", "the environment, such as dev")?;
    let region = required(&lookup, "AWS_REGION", "this function's region")?;
    let peer_region = required(&lookup, "TANDEM_PEER_REGION", "the other region")?;
    if peer_region == region {
        return Err(SettingError {
            name: "TANDEM_PEER_REGION",
            reason: format!("is {region}, this function's own region; it must be the other one"),
        });
    }
    let threshold: u32 = number(&lookup, "TANDEM_FAILURE_THRESHOLD", 3)?;
    if threshold == 0 {
        return Err(SettingError {
            name: "TANDEM_FAILURE_THRESHOLD",
            reason: "is 0, which would fail over with no failed probe; use 1 or more".into(),
        });
    }
    let probe_interval_secs = number(&lookup, "TANDEM_PROBE_INTERVAL_SECS", 10)?;
    if probe_interval_secs == 0 {
        return Err(SettingError {
            name: "TANDEM_PROBE_INTERVAL_SECS",
            reason: "is 0; use 1 or more seconds".into(),
        });
    }
    Ok(Settings {
        configured_primary: required(&lookup, "TANDEM_CONFIGURED_PRIMARY", "the configured primary region")?,
        topic_arn: required(&lookup, "TANDEM_OPS_TOPIC_ARN", "the ARN of the ops topic")?,
        db_instance: required(&lookup, "TANDEM_DB_INSTANCE", "this region's database instance")?,
        db_endpoint_secret: lookup("TANDEM_DB_ENDPOINT_SECRET")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| format!("tandem-{env}/db-endpoint")),
        own_health_url: required(&lookup, "TANDEM_OWN_HEALTH_URL", "this region's public /health URL")?,
        peer_health_url: lookup("TANDEM_PEER_HEALTH_URL").unwrap_or_default().trim().to_owned(),
        limits: Limits {
            threshold,
            rpo_secs: number(&lookup, "TANDEM_RPO_SECS", 60)?,
        },
        probe_interval_secs,
        probe_timeout_secs: number(&lookup, "TANDEM_PROBE_TIMEOUT_SECS", 5)?,
        round_secs: number(&lookup, "TANDEM_ROUND_SECS", 50)?,
        lease_secs: number(&lookup, "TANDEM_LOCK_LEASE_SECS", 660)?,
        dry_run: flag(&lookup, "DRY_RUN")?,
        state_table: tandem_core::state::StateTable::name_for(&env),
        env,
        region,
        peer_region,
    })
}

/// The required variables of a standby in us-east-2 of environment `env`,
/// with the values a deploy gives them (health URLs aside), as a lookup for
/// [`from_lookup`]: every other setting at its default. Tests start from it.
pub fn standby_example(env: &str) -> impl Fn(&str) -> Option<String> + use<> {
    let vars = [
        ("TANDEM_ENV", env.to_owned()),
        ("AWS_REGION", "us-east-2".to_owned()),
        ("TANDEM_PEER_REGION", "us-east-1".to_owned()),
        ("TANDEM_CONFIGURED_PRIMARY", "us-east-1".to_owned()),
        (
            "TANDEM_OPS_TOPIC_ARN",
            format!("arn:aws:sns:us-east-2:000000000000:tandem-{env}-ops"),
        ),
        ("TANDEM_DB_INSTANCE", format!("tandem-{env}-db-replica")),
        ("TANDEM_OWN_HEALTH_URL", "https://own.example/health".to_owned()),
        ("TANDEM_PEER_HEALTH_URL", "https://peer.example/health".to_owned()),
    ];
    move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_testing::settings::lookup;

    pub(crate) const BASE: [(&str, &str); 7] = [
        ("TANDEM_ENV", "dev"),
        ("AWS_REGION", "us-east-2"),
        ("TANDEM_PEER_REGION", "us-east-1"),
        ("TANDEM_CONFIGURED_PRIMARY", "us-east-1"),
        ("TANDEM_OPS_TOPIC_ARN", "arn:aws:sns:us-east-2:1:tandem-dev-ops"),
        ("TANDEM_DB_INSTANCE", "tandem-dev-db-replica"),
        ("TANDEM_OWN_HEALTH_URL", "https://own.example/health"),
    ];

    fn with(extra: &[(&str, &str)]) -> Result<Settings, SettingError> {
        from_lookup(lookup(&[&BASE[..], extra].concat()))
    }

    #[test]
    fn the_defaults_are_three_probes_ten_seconds_apart_and_a_minute_of_lag() {
        let s = with(&[]).unwrap();
        assert_eq!((s.limits.threshold, s.limits.rpo_secs), (3, 60));
        assert_eq!((s.probe_interval_secs, s.round_secs, s.lease_secs), (10, 50, 660));
        assert_eq!(s.db_endpoint_secret, "tandem-dev/db-endpoint");
        assert_eq!(s.state_table, "tandem-dev-state");
        assert!(s.peer_health_url.is_empty() && !s.dry_run);
    }

    #[test]
    fn bad_values_are_named() {
        for (name, value) in [
            ("TANDEM_PEER_REGION", "us-east-2"),
            ("TANDEM_FAILURE_THRESHOLD", "0"),
            ("TANDEM_FAILURE_THRESHOLD", "three"),
            ("TANDEM_PROBE_INTERVAL_SECS", "0"),
            ("TANDEM_RPO_SECS", "-1"),
            ("DRY_RUN", "perhaps"),
        ] {
            assert_eq!(with(&[(name, value)]).unwrap_err().name, name, "{name}={value}");
        }
    }

    #[test]
    fn a_missing_setting_is_named() {
        for (missing, _) in BASE {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != missing).collect();
            let e = from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(e.name, missing);
        }
    }
}
