//! The function's settings, from its environment, checked once at start.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `TANDEM_ENV` | the environment; names the state table | required |
//! | `TANDEM_WEBHOOK_SECRET_ARN` | the secret that holds the webhook's URL | required |
//! | `TANDEM_WEBHOOK_TIMEOUT_SECS` | how long a post may take, connecting included | 10 |
//! | `AWS_REGION` | this region (Lambda sets it) | required |
//!
//! `SSL_CERT_FILE`, when set, replaces the system's TLS roots (only the local
//! AWS's end-to-end suite sets it, to trust its own receiver).

pub use tandem_core::settings::SettingError;
use tandem_core::settings::{number, required};

/// What the shell needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// This region.
    pub region: String,
    /// The secret holding the webhook's URL (its ARN, or its name).
    pub secret_id: String,
    /// How long a post may take, in seconds.
    pub timeout_secs: u64,
    /// This region's state table.
    pub state_table: String,
}

/// The default time a post may take: 10 s (Slack answers in well under one).
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// The settings from `lookup` (the environment, or a map in tests).
pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
    let env = required(&lookup, "TANDEM_ENV", "the environment, such as dev")?;
    let timeout_secs = number(&lookup, "TANDEM_WEBHOOK_TIMEOUT_SECS", DEFAULT_TIMEOUT_SECS)?;
    if timeout_secs == 0 {
        return Err(SettingError {
            name: "TANDEM_WEBHOOK_TIMEOUT_SECS",
            reason: "is 0; give the seconds a post may take, or unset it for 10".into(),
        });
    }
    Ok(Settings {
        region: required(&lookup, "AWS_REGION", "this function's region")?,
        secret_id: required(&lookup, "TANDEM_WEBHOOK_SECRET_ARN", "the ARN of the webhook's secret")?,
        timeout_secs,
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
        ("AWS_REGION", "us-east-2"),
        (
            "TANDEM_WEBHOOK_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-2:1:secret:tandem-dev/ops-webhook-AbCd",
        ),
    ];

    #[test]
    fn the_environment_names_the_table_and_the_default_timeout_applies() {
        let s = with(&BASE).unwrap();
        assert_eq!(s.state_table, "tandem-dev-state");
        assert_eq!((s.region.as_str(), s.timeout_secs), ("us-east-2", 10));
        assert!(s.secret_id.ends_with("ops-webhook-AbCd"));
    }

    #[test]
    fn the_timeout_is_read_and_checked() {
        let mut pairs = BASE.to_vec();
        pairs.push(("TANDEM_WEBHOOK_TIMEOUT_SECS", "3"));
        assert_eq!(with(&pairs).unwrap().timeout_secs, 3);
        for bad in ["0", "soon"] {
            let mut pairs = BASE.to_vec();
            pairs.push(("TANDEM_WEBHOOK_TIMEOUT_SECS", bad));
            assert_eq!(with(&pairs).unwrap_err().name, "TANDEM_WEBHOOK_TIMEOUT_SECS", "{bad}");
        }
    }

    #[test]
    fn a_missing_setting_is_named() {
        for missing in ["TANDEM_ENV", "AWS_REGION", "TANDEM_WEBHOOK_SECRET_ARN"] {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != missing).collect();
            assert_eq!(with(&pairs).unwrap_err().name, missing);
        }
    }
}
