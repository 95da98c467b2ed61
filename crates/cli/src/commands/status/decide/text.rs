//! The one-screen text of `tandem status`.

use super::{StatusReport, attention};
use crate::when::format_utc;

/// The lines for a person: stacks, releases, alarms, failover, the
/// last decisions, and what needs a person (last, where the eye lands).
pub(crate) fn render(r: &StatusReport) -> Vec<String> {
    // The roles line is the context's, printed first by every command.
    let mut out = vec!["stacks".to_owned()];
    for s in &r.stacks {
        let status = s.status.as_deref().unwrap_or("not deployed");
        let reason = s.reason.as_deref().map(|r| format!("  {r}")).unwrap_or_default();
        out.push(format!("  {:<26} {:<9}  {status}{reason}", s.name, s.region));
    }
    out.push("releases".into());
    for rel in &r.releases {
        let line = match (&rel.image, rel.state) {
            (Some(image), Some(state)) => {
                let mut line = format!("{image} {state}, started {}", format_utc(rel.started_at.unwrap_or(0)));
                if let Some(at) = rel.finished_at {
                    line.push_str(&format!(", finished {}", format_utc(at)));
                }
                if let Some(d) = &rel.deployment_id {
                    line.push_str(&format!(", deployment {d}"));
                }
                if let Some(reason) = &rel.reason {
                    line.push_str(&format!(": {reason}"));
                }
                line
            }
            _ => "no release yet".into(),
        };
        out.push(format!("  {:<9}  {line}", rel.region));
        if let Some(paused) = &rel.waiting_for_approval {
            out.push(format!(
                "  {:<9}  WAITING FOR APPROVAL{}: pause hook {} of {}",
                rel.region,
                paused.until(),
                paused.hook_id,
                paused.service_deployment_arn
            ));
        }
    }
    if r.alarms.is_empty() {
        out.push("alarms in ALARM: none".into());
    } else {
        out.push("alarms in ALARM".into());
        for a in &r.alarms {
            let since = a.since.map(|s| format!(" since {}", format_utc(s))).unwrap_or_default();
            out.push(format!("  {:<9}  {}{since}: {}", a.region, a.name, a.reason));
        }
    }
    out.push(format!("failover (epoch {})", r.roles.epoch));
    for f in &r.failover {
        let why = f.writes.reason.as_deref().unwrap_or_default();
        out.push(match f.writes.state {
            "open" => format!("  {} writes: open (epoch {})", f.region, f.epoch),
            "standby" => format!("  {} writes: none, the standby (epoch {})", f.region, f.epoch),
            _ => format!("  {} writes: FENCED (epoch {}): {why}", f.region, f.epoch),
        });
        out.push(match &f.probe {
            Some(p) => format!(
                "  {} probes the other region: {} failed in a row (last at {}){}",
                f.region,
                p.failures,
                format_utc(p.last_at),
                p.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
            ),
            None => format!("  {} probes the other region: none yet", f.region),
        });
        out.push(match &f.lock {
            Some(l) => format!(
                "  {} failover lock: step {}, held by {} until {}{}",
                f.region,
                l.step,
                l.holder,
                format_utc(l.lease_until),
                l.error.as_deref().map(|e| format!(", error: {e}")).unwrap_or_default()
            ),
            None => format!("  {} failover lock: free", f.region),
        });
    }
    out.push(format!(
        "last decisions{}",
        if r.decisions.is_empty() { ": none" } else { "" }
    ));
    for d in &r.decisions {
        out.push(format!(
            "  {} {} {} ({}): {} -> {}",
            d.time, d.region, d.decision, d.kind, d.reason, d.outcome
        ));
    }
    let needs = attention(r);
    if needs.is_empty() {
        out.push("needs a person: nothing".into());
    } else {
        out.push("NEEDS A PERSON".into());
        out.extend(needs.iter().map(|n| format!("  - {n}")));
    }
    out
}
