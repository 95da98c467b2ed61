//! Empty on purpose: see this crate's Cargo.toml.

#![warn(missing_docs)]
