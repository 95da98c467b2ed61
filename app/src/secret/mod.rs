//! Where the database's credentials and endpoint come from: a secret, read
//! through a [`SecretSource`], whose JSON holds `username`, `password`,
//! `host`, `port` and an optional `dbname` (the shape RDS and Secrets
//! Manager's rotation functions use).
//!
//! [`SecretsManagerSource`] reads AWS Secrets Manager; [`MemorySecret`]
//! holds a value that tests change while the service runs.

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};
use std::fmt;

mod endpoint;
mod sources;

pub use endpoint::{WithEndpoint, merge};
pub use sources::{MemorySecret, NoSecret, SecretsManagerSource};

/// Reads the current value of the database secret (its `SecretString`).
pub trait SecretSource: Send + Sync + 'static {
    /// What the source reads, for messages: the secret's name or ARN.
    fn describe(&self) -> String;

    /// The secret's current text. Called at start and again whenever a
    /// connection to the database fails, so it must not cache.
    fn read(&self) -> BoxFuture<'_, Result<String, SecretError>>;
}

/// Why the secret could not be read or used. Never contains the secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// No secret is configured.
    #[error("no database secret is configured: set TANDEM_DB_SECRET to the name or ARN of its Secrets Manager secret")]
    NotConfigured,
    /// The source failed.
    #[error("could not read the database secret {secret}: {reason}")]
    Read {
        /// The secret's name or ARN.
        secret: String,
        /// What went wrong, in one sentence.
        reason: String,
    },
    /// The secret was read but does not hold usable settings.
    #[error("the database secret {secret} is not usable: {reason}")]
    Invalid {
        /// The secret's name or ARN.
        secret: String,
        /// What is wrong with it (never its values).
        reason: String,
    },
}

/// Connection settings read from the secret. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// The database user.
    pub username: String,
    /// The user's password.
    pub password: String,
    /// The writer's host name or address.
    pub host: String,
    /// The writer's port.
    pub port: u16,
    /// The database to use, if the secret names one.
    pub dbname: Option<String>,
}

impl fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSettings")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .finish()
    }
}

impl DbSettings {
    /// Parses the secret's JSON. Errors name the missing or malformed key,
    /// never a value: serde's own messages would quote the values.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("it is not JSON (line {}, column {})", e.line(), e.column()))?;
        let Value::Object(map) = value else {
            return Err("it is not a JSON object".into());
        };
        let port = match map.get("port") {
            None | Some(Value::Null) => return Err(r#"it has no "port""#.into()),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        }
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or(r#"its "port" is not a port number"#)?;
        Ok(Self {
            username: string(&map, "username")?,
            password: string(&map, "password")?,
            host: string(&map, "host")?,
            port,
            dbname: match map.get("dbname") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(_) => Some(string(&map, "dbname")?),
            },
        })
    }

    /// `host:port`, for messages.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The non-empty string under `key`.
fn string(map: &Map<String, Value>, key: &str) -> Result<String, String> {
    match map.get(key) {
        None | Some(Value::Null) => Err(format!("it has no {key:?}")),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("its {key:?} is empty")),
        Some(_) => Err(format!("its {key:?} is not a string")),
    }
}

/// `settings` as the JSON of a Secrets Manager database secret.
pub fn settings_json(settings: &DbSettings) -> String {
    let mut map = serde_json::json!({
        "username": settings.username,
        "password": settings.password,
        "host": settings.host,
        "port": settings.port,
    });
    if let Some(db) = &settings.dbname {
        map["dbname"] = Value::String(db.clone());
    }
    map.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-Pa55";

    fn settings() -> DbSettings {
        DbSettings {
            username: "app".into(),
            password: SECRET.into(),
            host: "db.example.internal".into(),
            port: 3306,
            dbname: Some("appdb".into()),
        }
    }

    #[test]
    fn parses_what_settings_json_writes() {
        assert_eq!(DbSettings::parse(&settings_json(&settings())).unwrap(), settings());
        let no_db = DbSettings {
            dbname: None,
            ..settings()
        };
        assert_eq!(DbSettings::parse(&settings_json(&no_db)).unwrap(), no_db);
    }

    #[test]
    fn parses_the_rds_shape_with_extra_keys_and_a_string_port() {
        let text = format!(
            r#"{{"engine":"mysql","username":"admin","password":"{SECRET}","host":"w.rds.amazonaws.com","port":"3306","dbInstanceIdentifier":"x"}}"#
        );
        let s = DbSettings::parse(&text).unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.dbname.as_deref()),
            ("w.rds.amazonaws.com", 3306, None)
        );
        assert_eq!(s.endpoint(), "w.rds.amazonaws.com:3306");
    }

    #[test]
    fn errors_name_the_key_and_never_the_values() {
        let cases = [
            (
                r#"{"username":"a","password":"PW","port":3306}"#.to_owned(),
                r#"no "host""#,
            ),
            (
                r#"{"username":"a","password":"PW","host":"h"}"#.to_owned(),
                r#"no "port""#,
            ),
            (
                r#"{"username":"a","password":"PW","host":"h","port":"PW"}"#.to_owned(),
                "not a port number",
            ),
            (
                r#"{"username":"a","password":"PW","host":"h","port":70000}"#.to_owned(),
                "not a port number",
            ),
            (
                r#"{"username":"a","password":5,"host":"h","port":1}"#.to_owned(),
                r#""password" is not a string"#,
            ),
            (
                r#"{"username":"","password":"PW","host":"h","port":1}"#.to_owned(),
                r#""username" is empty"#,
            ),
            (r#"["PW"]"#.to_owned(), "not a JSON object"),
            ("PW, not json".to_owned(), "not JSON"),
        ];
        for (text, expected) in cases {
            let err = DbSettings::parse(&text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains("PW"), "{text}: the message shows a value: {err}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", settings());
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("db.example.internal"), "{shown}");
    }
}
