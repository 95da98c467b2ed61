//! The service's settings, read once from the environment at start.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `PORT` | the TCP port to listen on, on every address (`0.0.0.0`) | `8080` |
//! | `TANDEM_IMAGE_TAG` | the image tag that `GET /version` answers | `dev` |
//! | `TANDEM_DB_SECRET` | name or ARN of the Secrets Manager secret that holds the database's `username`, `password`, `host`, `port` and optional `dbname` | none: `GET /db` answers 503 saying so |
//! | `TANDEM_DB_ENDPOINT_SECRET` | a secret `{"host", "port"}` or `{}` that overrides the writer the credentials secret names (a failover points it at the promoted writer) | none |
//! | `TANDEM_DB_TLS` | `required` or `disabled`: TLS to the database | `required` |
//! | `TANDEM_DB_CA_FILE` | a PEM bundle that the database's certificate must chain to (RDS: its CA bundle) | the built-in web roots |
//! | `TANDEM_TLS` | `self-signed`: serve HTTPS with a certificate made at start (the ALB's HTTPS target groups), or `off` | `off` |
//! | `TANDEM_ENV` | the environment: names the state tables the write fence reads | none: no write fence |
//! | `TANDEM_REGION` | this region (else `AWS_REGION`) | required with `TANDEM_ENV` |
//! | `TANDEM_PEER_REGION` | the other region | required with `TANDEM_ENV` |
//! | `TANDEM_CONFIGURED_PRIMARY` | the primary while no roles are recorded | required with `TANDEM_ENV` |
//! | `TANDEM_FENCE_TTL_MS` | how long one answer of the write fence is kept | `1000` |

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// The port when `PORT` is not set.
pub const DEFAULT_PORT: u16 = 8080;
/// The image tag when `TANDEM_IMAGE_TAG` is not set.
pub const DEFAULT_IMAGE_TAG: &str = "dev";

/// Whether connections to the database use TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTls {
    /// TLS with the server's certificate verified against these roots, or
    /// against the built-in web roots when `None`.
    Required {
        /// A PEM bundle of trusted certificate authorities.
        ca_file: Option<PathBuf>,
    },
    /// Plain TCP (local tests only).
    Disabled,
}

/// Everything the service reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// What `GET /version` answers.
    pub image_tag: String,
    /// The secret that holds the database's credentials and endpoint.
    pub db_secret: Option<String>,
    /// The secret whose host and port override the endpoint, if any.
    pub db_endpoint_secret: Option<String>,
    /// TLS to the database.
    pub db_tls: DbTls,
    /// Whether the service itself serves HTTPS.
    pub serve_tls: ServeTls,
    /// The write fence's tables, when the app runs in a tandem region.
    pub fence: Option<FenceConfig>,
}

/// Where the write fence reads: the state tables of this region and the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceConfig {
    /// The environment (the tables are `tandem-<env>-state`).
    pub env: String,
    /// This region.
    pub region: String,
    /// The other region.
    pub peer_region: String,
    /// The primary while no roles are recorded.
    pub configured_primary: String,
    /// How long one answer is kept.
    pub ttl: std::time::Duration,
}

/// What the service serves: plain HTTP, or HTTPS with its own certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeTls {
    /// Plain HTTP (the local AWS, tests).
    Off,
    /// HTTPS with a key and self-signed certificate made at start.
    SelfSigned,
}

