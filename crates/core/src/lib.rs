//! Shared code for tandem's Lambdas and its CLI.
//!
//! - [`cfn`]: the CloudFormation custom-resource framework. Each resource type
//!   implements [`cfn::CustomResource`]; the [`cfn::Runner`] owns the protocol.
//! - [`aws`]: the SDK configuration, loaded once per process, and per-region
//!   clients for calls that cross regions.
//! - [`telemetry`]: JSON logs in the shape Lambda's log controls expect.
//! - [`fence`]: the rules that keep two regions from both taking writes, and the traffic fence's metric.
//! - [`state`]: the state table (roles, releases, the audit trail), its only reader and writer.
//! - [`text`]: values quoted short in reasons and logs; [`clock`]: Unix time.
//! - [`settings`]: a function's environment, checked at start; [`probe`]: HTTP(S) probes;
//!   [`webhook`]: a JSON post to a chat webhook over HTTPS; [`download`]: an HTTPS download
//!   for the CLI's builds, and the check of a PEM certificate bundle.
//! - [`release_engine`]: who runs a release's blue/green deployment, CodeDeploy or ECS.
//! - [`payload`]: the event as the runtime hands it over, read even when it is broken.
//! - [`event_fn`]: the seam of the event functions ([`event_fn::EventFunction`]): settings,
//!   clients built once, the handler, and one error → `tandem.<Kind>` rule.

#![warn(missing_docs)]

pub mod appspec;
pub mod aws;
pub mod cfn;
pub mod clock;
pub mod db;
pub mod download;
pub mod event_fn;
pub mod fence;
pub mod image;
pub mod payload;
pub mod probe;
pub mod release_engine;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod template;
pub mod text;
pub mod webhook;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod test_tls;
