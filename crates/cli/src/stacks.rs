//! One stack at a time: change sets, live events, deletion.

use crate::events::{self, EventView, Phase};
use crate::plan::StackSpec;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, StackEvent, Tag};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tandem_core::aws::{StackView, describe_stack, error_text};
use tandem_core::clock::unix_now;

/// A stack operation that failed, with the first cause and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{stack} in {region}: {reason}")]
pub(crate) struct StackError {
    /// The stack.
    pub(crate) stack: String,
    /// Its region.
    pub(crate) region: String,
    /// What failed first, why, and what to do.
    pub(crate) reason: String,
}

/// How a deploy starts from the stack's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// No stack yet (or an empty one a change set left): a CREATE change set.
    Create,
    /// A failed first create (`ROLLBACK_COMPLETE`) cannot be updated: delete
    /// it, then a CREATE change set.
    DeleteThenCreate,
    /// An operation is running: refuse.
    Busy,
    /// A settled stack: an UPDATE change set.
    Update,
}

/// How a deploy starts when the stack's status is `status` (`None`: no stack).
pub(crate) fn start_for(status: Option<&str>) -> Start {
    match status {
        None | Some("REVIEW_IN_PROGRESS") => Start::Create,
        Some("ROLLBACK_COMPLETE") => Start::DeleteThenCreate,
        Some(s) if events::phase(s) == Phase::InProgress => Start::Busy,
        Some(_) => Start::Update,
    }
}

/// Where a stack came to rest after an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Settled {
    /// It finished as asked, with this status.
    Done(String),
    /// It no longer exists.
    Gone,
}

/// Deploys and deletes stacks in one region.
pub(crate) struct Stacks<'a> {
    cfn: &'a Client,
    region: &'a str,
    poll: Duration,
}

impl<'a> Stacks<'a> {
    /// Works through `cfn`, polling every `poll`.
    pub(crate) fn new(cfn: &'a Client, region: &'a str, poll: Duration) -> Self {
        Self { cfn, region, poll }
    }

    fn fail(&self, stack: &str, reason: impl Into<String>) -> StackError {
        StackError {
            stack: stack.to_owned(),
            region: self.region.to_owned(),
            reason: reason.into(),
        }
    }

    /// The stack's status and outputs, or `None` when it does not exist.
    pub(crate) async fn describe(&self, name: &str) -> Result<Option<StackView>, StackError> {
        describe_stack(self.cfn, name).await.map_err(|e| {
            self.fail(
                name,
                format!(
                    "could not read the stack ({}): check the credentials and that they may call \
                     cloudformation:DescribeStacks, then retry",
                    error_text(&e)
                ),
            )
        })
    }

