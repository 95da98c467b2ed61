//! The `deploy-hook` Lambda: validates each step of a blue/green release
//! before traffic moves on.
//!
//! CodeDeploy invokes it at `AfterAllowTestTraffic`, `BeforeAllowTraffic`
//! and `AfterAllowTraffic`; Amazon ECS's native blue/green invokes it at the
//! stages its service lists. Either way it finds the green target group
//! (the one the test listener's default action forwards to, or, with
//! `TANDEM_TEST_LISTENER_RULE_ARN`, the one the test listener rule that ECS
//! moves forwards to most), waits within a time budget until its targets
//! are healthy, probes the health path (`TANDEM_HEALTH_PATH`, `/health`) and
//! the configured smoke paths on each green target directly (the function
//! runs in the VPC's private subnets, and the service's security group
//! admits it), and answers:
//!
//! - CodeDeploy: `PutLifecycleEventHookExecutionStatus` exactly once,
//!   `Succeeded`, or `Failed` on any failure, bad event or timeout, so that a
//!   deployment never waits out CodeDeploy's hour;
//! - ECS: `{"hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}`; at
//!   `TEST_TRAFFIC_SHIFT` and `PRODUCTION_TRAFFIC_SHIFT`, which ECS runs
//!   again while it rolls back (and its event does not say when), never
//!   `FAILED` nor `IN_PROGRESS`.
//!
//! Every decision is written to the state table's audit trail. The decision
//! is pure ([`decide`]); [`shell`] observes and acts.

#![warn(missing_docs)]

pub mod decide;
pub mod event;
pub mod settings;
pub mod shell;

#[cfg(test)]
mod samples {
    //! Every sample in `events/` for this function is read as its name says.

    use crate::event::{EventError, HookEvent, parse};

    #[test]
    fn every_sample_parses_as_its_name_says() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("deploy-hook-") {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let parsed = parse(&value);
            match name.as_str() {
                n if n.contains("malformed") => assert!(matches!(parsed, Err(EventError::Unreadable(_))), "{n}"),
                n if n.contains("-ecs-") => assert!(matches!(parsed, Ok(HookEvent::Ecs(_))), "{n}"),
                n => assert!(matches!(parsed, Ok(HookEvent::CodeDeploy { .. })), "{n}: {parsed:?}"),
            }
            seen += 1;
        }
        assert!(seen >= 5, "the hook samples are there ({seen})");
    }
}
