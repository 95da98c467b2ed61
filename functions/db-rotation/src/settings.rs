//! The function's settings, from its environment, checked once at start.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `TANDEM_ENV` | the environment (for the logs) | required |
//! | `AWS_REGION` | this region (Lambda sets it) | required |
//! | `TANDEM_EXCLUDE_CHARACTERS` | characters a new password leaves out, besides [`ALWAYS_EXCLUDED`] | none more |
//! | `TANDEM_DB_TLS` | `required` or `disabled`: TLS to the database (`disabled`: local tests only) | `required` |
//! | `TANDEM_DB_CA_FILE` | a PEM bundle that the database's certificate must chain to (RDS: its CA bundle) | the built-in web roots |
//!
//! The TLS settings read as the app's do (`app/src/config.rs`).

use crate::db::DbTls;
use std::path::PathBuf;
pub use tandem_core::settings::SettingError;
use tandem_core::settings::required;
use tandem_core::text::quote;

/// Characters no password of this function holds, whatever the setting:
/// the quotes and backslash of SQL and JSON text, and `@` and `/`, which
/// break a connection URL. (Passwords hold no space either: only printable
/// ASCII from `!` to `~` is drawn.)
pub const ALWAYS_EXCLUDED: &str = "\"'\\@/";

/// What the shell needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The environment.
    pub env: String,
    /// This region.
    pub region: String,
    /// The characters a new password leaves out ([`ALWAYS_EXCLUDED`] and the setting's).
    pub exclude_characters: String,
    /// TLS to the database.
    pub db_tls: DbTls,
}

/// The settings from `lookup` (the environment, or a map in tests).
pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
    let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut exclude_characters = ALWAYS_EXCLUDED.to_owned();
    // Not trimmed: a space in it is as excluded as any other character.
    for c in lookup("TANDEM_EXCLUDE_CHARACTERS").unwrap_or_default().chars() {
        if !exclude_characters.contains(c) {
            exclude_characters.push(c);
        }
    }
    let ca_file = get("TANDEM_DB_CA_FILE").map(PathBuf::from);
    let db_tls = match get("TANDEM_DB_TLS").map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("required") => DbTls::Required { ca_file },
        Some("disabled") if ca_file.is_some() => {
            return Err(SettingError {
                name: "TANDEM_DB_CA_FILE",
                reason: "is set but TANDEM_DB_TLS is \"disabled\"; unset one of them".into(),
            });
        }
        Some("disabled") => DbTls::Disabled,
        Some(other) => {
            return Err(SettingError {
                name: "TANDEM_DB_TLS",
                reason: format!(
                    "is {}; use \"required\" (the default) or \"disabled\" (local tests only)",
                    quote(other)
                ),
            });
        }
    };
    Ok(Settings {
        env: required(&lookup, "TANDEM_ENV", "the environment, such as dev")?,
        region: required(&lookup, "AWS_REGION", "this function's region")?,
        exclude_characters,
        db_tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_testing::settings::lookup;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, SettingError> {
        from_lookup(lookup(pairs))
    }

    const BASE: [(&str, &str); 2] = [("TANDEM_ENV", "dev"), ("AWS_REGION", "us-east-1")];

    #[test]
    fn tls_is_required_by_default_with_the_web_roots() {
        let s = with(&BASE).unwrap();
        assert_eq!(s.db_tls, DbTls::Required { ca_file: None });
        assert_eq!((s.env.as_str(), s.region.as_str()), ("dev", "us-east-1"));
        assert_eq!(s.exclude_characters, ALWAYS_EXCLUDED);
    }

    #[test]
    fn the_ca_file_and_disabled_tls_are_read_but_not_together() {
        let mut pairs = BASE.to_vec();
        pairs.push(("TANDEM_DB_CA_FILE", "/etc/ssl/rds.pem"));
        assert_eq!(
            with(&pairs).unwrap().db_tls,
            DbTls::Required {
                ca_file: Some("/etc/ssl/rds.pem".into())
            }
        );
        pairs.push(("TANDEM_DB_TLS", "disabled"));
        assert_eq!(with(&pairs).unwrap_err().name, "TANDEM_DB_CA_FILE");
        let mut pairs = BASE.to_vec();
        pairs.push(("TANDEM_DB_TLS", "Disabled"));
        assert_eq!(with(&pairs).unwrap().db_tls, DbTls::Disabled);
        let mut pairs = BASE.to_vec();
        pairs.push(("TANDEM_DB_TLS", "optional"));
        let e = with(&pairs).unwrap_err();
        assert_eq!(e.name, "TANDEM_DB_TLS");
        assert!(e.to_string().contains("\"optional\""), "{e}");
    }

    #[test]
    fn the_template_exclusions_add_to_the_built_in_ones() {
        let mut pairs = BASE.to_vec();
        // What cfn/region.yaml sets: the secret's first password's exclusions.
        pairs.push(("TANDEM_EXCLUDE_CHARACTERS", "\"@/\\'"));
        assert_eq!(with(&pairs).unwrap().exclude_characters, ALWAYS_EXCLUDED);
        let mut pairs = BASE.to_vec();
        pairs.push(("TANDEM_EXCLUDE_CHARACTERS", "%; "));
        assert_eq!(
            with(&pairs).unwrap().exclude_characters,
            format!("{ALWAYS_EXCLUDED}%; ")
        );
    }

    #[test]
    fn a_missing_setting_is_named() {
        for missing in ["TANDEM_ENV", "AWS_REGION"] {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != missing).collect();
            assert_eq!(with(&pairs).unwrap_err().name, missing);
        }
    }
}
