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

/// `tandem audit`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// How far back: 90s, 15m, 24h, 7d.
    #[arg(long, default_value = "24h")]
    pub(crate) since: String,
    /// Only this kind of decision.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(decide::kind_names()))]
    pub(crate) kind: Option<String>,
    /// text for a person; json for scripts (tandem.audit/1, see docs/operating.md).
    #[arg(long, value_enum, default_value_t)]
    pub(crate) output: crate::ui::Output,
}

impl Args {
    /// The kind `--kind` asks for; `None` for every kind.
    fn kind(&self) -> Result<Option<AuditKind>, super::Invalid> {
        (self.kind.as_deref().map(decide::parse_kind).transpose()).map_err(super::Invalid)
    }
}

impl super::CommandArgs for Args {
    fn validate(&self) -> Result<(), super::Invalid> {
        crate::when::parse_since(&self.since).map_err(super::Invalid)?;
        self.kind()?;
        Ok(())
    }

    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        crate::ui::set_output(self.output);
        let since_secs = crate::when::parse_since(&self.since).map_err(super::Invalid)?;
        let kind = self.kind()?;
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(&ctx, kind, since_secs).await
    }
}

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
