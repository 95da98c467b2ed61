//! One stack at a time: change sets (in `change_sets.rs`), live events
//! (with anything else worth watching meanwhile), deletion.

use crate::events::{self, EventView, Phase};
use crate::ui::Waiting;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::StackEvent;
use std::collections::{BTreeMap, HashSet};
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
    /// It failed or rolled back.
    Failed {
        /// Such as `UPDATE_ROLLBACK_COMPLETE`.
        status: String,
        /// The first resource that failed, with its reason.
        cause: Option<String>,
    },
}

/// How an executed change set ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    /// As asked, with this status.
    Succeeded(String),
    /// Failed or rolled back, with this status and the first failure.
    Failed {
        /// Such as `UPDATE_ROLLBACK_COMPLETE`.
        status: String,
        /// The first resource that failed, with its reason
        /// ([`events::first_failure`]).
        cause: Option<String>,
    },
}

/// Something to look at on every poll while a stack operation runs, besides
/// its events (such as a release's progress in the state table).
pub(crate) trait Watch {
    /// Called once a poll, after the stack's new events are printed.
    async fn poll(&mut self);
}

/// Nothing to watch.
impl Watch for () {
    async fn poll(&mut self) {}
}

/// Deploys and deletes stacks in one region.
pub(crate) struct Stacks<'a> {
    cfn: &'a Client,
    region: &'a str,
    poll: Duration,
    role: Option<&'a str>,
}

impl<'a> Stacks<'a> {
    /// Works through `cfn`, polling every `poll`.
    pub(crate) fn new(cfn: &'a Client, region: &'a str, poll: Duration) -> Self {
        Self {
            cfn,
            region,
            poll,
            role: None,
        }
    }

    /// CloudFormation acts as `role` (its service role) for the change sets
    /// and deletes made here, instead of with the caller's credentials.
    pub(crate) fn acting_as(mut self, role: Option<&'a str>) -> Self {
        self.role = role;
        self
    }

    /// The error for `stack` in this region, with `reason`.
    fn fail(&self, stack: &str, reason: impl Into<String>) -> StackError {
        StackError {
            stack: stack.to_owned(),
            region: self.region.to_owned(),
            reason: reason.into(),
        }
    }

    /// The stack's status, outputs and parameters, or `None` when it does not exist.
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

    /// The stack's resources, logical id to physical id (the resources a
    /// delete keeps, read before it).
    pub(crate) async fn resources(&self, stack: &str) -> Result<BTreeMap<String, String>, StackError> {
        let out = (self.cfn.describe_stack_resources())
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    stack,
                    format!(
                        "could not list its resources ({}): allow cloudformation:DescribeStackResources, then retry",
                        error_text(&e)
                    ),
                )
            })?;
        Ok(out
            .stack_resources()
            .iter()
            .filter_map(|r| {
                Some((
                    r.logical_resource_id()?.to_owned(),
                    r.physical_resource_id()?.to_owned(),
                ))
            })
            .collect())
    }

    /// Executes a prepared change set, printing events as they come, until
    /// the stack settles; returns its final status. A failure names the first
    /// resource that failed and why.
    pub(crate) async fn execute(&self, stack: &str, change_set: &str) -> Result<String, StackError> {
        match self.execute_watching(stack, change_set, &mut ()).await? {
            Ended::Succeeded(status) => Ok(status),
            Ended::Failed { status, cause } => Err(self.ended(stack, &status, cause)),
        }
    }

    /// Executes a prepared change set, printing events as they come and
    /// polling `watch` alongside, until the stack settles; returns how it
    /// ended. An error only when the change set could not be run or watched.
    pub(crate) async fn execute_watching<W: Watch>(
        &self,
        stack: &str,
        change_set: &str,
        watch: &mut W,
    ) -> Result<Ended, StackError> {
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
        match self.settle(stack, watch).await? {
            Settled::Done(status) => Ok(Ended::Succeeded(status)),
            Settled::Failed { status, cause } => Ok(Ended::Failed { status, cause }),
            Settled::Gone => Err(self.fail(
                stack,
                "the stack disappeared while its change set ran (deleted by someone else?): run the deploy again",
            )),
        }
    }

    /// The error for a stack that ended `status` after `cause`.
    fn ended(&self, stack: &str, status: &str, cause: Option<String>) -> StackError {
        let cause = cause.unwrap_or_else(|| "no resource reported a failure".to_owned());
        self.fail(
            stack,
            format!("ended {status}; first failure: {cause}; fix that cause, then run the command again"),
        )
    }

    /// Deletes the stack and waits until it is gone.
    pub(crate) async fn delete(&self, stack: &str) -> Result<(), StackError> {
        let request = self
            .cfn
            .delete_stack()
            .stack_name(stack)
            .set_role_arn(self.role.map(str::to_owned));
        request.send().await.map_err(|e| {
            self.fail(
                stack,
                format!(
                    "could not delete the stack ({}): check that termination protection is off and the \
                     credentials may call cloudformation:DeleteStack, then retry",
                    error_text(&e)
                ),
            )
        })?;
        match self.settle(stack, &mut ()).await? {
            Settled::Gone => Ok(()),
            Settled::Failed { status, cause } => Err(self.ended(stack, &status, cause)),
            Settled::Done(status) => Err(self.fail(
                stack,
                format!("the stack is still there ({status}) after the delete request: retry the delete"),
            )),
        }
    }

    /// Waits until the stack's current operation ends, printing its events
    /// and polling `watch` each time. A failure carries the first resource
    /// that failed and why.
    async fn settle<W: Watch>(&self, stack: &str, watch: &mut W) -> Result<Settled, StackError> {
        let started = Instant::now();
        // A little before now: the operation's first events may carry an
        // earlier second than this machine's clock.
        let since = i64::try_from(unix_now().saturating_sub(2)).unwrap_or(i64::MAX);
        let mut seen = HashSet::new();
        let mut waiting = Waiting::new(format!("{stack} in {} to settle", self.region));
        loop {
            let Some(view) = self.describe(stack).await? else {
                return Ok(Settled::Gone);
            };
            let history = self.events_since(stack, since).await;
            waiting.clear();
            for e in &history {
                if seen.insert(e.id.clone()) {
                    crate::say!("{}", events::format_event(self.region, e));
                }
            }
            watch.poll().await;
            let status = view.status;
            match events::phase(&status) {
                Phase::InProgress => {
                    waiting.tick();
                    tokio::time::sleep(self.poll).await;
                }
                Phase::Succeeded => {
                    crate::say!(
                        "  {stack} ({}): {status} in {:.1}s",
                        self.region,
                        started.elapsed().as_secs_f32()
                    );
                    return Ok(Settled::Done(status));
                }
                Phase::Failed if status == "DELETE_COMPLETE" => return Ok(Settled::Gone),
                Phase::Failed => {
                    let cause = events::first_failure(&history, stack);
                    return Ok(Settled::Failed { status, cause });
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

/// The parts of a stack event the display and diagnosis use.
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

mod change_sets;

pub(crate) use change_sets::{Body, ChangeView, Proposal};

#[cfg(test)]
mod tests;
