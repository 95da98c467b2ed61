//! `tandem logs`: the functions' CloudWatch Logs from both regions, merged
//! by time, one readable line each (or the raw events with `--output json`);
//! `--follow` polls with backoff until Ctrl-C.

/// The pure part: what to do and what to say, with no AWS call.
pub(crate) mod decide;

use crate::context::Context;
use crate::functions::Function;
use crate::say;
use decide::{FOLLOW_FIRST, FOLLOW_LOOKBACK_MS, RawEvent, filter_pattern, format_line, merge, next_wait, read_event};
use std::collections::{HashMap, HashSet};
use tandem_core::aws::{error_text, is_not_found};
use tandem_core::clock::unix_now_ms;

/// The most events read from one log group in one poll; a longer window
/// says it was cut short (narrow it with `--since`, `--function` or `--filter`).
pub(crate) const MOST_PER_GROUP: usize = 10_000;

/// What to read.
pub(crate) struct Request {
    /// The functions.
    pub(crate) functions: Vec<&'static Function>,
    /// The regions.
    pub(crate) regions: Vec<String>,
    /// How far back to start (seconds).
    pub(crate) since_secs: u64,
    /// Keep polling until Ctrl-C.
    pub(crate) follow: bool,
    /// Only lines containing this text.
    pub(crate) filter: Option<String>,
    /// Print the raw events, one JSON object a line.
    pub(crate) json: bool,
}

/// What the reads so far have shown and said, so that following shows each
/// event and each note once.
#[derive(Default)]
struct Seen {
    /// Event ids shown, with their CloudWatch timestamps (to forget old ones).
    events: HashMap<String, u64>,
    /// Notes printed (a missing log group, a failed read).
    notes: HashSet<String>,
}

impl Seen {
    fn note(&mut self, note: String) {
        if self.notes.insert(note.clone()) {
            eprintln!("tandem logs: {note}");
        }
    }
}

/// `tandem logs`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// Only this function (default: all of them).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(crate::functions::names()))]
    pub(crate) function: Option<String>,
    /// Only this region (default: both).
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// How far back: 90s, 15m, 24h, 7d.
    #[arg(long, default_value = "15m")]
    pub(crate) since: String,
    /// Keep polling for new lines (with backoff) until Ctrl-C.
    #[arg(long)]
    pub(crate) follow: bool,
    /// Only lines that contain this text.
    #[arg(long)]
    pub(crate) filter: Option<String>,
    /// text for a person; json for scripts: the raw log events, one JSON object a line.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) output: crate::ui::Output,
}

impl Args {
    /// The functions `--function` asks for; every one without it.
    fn functions(&self) -> Result<Vec<&'static Function>, super::Invalid> {
        match self.function.as_deref() {
            None => Ok(crate::functions::FUNCTIONS.iter().collect()),
            Some(name) => crate::functions::named(name).map(|f| vec![f]).ok_or_else(|| {
                let names: Vec<&str> = crate::functions::names().collect();
                super::Invalid(format!(
                    "--function {name} is not a function: use one of {}",
                    names.join(", ")
                ))
            }),
        }
    }
}

impl super::CommandArgs for Args {
    fn validate(&self) -> Result<(), super::Invalid> {
        crate::when::parse_since(&self.since).map_err(super::Invalid)?;
        self.functions()?;
        Ok(())
    }

    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        let since_secs = crate::when::parse_since(&self.since).map_err(super::Invalid)?;
        let functions = self.functions()?;
        // The context's notes go to stderr: stdout carries only log lines.
        crate::ui::set_output(crate::ui::Output::Json);
        let ctx = crate::context::Context::load(root, &self.env).await?;
        let regions: Vec<String> = match self.region {
            Some(r) if ctx.config.regions.contains_key(&r) => vec![r],
            Some(r) => anyhow::bail!(
                "--region {r} is not one of {}'s regions: use {}",
                ctx.config.env,
                ctx.config.regions.keys().cloned().collect::<Vec<_>>().join(" or ")
            ),
            None => ctx.reachable_regions(),
        };
        let request = Request {
            functions,
            regions,
            since_secs,
            follow: self.follow,
            filter: self.filter.filter(|f| !f.is_empty()),
            json: self.output == crate::ui::Output::Json,
        };
        run(&ctx, &request).await
    }
}

