//! The endpoint override: a region's `tandem-<env>/db-endpoint` secret,
//! `{"host": …, "port": …}` or `{}`, which a failover points at the writer
//! it promoted. The credentials secret stays as it is (on AWS a replica of
//! the writer region's, which cannot be written and must stay one).

use super::{SecretError, SecretSource};
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::sync::Arc;

/// Reads the credentials from one source and, when the other names one,
/// the writer's host and port from the other.
pub struct WithEndpoint {
    credentials: Arc<dyn SecretSource>,
    endpoint: Arc<dyn SecretSource>,
}

impl WithEndpoint {
    /// The credentials of `credentials`, at the endpoint `endpoint` names (if any).
    pub fn new(credentials: Arc<dyn SecretSource>, endpoint: Arc<dyn SecretSource>) -> Self {
        Self { credentials, endpoint }
    }
}

impl SecretSource for WithEndpoint {
    fn describe(&self) -> String {
        format!(
            "{} (at the endpoint in {})",
            self.credentials.describe(),
            self.endpoint.describe()
        )
    }

    fn read(&self) -> BoxFuture<'_, Result<String, SecretError>> {
        Box::pin(async move {
            let (credentials, endpoint) = tokio::join!(self.credentials.read(), self.endpoint.read());
            let endpoint = endpoint?;
            merge(&credentials?, &endpoint).map_err(|reason| SecretError::Invalid {
                secret: self.endpoint.describe(),
                reason,
            })
        })
    }
}

/// `credentials` (a JSON object) with the `host` and `port` of `endpoint`
/// when it names a host; unchanged when it is `{}`. Errors never quote a value.
pub fn merge(credentials: &str, endpoint: &str) -> Result<String, String> {
    let Ok(Value::Object(over)) = serde_json::from_str::<Value>(endpoint) else {
        return Err("it is not a JSON object (an empty override is {})".into());
    };
    let Some(host) = over.get("host") else {
        return Ok(credentials.to_owned());
    };
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(credentials) else {
        // The credentials' own parser names what is wrong with them.
        return Ok(credentials.to_owned());
    };
    fields.insert("host".into(), host.clone());
    if let Some(port) = over.get("port") {
        fields.insert("port".into(), port.clone());
    }
    Ok(Value::Object(fields).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{DbSettings, MemorySecret};

    const CREDENTIALS: &str = r#"{"username":"tandem_admin","password":"pw","host":"writer.us-east-1","port":3306}"#;

    #[test]
    fn an_override_replaces_host_and_port_and_keeps_the_credentials() {
        let merged = merge(CREDENTIALS, r#"{"host":"promoted.us-east-2","port":3307}"#).unwrap();
        let s = DbSettings::parse(&merged).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("promoted.us-east-2", 3307));
        assert_eq!((s.username.as_str(), s.password.as_str()), ("tandem_admin", "pw"));
    }

    #[test]
    fn an_empty_override_changes_nothing() {
        assert_eq!(merge(CREDENTIALS, "{}").unwrap(), CREDENTIALS);
    }

    #[test]
    fn a_broken_override_is_named_without_its_value() {
        let e = merge(CREDENTIALS, "hunter2").unwrap_err();
        assert!(e.contains("not a JSON object") && !e.contains("hunter2"), "{e}");
    }

    #[tokio::test]
    async fn both_are_read_each_time_so_a_failover_is_followed() {
        let credentials = Arc::new(MemorySecret::new(CREDENTIALS));
        let endpoint = Arc::new(MemorySecret::new("{}"));
        let source = WithEndpoint::new(credentials.clone(), endpoint.clone());
        let first = DbSettings::parse(&source.read().await.unwrap()).unwrap();
        assert_eq!(first.host, "writer.us-east-1");
        endpoint.set(r#"{"host":"promoted.us-east-2","port":3306}"#);
        let second = DbSettings::parse(&source.read().await.unwrap()).unwrap();
        assert_eq!(second.host, "promoted.us-east-2");
        assert_eq!((credentials.reads(), endpoint.reads()), (2, 2));
    }
}
