//! `tandem status`: observes both regions (the roles, each stack, each
//! region's newest release, the alarms in ALARM, the failover probes and
//! locks, the last decisions) into a [`StatusReport`], then prints it on
//! one screen or as JSON. Exits non-zero when something needs a person
//! ([`crate::commands::status::decide::attention`]).

/// The pure part: what to do and what to say, with no AWS call.
pub(crate) mod decide;

use super::release::approve::decide::{deployment_to_read, paused_hook};
use super::release::approve::hooks_of;
use super::stacks_for;
use crate::commands::audit::decide::merge;
use crate::config::ReleaseEngine;
use crate::context::Context;
use crate::plan::{Template, deploy_order};
use crate::say;
use crate::ui;
use aws_sdk_cloudwatch::types::StateValue;
use decide::{
    AlarmView, FailoverView, PausedHook, ReleaseView, RolesView, STATUS_SCHEMA, StackStatus, StatusReport, WritesView,
    attention, render,
};
use std::collections::BTreeMap;
use tandem_core::aws::error_text;
use tandem_core::clock::unix_now;
use tandem_core::fence;
use tandem_core::state::ReleaseRecord;

/// How many decisions the status shows.
pub(crate) const LAST_DECISIONS: usize = 5;
/// How far back the status looks for them.
pub(crate) const DECISIONS_WINDOW_SECS: u64 = 30 * 86_400;

/// `tandem status`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// text for a person; json for scripts (tandem.status/1, with the stacks' outputs; see docs/operating.md).
    #[arg(long, value_enum, default_value_t)]
    pub(crate) output: crate::ui::Output,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        crate::ui::set_output(self.output);
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(&ctx).await
    }
}

/// Prints the status; returns whether nothing needs a person.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<bool> {
    let mut report = observe(ctx).await?;
    report.attention = attention(&report);
    if ui::json() {
        ui::emit_json(&report)?;
    } else {
        render(&report).iter().for_each(|l| say!("{l}"));
    }
    Ok(report.attention.is_empty())
}

