//! The `notify` Lambda: forwards each message of its region's ops topic
//! (CloudWatch alarms, tandem's own decisions) to a chat webhook as short
//! text, and audits each delivery.
//!
//! An HTTPS subscription of the topic itself would never deliver: SNS waits
//! for the endpoint to confirm it, and a chat webhook cannot.
//!
//! - [`decide`] is the decision, a pure function from the SNS event to the
//!   messages to post;
//! - [`shell`] reads the webhook's URL from Secrets Manager (once per cold
//!   start, again after a failed post), posts, and audits.

#![warn(missing_docs)]

pub mod decide;
pub mod settings;
pub mod shell;
