//! One stack at a time: change sets, live events, deletion.

use crate::events::{self, EventView, Phase};
use crate::plan::StackSpec;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Tag};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};
use tandem_core::aws::error_text;

/// A stack operation that failed, with the first cause.
#[derive(Debug, thiserror::Error)]
#[error("{stack} in {region}: {reason}")]
pub struct StackError {
    /// The stack.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// What failed first, and why.
    pub reason: String,
}

/// Deploys and deletes stacks in one region.
pub struct Stacks<'a> {
    cfn: &'a Client,
    region: &'a str,
    poll: Duration,
}

impl<'a> Stacks<'a> {
    /// Works through `cfn`, polling every `poll`.
    pub fn new(cfn: &'a Client, region: &'a str, poll: Duration) -> Self {
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
    pub async fn describe(&self, name: &str) -> Result<Option<(String, BTreeMap<String, String>)>, StackError> {
        match self.cfn.describe_stacks().stack_name(name).send().await {
            Ok(out) => Ok(out.stacks().first().map(|s| {
                let status = s.stack_status().map(|st| st.as_str().to_owned()).unwrap_or_default();
                let outputs = s
                    .outputs()
                    .iter()
                    .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
                    .collect();
                (status, outputs)
            })),
            Err(e) if error_text(&e).contains("does not exist") => Ok(None),
            Err(e) => Err(self.fail(name, error_text(&e))),
        }
    }

    /// Creates a change set for `spec` and waits until it is ready. Returns
    /// its name, or `None` when it has no changes (the empty set is deleted).
    pub async fn prepare(&self, spec: &StackSpec, body: &str, env: &str) -> Result<Option<String>, StackError> {
        let kind = match self.describe(&spec.name).await?.map(|(status, _)| status) {
            None => ChangeSetType::Create,
            Some(s) if s == "REVIEW_IN_PROGRESS" => ChangeSetType::Create,
            Some(s) if s == "ROLLBACK_COMPLETE" => {
                // A failed first create cannot be updated; remove it and start again.
                self.delete(&spec.name).await?;
                ChangeSetType::Create
            }
            Some(s) if events::phase(&s) == Phase::InProgress => {
                return Err(self.fail(
                    &spec.name,
                    format!("the stack is busy ({s}); wait for it to finish and retry"),
                ));
            }
            Some(_) => ChangeSetType::Update,
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
            .map_err(|e| self.fail(&spec.name, format!("could not create a change set: {}", error_text(&e))))?;
        loop {
            let out = self
                .cfn
                .describe_change_set()
                .stack_name(&spec.name)
                .change_set_name(&change_set)
                .send()
                .await
                .map_err(|e| self.fail(&spec.name, error_text(&e)))?;
            match out.status() {
                Some(ChangeSetStatus::CreateComplete) => return Ok(Some(change_set)),
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or("no reason given").to_owned();
                    self.discard(&spec.name, &change_set).await;
                    if events::is_no_changes(&reason) {
                        return Ok(None);
                    }
                    return Err(self.fail(&spec.name, format!("the change set failed: {reason}")));
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
    }

    /// The changes a prepared change set would make, one line each.
    pub async fn changes(&self, stack: &str, change_set: &str) -> Result<Vec<String>, StackError> {
        let out = self
            .cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| self.fail(stack, error_text(&e)))?;
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
    pub async fn discard(&self, stack: &str, change_set: &str) {
        let _ = self
            .cfn
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await;
        if let Ok(Some((status, _))) = self.describe(stack).await
            && status == "REVIEW_IN_PROGRESS"
        {
            let _ = self.cfn.delete_stack().stack_name(stack).send().await;
        }
    }

    /// Executes a prepared change set, printing events as they come, until the stack settles.
    pub async fn execute(&self, stack: &str, change_set: &str) -> Result<String, StackError> {
        self.cfn
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| self.fail(stack, format!("could not execute the change set: {}", error_text(&e))))?;
        self.settle(stack).await
    }

    /// Deletes the stack and waits until it is gone.
    pub async fn delete(&self, stack: &str) -> Result<(), StackError> {
        self.cfn
            .delete_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| self.fail(stack, error_text(&e)))?;
        match self.settle(stack).await {
            Ok(_) => Ok(()),
            Err(e) if e.reason == "gone" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn settle(&self, stack: &str) -> Result<String, StackError> {
        let started = Instant::now();
        let since = unix_now() - 2;
        let mut seen = HashSet::new();
        loop {
            let described = self.describe(stack).await?;
            self.print_new_events(stack, since, &mut seen).await;
            let Some((status, _)) = described else {
                return Err(self.fail(stack, "gone"));
            };
            match events::phase(&status) {
                Phase::InProgress => tokio::time::sleep(self.poll).await,
                Phase::Succeeded => {
                    println!(
                        "  {stack} ({}): {status} in {:.1}s",
                        self.region,
                        started.elapsed().as_secs_f32()
                    );
                    return Ok(status);
                }
                Phase::Failed if status == "DELETE_COMPLETE" => return Err(self.fail(stack, "gone")),
                Phase::Failed => {
                    let history: Vec<EventView> =
                        self.events(stack).await.into_iter().filter(|e| e.at >= since).collect();
                    let cause = events::first_failure(&history, stack).unwrap_or_else(|| status.clone());
                    return Err(self.fail(stack, format!("{status}; first failure: {cause}")));
                }
            }
        }
    }

    /// The stack's events, oldest first (empty when they cannot be read).
    async fn events(&self, stack: &str) -> Vec<EventView> {
        let Ok(out) = self.cfn.describe_stack_events().stack_name(stack).send().await else {
            return vec![];
        };
        let mut list: Vec<EventView> = out
            .stack_events()
            .iter()
            .map(|e| EventView {
                id: e.event_id().unwrap_or_default().to_owned(),
                at: e.timestamp().map(|t| t.secs()).unwrap_or_default(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            })
            .collect();
        list.reverse();
        list
    }

    async fn print_new_events(&self, stack: &str, since: i64, seen: &mut HashSet<String>) {
        for e in self.events(stack).await {
            // Events of earlier operations are history, not news.
            if e.at >= since && seen.insert(e.id.clone()) {
                println!("{}", events::format_event(self.region, &e));
            }
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn unique_change_set_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Finer than a second: two deploys in one second must not collide.
    format!("tandem-{}-{:09}", now.as_secs(), now.subsec_nanos())
}
