//! Change sets: proposing one (a deploy's from its plan, or any other), the
//! changes it would make, and discarding it. Part of [`super::Stacks`].

use super::{StackError, Stacks, Start, start_for};
use crate::events;
use crate::plan::{ParamValue, StackSpec, change_set_parameters};
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Tag};
use tandem_core::aws::error_text;

/// Where a change set's template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body<'b> {
    /// This template text.
    Text(&'b str),
    /// The template stored at this URL (a template too large to send inline).
    Url(&'b str),
    /// The template the stack has now (`UsePreviousTemplate`).
    Previous,
}

/// One resource change a change set would make (`tandem diff`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct ChangeView {
    /// `Add`, `Modify`, `Remove`…
    pub(crate) action: String,
    /// The resource's logical id.
    pub(crate) logical_id: String,
    /// The resource type.
    pub(crate) resource_type: String,
    /// Whether the change replaces the resource: `always`, `maybe`, or `null` for no.
    pub(crate) replacement: Option<&'static str>,
}

impl ChangeView {
    /// One line for a person.
    pub(crate) fn line(&self) -> String {
        let replacement = match self.replacement {
            Some("always") => "  (replacement)",
            Some(_) => "  (may replace)",
            None => "",
        };
        format!(
            "  {:<7} {:<28} {}{replacement}",
            self.action, self.logical_id, self.resource_type
        )
    }
}

/// One change set to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proposal<'b> {
    /// The stack.
    pub(crate) stack: &'b str,
    /// CREATE or UPDATE.
    pub(crate) kind: ChangeSetType,
    /// The template.
    pub(crate) body: Body<'b>,
    /// The parameters.
    pub(crate) parameters: Vec<(String, ParamValue)>,
    /// The environment (the `tandem:env` tag).
    pub(crate) env: &'b str,
    /// The template's part (the `tandem:stack` tag).
    pub(crate) part: &'b str,
}

impl Stacks<'_> {
    /// Creates a change set for `spec` and waits until it is ready. Returns
    /// its name, or `None` when it has no changes (the empty set is deleted).
    /// The parameters the template keeps on update are not set
    /// ([`change_set_parameters`]).
    pub(crate) async fn prepare(
        &self,
        spec: &StackSpec,
        body: Body<'_>,
        env: &str,
    ) -> Result<Option<String>, StackError> {
        let current = self.describe(&spec.name).await?;
        let status = current.as_ref().map(|c| c.status.clone());
        let (kind, existing) = match start_for(status.as_deref()) {
            Start::Create => (ChangeSetType::Create, None),
            Start::DeleteThenCreate => {
                crate::say!(
                    "  {} ({}): ROLLBACK_COMPLETE after a failed first create; deleting it to start again",
                    spec.name,
                    self.region
                );
                self.delete(&spec.name).await?;
                (ChangeSetType::Create, None)
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
            Start::Update => (
                ChangeSetType::Update,
                current.map(|c| c.parameters.into_keys().collect()),
            ),
        };
        self.propose(&Proposal {
            stack: &spec.name,
            kind,
            body,
            parameters: change_set_parameters(spec, existing.as_ref()),
            env,
            part: spec.template.part(),
        })
        .await
    }

    /// Creates the change set `proposal` describes and waits until it is
    /// ready. Returns its name, or `None` when it has no changes (the empty
    /// set is deleted).
    pub(crate) async fn propose(&self, proposal: &Proposal<'_>) -> Result<Option<String>, StackError> {
        let stack = proposal.stack;
        let change_set = unique_change_set_name(proposal.env);
        let parameters: Vec<Parameter> = proposal
            .parameters
            .iter()
            .map(|(k, v)| match v {
                ParamValue::Set(value) => Parameter::builder().parameter_key(k).parameter_value(value).build(),
                ParamValue::Previous => Parameter::builder().parameter_key(k).use_previous_value(true).build(),
            })
            .collect();
        let request = self
            .cfn
            .create_change_set()
            .stack_name(stack)
            .change_set_name(&change_set)
            .change_set_type(proposal.kind.clone());
        let request = match proposal.body {
            Body::Text(body) => request.template_body(body),
            Body::Url(url) => request.template_url(url),
            Body::Previous => request.use_previous_template(true),
        };
        request
            .set_parameters(Some(parameters))
            .set_role_arn(self.role.map(str::to_owned))
            .capabilities(Capability::CapabilityNamedIam)
            .tags(Tag::builder().key("tandem:env").value(proposal.env).build())
            .tags(Tag::builder().key("tandem:stack").value(proposal.part).build())
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    stack,
                    format!(
                        "could not create a change set ({}): fix the template or parameters it names, then retry",
                        error_text(&e)
                    ),
                )
            })?;
        loop {
            let out = self.read_change_set(stack, &change_set).await?;
            match out.status() {
                Some(ChangeSetStatus::CreateComplete) => return Ok(Some(change_set)),
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or("no reason given").to_owned();
                    self.discard(stack, &change_set).await;
                    if events::is_no_changes(&reason) {
                        return Ok(None);
                    }
                    return Err(self.fail(
                        stack,
                        format!("the change set failed ({reason}): fix what it names, then retry"),
                    ));
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
    }

    /// The resource changes of change set `change_set` of `stack`.
    pub(crate) async fn changes(&self, stack: &str, change_set: &str) -> Result<Vec<ChangeView>, StackError> {
        let out = self.read_change_set(stack, change_set).await?;
        Ok(out
            .changes()
            .iter()
            .filter_map(|c| c.resource_change())
            .map(|r| ChangeView {
                action: r.action().map_or("?", |a| a.as_str()).to_owned(),
                logical_id: r.logical_resource_id().unwrap_or("?").to_owned(),
                resource_type: r.resource_type().unwrap_or("?").to_owned(),
                replacement: match r.replacement().map(|x| x.as_str()) {
                    Some("True") => Some("always"),
                    Some("Conditional") => Some("maybe"),
                    _ => None,
                },
            })
            .collect())
    }

    /// One look at change set `change_set` of `stack`.
    async fn read_change_set(&self, stack: &str, change_set: &str) -> Result<DescribeChangeSetOutput, StackError> {
        (self.cfn.describe_change_set())
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    stack,
                    format!("could not read change set {change_set} ({}): retry", error_text(&e)),
                )
            })
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
}

/// A change set name no other deploy uses: `tandem-<env>-<seconds>-<nanoseconds>`
/// (the CI deploy role may touch only its own environment's change sets).
fn unique_change_set_name(env: &str) -> String {
    let now = tandem_core::clock::since_epoch();
    // Finer than a second: two deploys in one second must not collide.
    format!("tandem-{env}-{}-{:09}", now.as_secs(), now.subsec_nanos())
}
