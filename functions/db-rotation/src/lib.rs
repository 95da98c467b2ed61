//! The `db-rotation` Lambda: rotates the database credentials secret
//! (`tandem-<env>/db`) for Secrets Manager, single user: the database user
//! changes its own password, as AWS's `SecretsManagerRDSMySQLRotationSingleUser`
//! does, in the four steps Secrets Manager invokes it with (`createSecret`,
//! `setSecret`, `testSecret`, `finishSecret`).
//!
//! - [`event`] reads the invocation;
//! - [`decide`] is the decision, pure: whether a step may run given the
//!   secret's version stages, and what each step does given what was seen;
//! - [`credentials`] reads and rewrites the secret's JSON (the password
//!   never shows in `Debug`);
//! - [`password`] makes a new password;
//! - [`db`] logs in to the database over TLS, changes the password and runs
//!   the test query;
//! - [`shell`] calls Secrets Manager and the database, and logs the outcome.

#![warn(missing_docs)]

pub mod credentials;
pub mod db;
pub mod decide;
pub mod event;
pub mod password;
pub mod settings;
pub mod shell;