/// A setting that cannot be used, named with the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// `PORT` is not a port number.
    #[error("PORT is {0:?}, which is not a port number (1-65535)")]
    Port(String),
    /// `TANDEM_DB_TLS` is neither `required` nor `disabled`.
    #[error("TANDEM_DB_TLS is {0:?}; use \"required\" (the default) or \"disabled\"")]
    Tls(String),
    /// `TANDEM_TLS` is neither `self-signed` nor `off`.
    #[error("TANDEM_TLS is {0:?}; use \"self-signed\" (HTTPS to the load balancer) or \"off\" (the default)")]
    ServeTls(String),
    /// `TANDEM_ENV` is set without the regions the write fence needs.
    #[error(
        "TANDEM_ENV is set but {0} is not: the write fence reads both regions' state tables; set it (ECS tasks get it from the region stack)"
    )]
    FenceRegion(&'static str),
    /// `TANDEM_FENCE_TTL_MS` is not a number of milliseconds.
    #[error("TANDEM_FENCE_TTL_MS is {0:?}; use a whole number of milliseconds, such as 1000")]
    FenceTtl(String),
    /// `TANDEM_DB_CA_FILE` is set while TLS is disabled.
    #[error("TANDEM_DB_CA_FILE is set but TANDEM_DB_TLS is \"disabled\"; unset one of them")]
    CaWithoutTls,
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a variable's value, if set).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let port = match get("PORT") {
            None => DEFAULT_PORT,
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => return Err(ConfigError::Port(text)),
            },
        };
        let ca_file = get("TANDEM_DB_CA_FILE").map(PathBuf::from);
        let db_tls = match get("TANDEM_DB_TLS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("required") => DbTls::Required { ca_file },
            Some("disabled") if ca_file.is_some() => return Err(ConfigError::CaWithoutTls),
            Some("disabled") => DbTls::Disabled,
            Some(other) => return Err(ConfigError::Tls(other.to_owned())),
        };
        let serve_tls = match get("TANDEM_TLS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("off") => ServeTls::Off,
            Some("self-signed") => ServeTls::SelfSigned,
            Some(other) => return Err(ConfigError::ServeTls(other.to_owned())),
        };
        let fence = match get("TANDEM_ENV") {
            None => None,
            Some(env) => {
                let region = get("TANDEM_REGION")
                    .or_else(|| get("AWS_REGION"))
                    .ok_or(ConfigError::FenceRegion("TANDEM_REGION (or AWS_REGION)"))?;
                let peer_region = get("TANDEM_PEER_REGION").ok_or(ConfigError::FenceRegion("TANDEM_PEER_REGION"))?;
                let configured_primary =
                    get("TANDEM_CONFIGURED_PRIMARY").ok_or(ConfigError::FenceRegion("TANDEM_CONFIGURED_PRIMARY"))?;
                let ttl = match get("TANDEM_FENCE_TTL_MS") {
                    None => 1000,
                    Some(text) => text.parse().map_err(|_| ConfigError::FenceTtl(text))?,
                };
                Some(FenceConfig {
                    env,
                    region,
                    peer_region,
                    configured_primary,
                    ttl: std::time::Duration::from_millis(ttl),
                })
            }
        };
        Ok(Self {
            fence,
            listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
            serve_tls,
            image_tag: get("TANDEM_IMAGE_TAG").unwrap_or_else(|| DEFAULT_IMAGE_TAG.to_owned()),
            db_secret: get("TANDEM_DB_SECRET"),
            db_endpoint_secret: get("TANDEM_DB_ENDPOINT_SECRET"),
            db_tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_listen_on_8080_with_tls_required() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.image_tag, "dev");
        assert_eq!(c.db_secret, None);
        assert_eq!(c.db_tls, DbTls::Required { ca_file: None });
    }

    #[test]
    fn reads_every_variable() {
        let c = config(&[
            ("PORT", "9000"),
            ("TANDEM_IMAGE_TAG", "v1.2.3"),
            (
                "TANDEM_DB_SECRET",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
            ),
            ("TANDEM_DB_TLS", "Required"),
            ("TANDEM_DB_CA_FILE", "/etc/ssl/rds.pem"),
        ])
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.image_tag, "v1.2.3");
        assert_eq!(
            c.db_secret.as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:db")
        );
        assert_eq!(
            c.db_tls,
            DbTls::Required {
                ca_file: Some("/etc/ssl/rds.pem".into())
            }
        );
        assert_eq!(
            config(&[("TANDEM_DB_TLS", "disabled")]).unwrap().db_tls,
            DbTls::Disabled
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("PORT", ""), ("TANDEM_IMAGE_TAG", " "), ("TANDEM_DB_SECRET", "")]).unwrap();
        assert_eq!(c.listen.port(), DEFAULT_PORT);
        assert_eq!(c.image_tag, DEFAULT_IMAGE_TAG);
        assert_eq!(c.db_secret, None);
    }

    #[test]
    fn refuses_bad_values_naming_the_variable() {
        for bad in ["http", "0", "70000", "-1"] {
            let err = config(&[("PORT", bad)]).unwrap_err();
            assert_eq!(err, ConfigError::Port(bad.to_owned()));
            assert!(err.to_string().starts_with("PORT is"), "{err}");
        }
        let err = config(&[("TANDEM_DB_TLS", "preferred")]).unwrap_err();
        assert!(err.to_string().contains("\"required\""), "{err}");
        let err = config(&[("TANDEM_DB_TLS", "disabled"), ("TANDEM_DB_CA_FILE", "/x.pem")]).unwrap_err();
        assert_eq!(err, ConfigError::CaWithoutTls);
    }

    #[test]
    fn the_write_fence_reads_both_regions_tables_once_the_env_is_set() {
        assert_eq!(config(&[]).unwrap().fence, None);
        let c = config(&[
            ("TANDEM_ENV", "dev"),
            ("AWS_REGION", "us-east-1"),
            ("TANDEM_PEER_REGION", "us-east-2"),
            ("TANDEM_CONFIGURED_PRIMARY", "us-east-1"),
        ])
        .unwrap();
        let fence = c.fence.unwrap();
        assert_eq!(
            (fence.env.as_str(), fence.region.as_str(), fence.peer_region.as_str()),
            ("dev", "us-east-1", "us-east-2")
        );
        assert_eq!(fence.ttl, std::time::Duration::from_secs(1));
        let e = config(&[("TANDEM_ENV", "dev"), ("TANDEM_REGION", "us-east-1")]).unwrap_err();
        assert!(e.to_string().contains("TANDEM_PEER_REGION is not"), "{e}");
        let e = config(&[
            ("TANDEM_ENV", "dev"),
            ("TANDEM_REGION", "us-east-1"),
            ("TANDEM_PEER_REGION", "us-east-2"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("TANDEM_CONFIGURED_PRIMARY is not"), "{e}");
        let e = config(&[("TANDEM_ENV", "dev"), ("TANDEM_PEER_REGION", "us-east-2")]).unwrap_err();
        assert!(e.to_string().contains("TANDEM_REGION (or AWS_REGION) is not"), "{e}");
        let e = config(&[
            ("TANDEM_ENV", "dev"),
            ("TANDEM_REGION", "us-east-1"),
            ("TANDEM_PEER_REGION", "us-east-2"),
            ("TANDEM_CONFIGURED_PRIMARY", "us-east-1"),
            ("TANDEM_FENCE_TTL_MS", "soon"),
        ])
        .unwrap_err();
        assert_eq!(e, ConfigError::FenceTtl("soon".into()));
    }

    #[test]
    fn https_to_the_load_balancer_is_asked_for_by_name() {
        assert_eq!(config(&[]).unwrap().serve_tls, ServeTls::Off);
        assert_eq!(config(&[("TANDEM_TLS", "off")]).unwrap().serve_tls, ServeTls::Off);
        assert_eq!(
            config(&[("TANDEM_TLS", "Self-Signed")]).unwrap().serve_tls,
            ServeTls::SelfSigned
        );
        let e = config(&[("TANDEM_TLS", "yes")]).unwrap_err().to_string();
        assert!(e.contains("TANDEM_TLS is \"yes\"") && e.contains("self-signed"), "{e}");
    }
}