/// Reads everything the report holds; what cannot be read is named in
/// `unreadable` rather than failing the whole status.
async fn observe(ctx: &Context) -> anyhow::Result<StatusReport> {
    let mut unreadable = Vec::new();
    for (region, why) in &ctx.unreachable {
        unreadable.push(format!(
            "{region} is unreachable ({why}); its stacks, release, alarms, probes and decisions are not shown"
        ));
    }
    let reachable = ctx.reachable_regions();
    let mut stacks = Vec::new();
    let mut releases = Vec::new();
    for spec in deploy_order(&ctx.config, &ctx.roles, &BTreeMap::new(), &BTreeMap::new()) {
        if !reachable.contains(&spec.region) {
            continue;
        }
        let view = match stacks_for(ctx, &spec).describe(&spec.name).await {
            Ok(view) => view,
            Err(e) => {
                unreadable.push(format!("stack {} in {}: {e}", spec.name, spec.region));
                continue;
            }
        };
        if spec.template == Template::Region {
            match ctx.state(&spec.region).last_release(&spec.region).await {
                Ok(record) => {
                    let mut view = ReleaseView::of(&spec.region, record.as_ref());
                    match waiting_for_approval(ctx, &spec.region, record.as_ref()).await {
                        Ok(paused) => view.waiting_for_approval = paused,
                        Err(why) => {
                            unreadable.push(format!("the release's service deployment in {}: {why}", spec.region))
                        }
                    }
                    releases.push(view);
                }
                Err(e) => unreadable.push(format!("the release record in {}: {e}", spec.region)),
            }
        }
        stacks.push(StackStatus {
            name: spec.name.clone(),
            region: spec.region.clone(),
            status: view.as_ref().map(|v| v.status.clone()),
            reason: view.as_ref().and_then(|v| v.reason.clone()).filter(|r| !r.is_empty()),
            outputs: view.map(|v| v.outputs).unwrap_or_default(),
        });
    }
    let mut alarms = Vec::new();
    let mut decisions = Vec::new();
    let mut standings = BTreeMap::new();
    let since = unix_now().saturating_sub(DECISIONS_WINDOW_SECS);
    for region in &reachable {
        match firing(ctx, region).await {
            Ok(mut list) => alarms.append(&mut list),
            Err(why) => unreadable.push(why),
        }
        match ctx.state(region).standing().await {
            Ok(standing) => {
                standings.insert(region.clone(), standing);
            }
            Err(e) => unreadable.push(format!("the state table in {region}: {e}")),
        }
    }
    let mut failover = Vec::new();
    for (region, standing) in &standings {
        let table = ctx.state(region);
        let version = standing.roles.as_ref().map_or(0, |r| r.updated_at);
        let peer = standings
            .iter()
            .find(|(r, _)| *r != region)
            .map(|(_, s)| s)
            .ok_or("the peer region did not answer");
        let mut view = FailoverView {
            region: region.clone(),
            epoch: standing.epoch(),
            writes: WritesView::of(&fence::write_gate(
                region,
                &ctx.config.primary_region,
                Ok(standing),
                peer,
            )),
            probe: None,
            lock: None,
        };
        match table.probe(region).await {
            Ok(probe) => view.probe = probe.as_ref().map(Into::into),
            Err(e) => unreadable.push(format!("the probes in {region}: {e}")),
        }
        match table.failover_lock(version).await {
            Ok(lock) => view.lock = lock.as_ref().map(Into::into),
            Err(e) => unreadable.push(format!("the failover lock in {region}: {e}")),
        }
        failover.push(view);
        match table.audit_trail(None, since).await {
            Ok(entries) => decisions.push(entries),
            Err(e) => unreadable.push(format!("the audit trail in {region}: {e}")),
        }
    }
    let mut decisions = merge(decisions);
    decisions.reverse();
    decisions.truncate(LAST_DECISIONS);
    Ok(StatusReport {
        schema: STATUS_SCHEMA,
        env: ctx.config.env.clone(),
        roles: RolesView {
            primary: ctx.roles.primary.clone(),
            standby: ctx.roles.standby.clone(),
            source: ctx.roles_source.to_owned(),
            configured_primary: ctx.config.primary_region.clone(),
            epoch: standings.values().map(|s| s.epoch()).max().unwrap_or(0),
        },
        stacks,
        releases,
        alarms,
        failover,
        decisions,
        unreadable,
        attention: Vec::new(),
    })
}

/// The pause hook that holds `region`'s release `record` for a person: read
/// from ECS only for an ECS-engine release in progress, as `tandem release
/// --approve` reads it.
async fn waiting_for_approval(
    ctx: &Context,
    region: &str,
    record: Option<&ReleaseRecord>,
) -> Result<Option<PausedHook>, String> {
    if ctx.config.release_engine != ReleaseEngine::Ecs {
        return Ok(None);
    }
    let Some(arn) = deployment_to_read(record) else {
        return Ok(None);
    };
    let hooks = hooks_of(&ctx.aws.region(region).ecs, arn).await?;
    Ok(paused_hook(region, arn, &hooks))
}

/// The environment's alarms (`tandem-<env>-…`) in ALARM in `region`.
async fn firing(ctx: &Context, region: &str) -> Result<Vec<AlarmView>, String> {
    let cloudwatch = &ctx.aws.region(region).cloudwatch;
    let mut pages = (cloudwatch.describe_alarms())
        .alarm_name_prefix(format!("tandem-{}-", ctx.config.env))
        .state_value(StateValue::Alarm)
        .into_paginator()
        .send();
    let mut list = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("the alarms in {region} ({})", error_text(&e)))?;
        for alarm in page.metric_alarms() {
            // The filter is the service's; a state read here guards against one that ignores it.
            if alarm.state_value() != Some(&StateValue::Alarm) {
                continue;
            }
            list.push(AlarmView {
                region: region.to_owned(),
                name: alarm.alarm_name().unwrap_or_default().to_owned(),
                reason: alarm.state_reason().unwrap_or_default().to_owned(),
                since: alarm
                    .state_updated_timestamp()
                    .and_then(|t| u64::try_from(t.secs()).ok()),
            });
        }
    }
    Ok(list)
}
