//! The app contract's optional properties, the same under both engines:
//! `ExtraEnvironment` (`NAME=value` entries) and `Secrets`
//! (`NAME=arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`
//! entries). CloudFormation sends each as a list of strings (a
//! `CommaDelimitedList` parameter's value); empty strings are ignored, so
//! that a parameter left at `""` gives nothing.
//!
//! Each entry is checked on its own here, while the properties are parsed;
//! a name that another property sets already is refused by
//! [`validate`](super::props::validate), which sees them all.

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use std::collections::BTreeMap;

/// Deserializes `ExtraEnvironment`: its variables by name.
pub fn extra_environment<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let entries = Vec::<String>::deserialize(d)?;
    parse_extra_environment(&entries).map_err(D::Error::custom)
}

/// Deserializes `Secrets`: each variable's secret ARN, by name.
pub fn secrets<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let entries = Vec::<String>::deserialize(d)?;
    parse_secrets(&entries).map_err(D::Error::custom)
}

/// The variables of `NAME=value` `entries`; the error names the entry at
/// fault and the fix.
pub fn parse_extra_environment(entries: &[String]) -> Result<BTreeMap<String, String>, String> {
    pairs(entries, "value")
}

/// The secrets of `NAME=<secret ARN>` `entries`; the error names the entry
/// at fault and the fix.
pub fn parse_secrets(entries: &[String]) -> Result<BTreeMap<String, String>, String> {
    let secrets = pairs(entries, "arn:aws:secretsmanager:<region>:<account>:secret:<name>")?;
    if let Some((name, arn)) = secrets.iter().find(|(_, arn)| !is_secret_arn(arn)) {
        return Err(format!(
            "entry {name} names {arn:?}, which is not a Secrets Manager secret ARN; \
             give arn:<partition>:secretsmanager:<region>:<account>:secret:<name> (the secret's ARN, as \
             `aws secretsmanager describe-secret` shows it)"
        ));
    }
    Ok(secrets)
}

/// `NAME=<what>` entries by name, empty ones left out.
fn pairs(entries: &[String], what: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let number = i + 1;
        let Some((name, value)) = entry.split_once('=') else {
            return Err(format!(
                "entry {number} ({:?}) has no `=`; write it as NAME={what}",
                short(entry)
            ));
        };
        if !is_variable_name(name) {
            return Err(format!(
                "entry {number} names {:?}, which is not a variable name; use letters, digits and `_`, \
                 not starting with a digit (NAME={what})",
                short(name)
            ));
        }
        if out.insert(name.to_owned(), value.to_owned()).is_some() {
            return Err(format!(
                "entry {number} sets {name} a second time; keep one entry per name"
            ));
        }
    }
    Ok(out)
}

/// Whether `name` can name a container's environment variable: a letter or
/// `_`, then letters, digits and `_`.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `arn` is a Secrets Manager secret's ARN (a JSON key, version
/// stage and version id may follow the name, as ECS allows in `valueFrom`).
pub fn is_secret_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let [prefix, partition, service, region, account, kind, name] = parts[..] else {
        return false;
    };
    prefix == "arn"
        && !partition.is_empty()
        && service == "secretsmanager"
        && !region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && kind == "secret"
        && !name.is_empty()
        && !name.starts_with(':')
}

/// `text`, cut for an error message.
fn short(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests;
