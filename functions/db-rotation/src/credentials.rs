//! The credentials secret's JSON: `username`, `password`, `host`, `port`
//! (the secret's attachment to the database adds `host`, `port`, `engine`
//! and `dbInstanceIdentifier`) and an optional `dbname`. A new version is the
//! same JSON with another password: every other key is kept as it is.
//!
//! Neither the password nor the secret's text ever shows in `Debug` or in an
//! error.

use serde_json::{Map, Value};

/// The port when the secret has none.
pub const DEFAULT_PORT: u16 = 3306;

/// A password; its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The password itself, for the database driver and the secret only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(hidden)")
    }
}

/// One version of the secret, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The database user.
    pub username: String,
    /// Its password.
    pub password: Password,
    /// The writer's host.
    pub host: String,
    /// The writer's port.
    pub port: u16,
    /// The database to use, if the secret names one.
    pub dbname: Option<String>,
    /// The whole JSON object, kept to write a new version from.
    fields: Fields,
}

/// The secret's JSON object; its `Debug` names the keys only.
#[derive(Clone, PartialEq, Eq)]
struct Fields(Map<String, Value>);

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Why a version of the secret cannot be used; names the key, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// Not a JSON object.
    #[error("it is not a JSON object; it must hold \"username\", \"password\", \"host\" and \"port\"")]
    NotAnObject,
    /// A key is missing or has the wrong type.
    #[error("it has no {key} ({want}); the region stack's secret and its attachment to the database write it")]
    Key {
        /// The key.
        key: &'static str,
        /// What it must be.
        want: &'static str,
    },
}

impl Credentials {
    /// Reads a version's `SecretString`.
    pub fn parse(text: &str) -> Result<Self, CredentialsError> {
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
            return Err(CredentialsError::NotAnObject);
        };
        let text = |key: &'static str| {
            fields
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or(CredentialsError::Key {
                    key,
                    want: "a non-empty string",
                })
        };
        let port = match fields.get("port") {
            None => Some(DEFAULT_PORT),
            Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
            Some(Value::String(s)) => s.parse().ok(),
            Some(_) => None,
        }
        .filter(|p| *p != 0)
        .ok_or(CredentialsError::Key {
            key: "port",
            want: "a port number from 1 to 65535",
        })?;
        let dbname = fields
            .get("dbname")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        Ok(Self {
            username: text("username")?,
            password: Password::new(text("password")?),
            host: text("host")?,
            port,
            dbname,
            fields: Fields(fields.clone()),
        })
    }

    /// The same secret with `password` in place of this one's: the text of
    /// the new version.
    pub fn with_password(&self, password: &Password) -> String {
        let mut fields = self.fields.0.clone();
        fields.insert("password".into(), Value::String(password.expose().to_owned()));
        Value::Object(fields).to_string()
    }

    /// The same user on the same database with `password`: a login with
    /// another version's password.
    pub fn using(&self, password: &Password) -> Self {
        Self {
            password: password.clone(),
            ..self.clone()
        }
    }

    /// `host:port`, for messages.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = r#"{"username":"tandem_admin","password":"old-S3cret","host":"w.example","port":3306,"engine":"mysql","dbInstanceIdentifier":"tandem-dev-writer"}"#;

    #[test]
    fn a_new_version_changes_the_password_only() {
        let c = Credentials::parse(SECRET).unwrap();
        assert_eq!(
            (c.username.as_str(), c.endpoint().as_str()),
            ("tandem_admin", "w.example:3306")
        );
        let next: Value = serde_json::from_str(&c.with_password(&Password::new("new-S3cret"))).unwrap();
        let mut want: Value = serde_json::from_str(SECRET).unwrap();
        want["password"] = json!("new-S3cret");
        assert_eq!(next, want);
    }

    #[test]
    fn debug_shows_no_password() {
        let c = Credentials::parse(SECRET).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("old-S3cret"), "{shown}");
        assert!(
            shown.contains("hidden") && shown.contains("dbInstanceIdentifier"),
            "{shown}"
        );
    }

    #[test]
    fn a_bad_secret_names_the_key_and_never_the_password() {
        let cases = [
            (r#"{"password":"old-S3cret","host":"h"}"#, "username"),
            (r#"{"username":"u","host":"h"}"#, "password"),
            (r#"{"username":"u","password":"old-S3cret"}"#, "host"),
            (
                r#"{"username":"u","password":"old-S3cret","host":"h","port":70000}"#,
                "port",
            ),
            (
                r#"{"username":"u","password":"old-S3cret","host":"h","port":[1]}"#,
                "port",
            ),
            ("old-S3cret", "not a JSON object"),
        ];
        for (text, want) in cases {
            let e = Credentials::parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains("old-S3cret"), "{e}");
        }
        let c = Credentials::parse(r#"{"username":"u","password":"p","host":"h","port":"3307","dbname":"d"}"#).unwrap();
        assert_eq!((c.port, c.dbname.as_deref()), (3307, Some("d")));
    }
}