    /// Creates a change set for `spec` and waits until it is ready. Returns
    /// its name, or `None` when it has no changes (the empty set is deleted).
    pub(crate) async fn prepare(&self, spec: &StackSpec, body: &str, env: &str) -> Result<Option<String>, StackError> {
        let status = self.describe(&spec.name).await?.map(|view| view.status);
        let kind = match start_for(status.as_deref()) {
            Start::Create => ChangeSetType::Create,
            Start::DeleteThenCreate => {
                println!(
                    "  {} ({}): ROLLBACK_COMPLETE after a failed first create; deleting it to start again",
                    spec.name, self.region
                );
                self.delete(&spec.name).await?;
                ChangeSetType::Create
            }
            Start::Busy => {
                return Err(self.fail(
                    &spec.name,
                    format!(
                        "the stack is busy ({}); wait for that operation to finish, then retry",
                        status.unwrap_or_default()
                    ),
                ));
            }
            Start::Update => ChangeSetType::Update,
        };
        let change_set = unique_change_set_name();
        let parameters: Vec<Parameter> = spec
            .parameters
            .iter()
            .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
            .collect();
        self.cfn
            .create_change_set()
            .stack_name(&spec.name)
            .change_set_name(&change_set)
            .change_set_type(kind)
            .template_body(body)
            .set_parameters(Some(parameters))
            .capabilities(Capability::CapabilityNamedIam)
            .tags(Tag::builder().key("tandem:env").value(env).build())
            .tags(Tag::builder().key("tandem:stack").value(spec.template.part()).build())
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    &spec.name,
                    format!(
                        "could not create a change set ({}): fix the template or parameters it names, then retry",
                        error_text(&e)
                    ),
                )
            })?;
        loop {
            let out = self
                .cfn
                .describe_change_set()
                .stack_name(&spec.name)
                .change_set_name(&change_set)
                .send()
                .await
                .map_err(|e| {
                    self.fail(
                        &spec.name,
                        format!("could not read change set {change_set} ({}): retry", error_text(&e)),
                    )
                })?;
            match out.status() {
                Some(ChangeSetStatus::CreateComplete) => return Ok(Some(change_set)),
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or("no reason given").to_owned();
                    self.discard(&spec.name, &change_set).await;
                    if events::is_no_changes(&reason) {
                        return Ok(None);
                    }
                    return Err(self.fail(
                        &spec.name,
                        format!("the change set failed ({reason}): fix what it names, then retry"),
                    ));
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
    }

    /// The changes a prepared change set would make, one line each.
    pub(crate) async fn changes(&self, stack: &str, change_set: &str) -> Result<Vec<String>, StackError> {
        let out = self
            .cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    stack,
                    format!("could not read change set {change_set} ({}): retry", error_text(&e)),
                )
            })?;
        Ok(out
            .changes()
            .iter()
            .filter_map(|c| c.resource_change())
            .map(|r| {
                let replacement = match r.replacement().map(|x| x.as_str()) {
                    Some("True") => "  (replacement)",
                    Some("Conditional") => "  (may replace)",
                    _ => "",
                };
                format!(
                    "  {:<7} {:<28} {}{replacement}",
                    r.action().map(|a| a.as_str()).unwrap_or("?"),
                    r.logical_resource_id().unwrap_or("?"),
                    r.resource_type().unwrap_or("?")
                )
            })
            .collect())
    }

    /// Deletes a change set (and the empty stack a CREATE change set made).
    pub(crate) async fn discard(&self, stack: &str, change_set: &str) {
        let _ = self
            .cfn
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await;
        if let Ok(Some(view)) = self.describe(stack).await
            && view.status == "REVIEW_IN_PROGRESS"
        {
            let _ = self.cfn.delete_stack().stack_name(stack).send().await;
        }
    }

    /// Executes a prepared change set, printing events as they come, until
    /// the stack settles; returns its final status.
    pub(crate) async fn execute(&self, stack: &str, change_set: &str) -> Result<String, StackError> {
        self.cfn
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    stack,
                    format!(
                        "could not execute change set {change_set} ({}): run the deploy again",
                        error_text(&e)
                    ),
                )
            })?;
        match self.settle(stack).await? {
            Settled::Done(status) => Ok(status),
            Settled::Gone => Err(self.fail(
                stack,
                "the stack disappeared while its change set ran (deleted by someone else?): run the deploy again",
            )),
        }
    }

    /// Deletes the stack and waits until it is gone.
    pub(crate) async fn delete(&self, stack: &str) -> Result<(), StackError> {
        self.cfn.delete_stack().stack_name(stack).send().await.map_err(|e| {
            self.fail(
                stack,
                format!(
                    "could not delete the stack ({}): check that termination protection is off and the \
                     credentials may call cloudformation:DeleteStack, then retry",
                    error_text(&e)
                ),
            )
        })?;
        match self.settle(stack).await? {
            Settled::Gone => Ok(()),
            Settled::Done(status) => Err(self.fail(
                stack,
                format!("the stack is still there ({status}) after the delete request: retry the delete"),
            )),
        }
    }

    /// Waits until the stack's current operation ends, printing its events.
    /// A failure names the first resource that failed and why.
    async fn settle(&self, stack: &str) -> Result<Settled, StackError> {
        let started = Instant::now();
        // A little before now: the operation's first events may carry an
        // earlier second than this machine's clock.
        let since = i64::try_from(unix_now().saturating_sub(2)).unwrap_or(i64::MAX);
        let mut seen = HashSet::new();
        loop {
            let Some(view) = self.describe(stack).await? else {
                return Ok(Settled::Gone);
            };
            let history = self.events_since(stack, since).await;
            for e in &history {
                if seen.insert(e.id.clone()) {
                    println!("{}", events::format_event(self.region, e));
                }
            }
            let status = view.status;
            match events::phase(&status) {
                Phase::InProgress => tokio::time::sleep(self.poll).await,
                Phase::Succeeded => {
                    println!(
                        "  {stack} ({}): {status} in {:.1}s",
                        self.region,
                        started.elapsed().as_secs_f32()
                    );
                    return Ok(Settled::Done(status));
                }
                Phase::Failed if status == "DELETE_COMPLETE" => return Ok(Settled::Gone),
                Phase::Failed => {
                    let cause = events::first_failure(&history, stack)
                        .unwrap_or_else(|| "no resource reported a failure".to_owned());
                    return Err(self.fail(
                        stack,
                        format!("ended {status}; first failure: {cause}; fix that cause, then run the command again"),
                    ));
                }
            }
        }
    }

    /// The stack's events from `since` (Unix seconds) on, oldest first. It
    /// reads page after page, newest first, and stops at the first event
    /// older than `since`, so a long history costs one page, not all of them.
    /// Empty (or cut short) when they cannot be read: events are for display
    /// and diagnosis, the stack's status decides.
    async fn events_since(&self, stack: &str, since: i64) -> Vec<EventView> {
        let mut items = self
            .cfn
            .describe_stack_events()
            .stack_name(stack)
            .into_paginator()
            .items()
            .send();
        let mut list = Vec::new();
        while let Some(Ok(event)) = items.next().await {
            let event = view(&event);
            if event.at < since {
                break;
            }
            list.push(event);
        }
        list.reverse();
        list
    }
}

fn view(e: &StackEvent) -> EventView {
    EventView {
        id: e.event_id().unwrap_or_default().to_owned(),
        at: e.timestamp().map(|t| t.secs()).unwrap_or_default(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: e.resource_type().unwrap_or_default().to_owned(),
        status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        reason: e.resource_status_reason().map(str::to_owned),
    }
}

fn unique_change_set_name() -> String {
    let now = tandem_core::clock::since_epoch();
    // Finer than a second: two deploys in one second must not collide.
    format!("tandem-{}-{:09}", now.as_secs(), now.subsec_nanos())
}

#[cfg(test)]
#[path = "stacks_tests.rs"]
mod tests;
