//! `tandem audit`, the pure part: the audit trail of both regions merged by
//! time, its lines for a person, and its JSON shape. The shell is
//! `commands::audit`; `tandem status` shows the last few the same way.

use crate::when::format_utc;
use serde::Serialize;
use tandem_core::state::{AuditEntry, AuditKind};

/// One decision, as `--output json` prints it (docs/operating.md documents the shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AuditView {
    /// When (Unix seconds).
    pub(crate) at: u64,
    /// The same, as `YYYY-MM-DD HH:MM:SS UTC`.
    pub(crate) time: String,
    /// The region whose function decided.
    pub(crate) region: String,
    /// `release`, `hook`, `rollback` or `failover`.
    pub(crate) kind: &'static str,
    /// What it decided about (a deployment and hook execution, an incident…).
    pub(crate) key: String,
    /// The decision.
    pub(crate) decision: String,
    /// Why.
    pub(crate) reason: String,
    /// What was done.
    pub(crate) action: String,
    /// How it went.
    pub(crate) outcome: String,
}

impl From<&AuditEntry> for AuditView {
    fn from(e: &AuditEntry) -> Self {
        Self {
            at: e.at,
            time: format_utc(e.at),
            region: e.region.clone(),
            kind: e.kind.as_str(),
            key: e.key.clone(),
            decision: e.decision.clone(),
            reason: e.reason.clone(),
            action: e.action.clone(),
            outcome: e.outcome.clone(),
        }
    }
}

/// `tandem audit --output json`: the decisions, oldest first.
#[derive(Debug, Serialize)]
pub(crate) struct AuditReport {
    /// `tandem.audit/1`.
    pub(crate) schema: &'static str,
    /// The environment.
    pub(crate) env: String,
    /// From when (Unix seconds).
    pub(crate) since: u64,
    /// The kind asked for; `null` for every kind.
    pub(crate) kind: Option<&'static str>,
    /// Regions whose trail could not be read, each with why.
    pub(crate) unreadable: Vec<String>,
    /// The decisions, oldest first.
    pub(crate) entries: Vec<AuditView>,
}

/// The schema name of [`AuditReport`].
pub(crate) const AUDIT_SCHEMA: &str = "tandem.audit/1";

/// Both regions' entries in time order, each once: a trail read twice (a
/// table that holds the other region's entries too) shows each decision once.
pub(crate) fn merge(per_region: Vec<Vec<AuditEntry>>) -> Vec<AuditView> {
    let mut all: Vec<AuditView> = per_region.iter().flatten().map(AuditView::from).collect();
    all.sort_by(|a, b| (a.at, &a.region, a.kind, &a.key).cmp(&(b.at, &b.region, b.kind, &b.key)));
    all.dedup_by(|a, b| a.region == b.region && a.kind == b.kind && a.key == b.key && a.at == b.at);
    all
}

/// The lines for one decision: when, where, which kind, the decision and
/// what it was about; then why, what was done, and how it went.
pub(crate) fn format_entry(e: &AuditView) -> Vec<String> {
    vec![
        format!("{}  {:<9}  {:<8}  {}  {}", e.time, e.region, e.kind, e.decision, e.key),
        format!("    why      {}", e.reason),
        format!("    did      {}", e.action),
        format!("    outcome  {}", e.outcome),
    ]
}

/// The kind `--kind` names: one of [`crate::functions::audit_kinds`].
pub(crate) fn parse_kind(text: &str) -> Result<AuditKind, String> {
    let kinds = crate::functions::audit_kinds();
    kinds.into_iter().find(|k| k.as_str() == text).ok_or_else(|| {
        let names = kind_names();
        let (last, rest) = names.split_last().unwrap_or((&"", &[]));
        format!(
            "--kind {text:?} is not a kind of decision: use {} or {last}",
            rest.join(", ")
        )
    })
}

/// The kinds of decision the functions audit ([`crate::functions::audit_kinds`]),
/// as `--kind` takes them.
pub(crate) fn kind_names() -> Vec<&'static str> {
    crate::functions::audit_kinds()
        .into_iter()
        .map(AuditKind::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(region: &str, kind: AuditKind, key: &str, at: u64) -> AuditEntry {
        AuditEntry {
            kind,
            key: key.into(),
            at,
            decision: "StopDeployment".into(),
            reason: "tandem-dev-5xx-rate is in ALARM".into(),
            action: "StopDeployment d-1 with auto-rollback".into(),
            outcome: "stopped".into(),
            region: region.into(),
        }
    }

    #[test]
    fn both_regions_merge_by_time_and_a_repeated_entry_shows_once() {
        let east1 = vec![
            entry("us-east-1", AuditKind::Rollback, "rollback#stop#d-1", 300),
            entry("us-east-1", AuditKind::Release, "r-1#outcome", 100),
        ];
        let east2 = vec![
            entry("us-east-2", AuditKind::Failover, "promotion#7", 200),
            entry("us-east-1", AuditKind::Rollback, "rollback#stop#d-1", 300),
        ];
        let keys: Vec<(String, String)> = merge(vec![east1, east2])
            .into_iter()
            .map(|v| (v.region, v.key))
            .collect();
        assert_eq!(
            keys,
            [
                ("us-east-1".to_owned(), "r-1#outcome".to_owned()),
                ("us-east-2".to_owned(), "promotion#7".to_owned()),
                ("us-east-1".to_owned(), "rollback#stop#d-1".to_owned()),
            ]
        );
    }

    #[test]
    fn an_entry_reads_as_when_where_what_why_did_and_outcome() {
        let view = AuditView::from(&entry(
            "us-east-1",
            AuditKind::Rollback,
            "rollback#stop#d-1",
            1_795_680_000 + 3_661,
        ));
        assert_eq!(
            format_entry(&view),
            [
                "2026-11-26 09:01:01 UTC  us-east-1  rollback  StopDeployment  rollback#stop#d-1",
                "    why      tandem-dev-5xx-rate is in ALARM",
                "    did      StopDeployment d-1 with auto-rollback",
                "    outcome  stopped",
            ]
        );
    }

    #[test]
    fn the_json_shape_is_the_documented_one() {
        let view = AuditView::from(&entry("us-east-2", AuditKind::Hook, "d-1#e-1", 60));
        let value = serde_json::to_value(&view).unwrap();
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "action", "at", "decision", "key", "kind", "outcome", "reason", "region", "time"
            ]
        );
        assert_eq!(value["kind"], "hook");
        assert_eq!(value["time"], "1970-01-01 00:01:00 UTC");
    }

    #[test]
    fn kinds_are_named_and_a_wrong_one_lists_the_right_ones() {
        assert_eq!(parse_kind("failover"), Ok(AuditKind::Failover));
        let e = parse_kind("rollbacks").unwrap_err();
        assert!(
            e.contains("\"rollbacks\"") && e.contains("release, hook, rollback, failover or notify"),
            "{e}"
        );
    }
}
