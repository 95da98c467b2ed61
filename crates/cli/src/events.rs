//! Reading stack events and statuses: pure helpers for the deployer.

/// One stack event, as the deployer shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventView {
    /// CloudFormation's event id (to show each event once).
    pub(crate) id: String,
    /// When (Unix seconds).
    pub(crate) at: i64,
    /// The resource's logical id (the stack's name for stack-level events).
    pub(crate) logical_id: String,
    /// The resource type.
    pub(crate) resource_type: String,
    /// Such as `CREATE_COMPLETE`.
    pub(crate) status: String,
    /// Why, when CloudFormation says.
    pub(crate) reason: Option<String>,
}

/// Where a stack operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Still going.
    InProgress,
    /// Finished as asked.
    Succeeded,
    /// Failed or rolled back.
    Failed,
}

/// The phase of a stack status.
pub(crate) fn phase(status: &str) -> Phase {
    match status {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => Phase::Succeeded,
        s if s.ends_with("_IN_PROGRESS") => Phase::InProgress,
        _ => Phase::Failed,
    }
}

/// Whether a change set's failure reason means "nothing to change".
pub(crate) fn is_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// The first resource that failed, with its reason: the cause, not the
/// cancellations and rollbacks that followed it. `events` are in the order
/// they happened.
pub(crate) fn first_failure(events: &[EventView], stack_name: &str) -> Option<String> {
    let failed = |e: &&EventView| e.status.ends_with("_FAILED");
    let cancelled = |e: &EventView| e.reason.as_deref().is_some_and(|r| r.contains("cancelled"));
    events
        .iter()
        .filter(failed)
        .find(|e| e.logical_id != stack_name && !cancelled(e))
        .or_else(|| events.iter().find(failed))
        .map(|e| {
            format!(
                "{} ({}): {}",
                e.logical_id,
                e.resource_type,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
}

/// One line for the live display.
pub(crate) fn format_event(region: &str, e: &EventView) -> String {
    let reason = e
        .reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!("  {r}"))
        .unwrap_or_default();
    let t = e.at.rem_euclid(86_400);
    let time = format!("{:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60);
    format!(
        "  {time} {region:<10} {:<28} {:<40} {}{reason}",
        e.logical_id, e.resource_type, e.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(logical: &str, status: &str, reason: Option<&str>) -> EventView {
        EventView {
            id: format!("{logical}-{status}"),
            at: 1_795_651_200 + 12 * 3600,
            logical_id: logical.into(),
            resource_type: "AWS::X::Y".into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn phases() {
        for s in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"] {
            assert_eq!(phase(s), Phase::Succeeded, "{s}");
        }
        for s in [
            "CREATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "REVIEW_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
        ] {
            assert_eq!(phase(s), Phase::InProgress, "{s}");
        }
        for s in [
            "ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "CREATE_FAILED",
            "DELETE_FAILED",
            "DELETE_COMPLETE",
        ] {
            assert_eq!(phase(s), Phase::Failed, "{s}");
        }
    }

    #[test]
    fn no_change_reasons_are_recognised() {
        assert!(is_no_changes(
            "The submitted information didn't contain changes. Submit different information."
        ));
        assert!(is_no_changes("No updates are to be performed."));
        assert!(!is_no_changes("Template format error"));
    }

    #[test]
    fn the_first_real_failure_is_the_cause() {
        let events = vec![
            event("s", "CREATE_IN_PROGRESS", None),
            event("Db", "CREATE_FAILED", Some("Resource creation cancelled")),
            event("Vpc", "CREATE_FAILED", Some("CIDR overlaps")),
            event(
                "s",
                "ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create: [Vpc]"),
            ),
            event("Alb", "DELETE_FAILED", Some("later")),
        ];
        assert_eq!(first_failure(&events, "s").unwrap(), "Vpc (AWS::X::Y): CIDR overlaps");
    }

    #[test]
    fn a_stack_level_failure_is_used_when_no_resource_failed() {
        let events = vec![event("s", "UPDATE_FAILED", Some("Export in use"))];
        assert_eq!(first_failure(&events, "s").unwrap(), "s (AWS::X::Y): Export in use");
        assert_eq!(first_failure(&[event("s", "CREATE_COMPLETE", None)], "s"), None);
    }

    #[test]
    fn event_lines_carry_region_resource_status_and_reason() {
        let line = format_event("us-east-2", &event("Vpc", "CREATE_FAILED", Some("boom")));
        for part in ["12:00:00", "us-east-2", "Vpc", "AWS::X::Y", "CREATE_FAILED", "boom"] {
            assert!(line.contains(part), "{line}");
        }
    }
}