/// Prints the lines; `--follow` goes on until Ctrl-C.
pub(crate) async fn run(ctx: &Context, request: &Request) -> anyhow::Result<bool> {
    let mut seen = Seen::default();
    let start = unix_now_ms().saturating_sub(request.since_secs * 1000);
    let shown = show(&read(ctx, request, start, &mut seen).await?, request.json);
    if !request.follow {
        if shown == 0 && !request.json {
            say!(
                "no log lines from {} in the window asked for",
                request.functions.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            );
        }
        // A region that did not answer was left out: a person should know.
        return Ok(ctx.unreachable.is_empty());
    }
    eprintln!("tandem logs: following; Ctrl-C stops");
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    let mut wait = FOLLOW_FIRST;
    loop {
        let poll = async {
            tokio::time::sleep(wait).await;
            // Never before the window asked for: older lines were not asked for.
            let from = unix_now_ms().saturating_sub(FOLLOW_LOOKBACK_MS).max(start);
            let events = read(ctx, request, from, &mut seen).await;
            // Ids older than two windows cannot come back.
            seen.events.retain(|_, at| *at + 2 * FOLLOW_LOOKBACK_MS >= from);
            events
        };
        tokio::select! {
            _ = &mut stop => {
                eprintln!("tandem logs: stopped");
                return Ok(true);
            }
            events = poll => {
                let shown = show(&events?, request.json);
                wait = next_wait(wait, shown > 0);
            }
        }
    }
}

/// Prints `events`; returns how many lines it printed.
fn show(events: &[RawEvent], json: bool) -> usize {
    if json {
        // By each line's own time, as the text lines are merged.
        let mut events: Vec<&RawEvent> = events.iter().collect();
        events.sort_by_cached_key(|e| {
            let at = read_event(e).map_or(e.timestamp, |l| l.at_ms);
            (at, e.region.clone(), e.function.clone())
        });
        for e in &events {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        }
        return events.len();
    }
    let lines = merge(events.iter().filter_map(read_event).collect());
    for line in &lines {
        println!("{}", format_line(line));
    }
    lines.len()
}

/// Every new event from `start_ms` on, in every asked-for group, as read
/// ([`show`] puts them in time order). A missing group (nothing deployed or
/// invoked there yet) is a note, not an error.
async fn read(ctx: &Context, request: &Request, start_ms: u64, seen: &mut Seen) -> anyhow::Result<Vec<RawEvent>> {
    let mut events = Vec::new();
    for region in &request.regions {
        let client = &ctx.aws.region(region).logs;
        for function in &request.functions {
            let group = function.log_group(&ctx.config.env);
            let mut call = (client.filter_log_events())
                .log_group_name(&group)
                .start_time(i64::try_from(start_ms).unwrap_or(i64::MAX));
            if let Some(text) = &request.filter {
                call = call.filter_pattern(filter_pattern(text));
            }
            let mut pages = call.into_paginator().send();
            let mut read = 0;
            let mut occurrences = HashMap::new();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(page) => page,
                    Err(e) if is_not_found(&e) => {
                        seen.note(format!(
                            "no log group {group} in {region} yet (not deployed, or never invoked)"
                        ));
                        break;
                    }
                    Err(e) => {
                        let why = format!(
                            "could not read {group} in {region} ({}): check that the credentials may call \
                             logs:FilterLogEvents there, then retry",
                            error_text(&e)
                        );
                        if request.follow {
                            seen.note(why);
                            break;
                        }
                        anyhow::bail!(why);
                    }
                };
                for e in page.events() {
                    let timestamp = u64::try_from(e.timestamp().unwrap_or_default()).unwrap_or_default();
                    let id = match e.event_id().filter(|id| !id.is_empty()) {
                        Some(id) => id.to_owned(),
                        None => stand_in_id(&mut occurrences, region, &group, e, timestamp),
                    };
                    if seen.events.insert(id.clone(), timestamp).is_none() {
                        events.push(RawEvent {
                            region: region.clone(),
                            function: function.name.to_owned(),
                            event_id: id,
                            timestamp,
                            message: e.message().unwrap_or_default().to_owned(),
                        });
                    }
                    read += 1;
                }
                if read >= MOST_PER_GROUP {
                    seen.note(format!(
                        "{group} in {region}: stopped after {MOST_PER_GROUP} events; narrow the window with \
                         --since, --function or --filter"
                    ));
                    break;
                }
            }
        }
    }
    Ok(events)
}

/// An id for an event that came without one (the local AWS gives none):
/// where and when it was written, its text's hash, and which occurrence of
/// that it is in this read. A later read of an overlapping window counts the
/// same occurrences in the same order, so the id is the same.
fn stand_in_id(
    occurrences: &mut HashMap<u64, u32>,
    region: &str,
    group: &str,
    e: &aws_sdk_cloudwatchlogs::types::FilteredLogEvent,
    timestamp: u64,
) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (region, group, e.log_stream_name(), timestamp, e.message()).hash(&mut hasher);
    let hash = hasher.finish();
    let n = occurrences.entry(hash).or_insert(0);
    *n += 1;
    format!("{hash:016x}#{n}")
}
