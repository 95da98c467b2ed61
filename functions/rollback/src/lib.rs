//! The `rollback` Lambda: when a release makes the service sick, it rolls
//! the release back without a human, during the deployment and in a bake
//! window after it, in both regions.
//!
//! - [`event`] reads every shape an alarm, or a CodeDeploy or ECS
//!   deployment state change, arrives in;
//! - [`engine`] is the release engine (`TANDEM_RELEASE_ENGINE`: CodeDeploy or
//!   ECS), which says which calls stop and redeploy;
//! - [`decide`] is the decision, a pure function of the event and the
//!   observed release;
//! - the shell observes, claims the action once, acts, audits and notifies.

#![warn(missing_docs)]

pub mod decide;
pub mod engine;
pub mod event;
pub mod settings;
pub mod shell;
