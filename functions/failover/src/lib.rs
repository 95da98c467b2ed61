//! The `failover` function: in each region, acting for its region when that
//! region is the standby. It probes the primary's public `/health` on a
//! schedule (and at once when a primary alarm is forwarded), and when the
//! primary has failed enough probes in a row, this region is healthy and
//! the replica's lag is within budget, it promotes this region: lock,
//! `PromoteReadReplica`, secret, roles, audit, notify. Every call is to this
//! region's APIs: nothing in the failed region is needed.
//!
//! - [`event`]: the events it takes.
//! - [`decide`]: the pure decision (tested exhaustively in `decide_tests.rs`).
//! - [`shell`]: probes, observes and acts; [`steps`] runs the promotion
//!   under the lock; [`observe`] and `tandem_core::db` are its AWS calls.
//! - [`fences`]: the peer's standing, the traffic fence's metric, and a
//!   region's demotion of itself.
//! - [`settings`]: the environment it reads.

pub mod decide;
pub mod event;
pub mod fences;
pub mod observe;
pub mod settings;
pub mod shell;
pub mod steps;

#[cfg(test)]
mod shell_fence_tests;
#[cfg(test)]
mod shell_tests;
