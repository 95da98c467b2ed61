//! `tandem audit`: every automated decision in both regions' state tables
//! since a time, merged by time: what was decided, why, what was done, and
//! how it went.

/// The pure part: what to do and what to say, with no AWS call.
pub(crate) mod decide;

use crate::context::Context;
use crate::say;
use crate::ui;
use decide::{AUDIT_SCHEMA, AuditReport, format_entry, merge};
use tandem_core::clock::unix_now;
use tandem_core::state::AuditKind;

/// Prints the trail; returns whether both regions' trails could be read.
pub(crate) async fn run(ctx: &Context, kind: Option<AuditKind>, since_secs: u64) -> anyhow::Result<bool> {
    let since = unix_now().saturating_sub(since_secs);
    let mut read = Vec::new();
    let mut unreadable = Vec::new();
    for (region, why) in &ctx.unreachable {
        unreadable.push(format!("{region}: unreachable ({why})"));
    }
    for region in &ctx.reachable_regions() {
        match ctx.state(region).audit_trail(kind, since).await {
            Ok(entries) => read.push(entries),
            Err(e) => unreadable.push(format!("{region}: {e}")),
        }
    }
    let report = AuditReport {
        schema: AUDIT_SCHEMA,
        env: ctx.config.env.clone(),
        since,
        kind: kind.map(AuditKind::as_str),
        unreadable,
        entries: merge(read),
    };
    if ui::json() {
        ui::emit_json(&report)?;
    } else {
        for why in &report.unreadable {
            say!("cannot read the audit trail of {why}");
        }
        if report.entries.is_empty() {
            say!("no decisions recorded since {}", crate::when::format_utc(since));
        }
        for entry in &report.entries {
            format_entry(entry).iter().for_each(|l| say!("{l}"));
        }
    }
    Ok(report.unreadable.is_empty())
}
