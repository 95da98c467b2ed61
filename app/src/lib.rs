//! tandem's sample service: the container image that tandem releases blue/green
//! to both regions.
//!
//! - [`http`]: the routes (`/health`, `/db`, `/version`, `/writable`, `POST /writes`) and graceful serving.
//! - [`fence`]: the write fence: before it writes, the app asks both
//!   regions' state tables whether its region may.
//! - [`db`]: the database writer, a pool rebuilt from the secret when a
//!   connection fails, so a failover's new endpoint is picked up.
//! - [`secret`]: where the credentials and endpoint come from
//!   ([`secret::SecretSource`]: Secrets Manager, or memory in tests).
//! - [`tls`]: HTTPS to the load balancer, with a certificate made at start.
//! - [`config`]: the environment variables it reads.
//!
//! `main.rs` only wires these together.

#![warn(missing_docs)]

pub mod config;
pub mod db;
pub mod fence;
pub mod http;
pub mod secret;
pub mod tls;
