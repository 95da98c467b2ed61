//! The records as the binary prints them: plain JSON objects with the
//! records' field names (not DynamoDB's typed attribute values), for `jq`.

use serde_json::{Value, json};
use tandem_core::state::{AuditEntry, FailoverLock, ReleaseRecord, RolesRecord};

/// A roles record.
pub fn roles(r: &RolesRecord) -> Value {
    json!({
        "primary": r.primary,
        "standby": r.standby,
        "updated_at": r.updated_at,
        "epoch": r.epoch,
        "reason": r.reason,
    })
}

/// A release record.
pub fn release(r: &ReleaseRecord) -> Value {
    json!({
        "release_id": r.release_id,
        "region": r.region,
        "image": r.image,
        "task_definition": r.task_definition,
        "previous_task_definition": r.previous_task_definition,
        "deployment_id": r.deployment_id,
        "state": r.state.as_str(),
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "reason": r.reason,
    })
}

/// An audit entry.
pub fn audit(e: &AuditEntry) -> Value {
    json!({
        "kind": e.kind.as_str(),
        "key": e.key,
        "at": e.at,
        "decision": e.decision,
        "reason": e.reason,
        "action": e.action,
        "outcome": e.outcome,
        "region": e.region,
    })
}

/// A failover lock.
pub fn lock(l: &FailoverLock) -> Value {
    json!({
        "version": l.version,
        "region": l.region,
        "holder": l.holder,
        "lease_until": l.lease_until,
        "step": l.step.as_str(),
        "reason": l.reason,
        "forced": l.forced,
        "started_at": l.started_at,
        "updated_at": l.updated_at,
        "error": l.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::state::AuditKind;

    #[test]
    fn an_audit_entry_prints_its_fields_by_name() {
        let entry = AuditEntry {
            kind: AuditKind::Rollback,
            key: "stop#d-1".into(),
            at: 7,
            decision: "StopDeployment".into(),
            reason: "alarm".into(),
            action: "StopDeployment d-1".into(),
            outcome: "failed: no CodeDeploy".into(),
            region: "us-east-1".into(),
        };
        let expected = json!({"kind": "rollback", "key": "stop#d-1", "at": 7, "decision": "StopDeployment",
            "reason": "alarm", "action": "StopDeployment d-1", "outcome": "failed: no CodeDeploy", "region": "us-east-1"});
        assert_eq!(audit(&entry), expected);
    }
}
