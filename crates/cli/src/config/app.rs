//! The app contract (`[app]` in `config/<env>.toml`): what any service
//! tells tandem for a release to start and be checked. The defaults are the
//! sample app's, with which the region stack is what it was before the
//! contract existed.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `[app]`: what the service tells tandem. The defaults are the sample
/// app's, so an environment that sets nothing gets the stack it had.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct App {
    /// The path the load balancer's health checks, the deploy hook and the
    /// failover probes ask; it must answer 200 when the task can serve.
    pub(crate) health_path: String,
    /// The paths the deploy hook asks on the new tasks, with the status each
    /// must answer: `"/path=200"` (the health path comes first by itself).
    pub(crate) smoke_paths: Vec<String>,
    /// The port the container listens on.
    pub(crate) container_port: u16,
    /// Fargate task CPU units.
    pub(crate) cpu: String,
    /// Fargate task memory (MiB).
    pub(crate) memory: String,
    /// Extra environment variables of the container.
    pub(crate) environment: BTreeMap<String, String>,
    /// Container variables read from Secrets Manager at task start: name to
    /// secret ARN (the task's execution role may read exactly these).
    pub(crate) secrets: BTreeMap<String, String>,
}

impl Default for App {
    fn default() -> Self {
        Self {
            health_path: "/health".into(),
            smoke_paths: vec!["/version=200".into(), "/db=200".into()],
            container_port: 8080,
            cpu: "256".into(),
            memory: "512".into(),
            environment: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }
}

/// The variables the release and the sample app's stack set themselves.
const RESERVED_VARIABLES: &[&str] = &[
    "TANDEM_IMAGE_TAG",
    "TANDEM_ENV",
    "TANDEM_REGION",
    "TANDEM_PEER_REGION",
    "TANDEM_CONFIGURED_PRIMARY",
    "TANDEM_DB_ENDPOINT_SECRET",
    "TANDEM_DB_SECRET",
    "TANDEM_TLS",
    "PORT",
];

/// Fargate's CPU units and the memory sizes the region template allows.
const CPUS: &[&str] = &["256", "512", "1024", "2048"];
const MEMORIES: &[&str] = &["512", "1024", "2048", "4096"];

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_path(path: &str) -> bool {
    path.starts_with('/') && !path.contains([',', '=', ' ', '?', '#'])
}

impl App {
    /// Checks the contract; the error names the key and the fix.
    pub(crate) fn check(&self, is_local: bool) -> Result<(), String> {
        if !is_path(&self.health_path) {
            return Err(format!(
                "app.health_path = {:?}: give a path such as \"/health\" (a leading /, no spaces, commas, = or query)",
                self.health_path
            ));
        }
        for entry in &self.smoke_paths {
            let ok = entry.split_once('=').is_some_and(|(path, status)| {
                is_path(path) && status.parse::<u16>().is_ok_and(|s| (100..=599).contains(&s))
            });
            if !ok {
                return Err(format!(
                    "app.smoke_paths has {entry:?}: write each as \"/path=status\", such as \"/version=200\""
                ));
            }
        }
        if self.container_port < 1024 {
            return Err(format!(
                "app.container_port = {}: use a port from 1024 up (the container runs as a non-root user)",
                self.container_port
            ));
        }
        // The local AWS keeps a parameter's string where ECS answers an
        // integer: the region template uses the literal 8080 there.
        if is_local && self.container_port != 8080 {
            return Err(format!(
                "app.container_port = {}: the local environment serves on 8080 only; remove the setting from config/local.toml",
                self.container_port
            ));
        }
        if !CPUS.contains(&self.cpu.as_str()) {
            return Err(format!("app.cpu = {:?}: use one of {}", self.cpu, CPUS.join(", ")));
        }
        if !MEMORIES.contains(&self.memory.as_str()) {
            return Err(format!(
                "app.memory = {:?}: use one of {}",
                self.memory,
                MEMORIES.join(", ")
            ));
        }
        for (name, value) in &self.environment {
            if !is_variable_name(name) {
                return Err(format!(
                    "app.environment has {name:?}: a variable name is letters, digits and _, not starting with a digit"
                ));
            }
            if RESERVED_VARIABLES.contains(&name.as_str()) {
                return Err(format!(
                    "app.environment sets {name}, which tandem sets itself; remove it or use another name"
                ));
            }
            // The stack parameter is a comma-separated list.
            if value.contains(',') {
                return Err(format!(
                    "app.environment.{name} holds a comma, which the stack parameter cannot carry; \
                     put the value in a secret (app.secrets) or drop the comma"
                ));
            }
        }
        for (name, arn) in &self.secrets {
            if !is_variable_name(name) || RESERVED_VARIABLES.contains(&name.as_str()) {
                return Err(format!(
                    "app.secrets has {name:?}: use a variable name (letters, digits, _) that tandem does not set itself"
                ));
            }
            if self.environment.contains_key(name) {
                return Err(format!("{name} is in both app.environment and app.secrets: keep one"));
            }
            let parts: Vec<&str> = arn.splitn(7, ':').collect();
            let ok = parts.len() == 7
                && parts[0] == "arn"
                && parts[2] == "secretsmanager"
                && parts[5] == "secret"
                && !parts[6].is_empty()
                && !arn.contains(',');
            if !ok {
                return Err(format!(
                    "app.secrets.{name} = {arn:?}: give a Secrets Manager secret's ARN, \
                     arn:aws:secretsmanager:<region>:<account>:secret:<name>"
                ));
            }
        }
        Ok(())
    }
}
