//! The state table: the one place that reads and writes it.
//!
//! One DynamoDB table per region and environment (`tandem-<env>-state`,
//! keys `pk`/`sk`) holds what the functions and the CLI share. Its layout:
//!
//! | record | `pk` | `sk` |
//! | --- | --- | --- |
//! | [`RolesRecord`]: which region is primary, at which epoch | `region-roles` | `current` |
//! | [`FenceRecord`]: a region fenced by a promotion elsewhere | `region-roles` | `fence#<region>` |
//! | [`ReleaseRecord`]: one release in one region | `release#<region>` | `<started_at, 13 digits>#<release id>` |
//! | [`AuditEntry`]: one automated decision | `audit` | `<kind>#<key>` |
//! | [`ProbeRecord`]: the primary's failed-probe streak, seen from a region | `failover` | `probe#<region>` |
//! | [`FailoverLock`]: one promotion and how far it got | `failover` | `lock#<roles version>` |
//! | [`ProbeRecord`], [`FailoverLock`]: the failover probe streak and lock | `failover` | `probe#<region>`, `lock#<version>` |
//!
//! Actions happen once through conditional writes, never by reading first:
//! a release starts only if its record does not exist, finishes only from
//! `in-progress`, an audit entry is written only once per key (a second
//! delivery of the same event finds it there), and the roles change only
//! from the version that was read.

mod failover;
mod fence;
mod items;
mod local;
mod records;

pub use failover::{FAILOVER_PK, FailoverLock, FailoverStep, ProbeRecord};
pub use fence::{FenceRecord, Standing};
pub use records::{AuditEntry, AuditKind, ReleaseRecord, ReleaseState, RolesRecord};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use items::is_condition_failure;

/// The key of the roles record.
pub const ROLES_KEY: (&str, &str) = ("region-roles", "current");
/// The partition of the audit trail.
pub const AUDIT_PK: &str = "audit";
/// How an audit entry's outcome starts when its handling failed; a
/// redelivered event may then be decided again ([`StateTable::audit_decision`]).
pub const FAILED_OUTCOME: &str = "failed:";
/// How long an audit entry is kept (DynamoDB's TTL removes it after).
pub const AUDIT_RETENTION_SECS: u64 = 90 * 24 * 3600;

/// What went wrong with the state table.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The call to DynamoDB failed.
    #[error("the state table {table} could not be {action}: {reason}")]
    Call {
        /// The table.
        table: String,
        /// What was being done, such as "read" or "written".
        action: &'static str,
        /// The SDK's readable reason.
        reason: String,
        /// Whether the region did not answer at all ([`crate::aws::is_unreachable`]).
        unreachable: bool,
    },
    /// An item did not have the shape this version of tandem writes.
    #[error(
        "the state table {table} holds an unreadable {what}: {reason}; it was written by another version of tandem, or by hand"
    )]
    Unreadable {
        /// The table.
        table: String,
        /// Which record.
        what: &'static str,
        /// What is missing or wrong.
        reason: String,
    },
}

impl StateError {
    /// Whether the table's region did not answer (rather than refused).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Call { unreachable: true, .. })
    }
}

/// Whether a conditional write took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// It did: this call made the change.
    Done,
    /// It did not: the condition failed (the record was there already, or in
    /// another state), so an earlier delivery made the change.
    AlreadyDone,
}

/// One region's state table.
#[derive(Debug, Clone)]
pub struct StateTable {
    client: Client,
    name: String,
}

impl StateTable {
    /// The table `name` (`tandem-<env>-state`) through `client`.
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The table name for environment `env`.
    pub fn name_for(env: &str) -> String {
        format!("tandem-{env}-state")
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn failed<E>(&self, action: &'static str, error: &SdkError<E, HttpResponse>) -> StateError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        StateError::Call {
            table: self.name.clone(),
            action,
            reason: crate::aws::error_text(error),
            unreachable: crate::aws::is_unreachable(error),
        }
    }

    /// The result of a conditional write: done, not done because its
    /// condition did not hold (an earlier delivery did it), or an error.
    fn conditional<T, E>(&self, result: Result<T, SdkError<E, HttpResponse>>) -> Result<Written, StateError>
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        match result {
            Ok(_) => Ok(Written::Done),
            Err(e) if is_condition_failure(&e) => Ok(Written::AlreadyDone),
            Err(e) => Err(self.failed("written", &e)),
        }
    }

    fn unreadable(&self, what: &'static str, reason: String) -> StateError {
        StateError::Unreadable {
            table: self.name.clone(),
            what,
            reason,
        }
    }

    /// The recorded roles, if any (strongly consistent).
    pub async fn roles(&self) -> Result<Option<RolesRecord>, StateError> {
        let out = (self.client.get_item())
            .table_name(&self.name)
            .key("pk", AttributeValue::S(ROLES_KEY.0.into()))
            .key("sk", AttributeValue::S(ROLES_KEY.1.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("read", &e))?;
        out.item()
            .map(|item| RolesRecord::from_item(item).map_err(|why| self.unreadable("roles record", why)))
            .transpose()
    }

    /// Records `roles`, only if the record is still at `read_version` (the
    /// `updated_at` that was read; `None`: there was none).
    pub async fn put_roles(&self, roles: &RolesRecord, read_version: Option<u64>) -> Result<Written, StateError> {
        let put = (self.client.put_item())
            .table_name(&self.name)
            .set_item(Some(roles.to_item()));
        let put = match read_version {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(version) => put
                .condition_expression("updated_at = :read")
                .expression_attribute_values(":read", AttributeValue::N(version.to_string())),
        };
        self.conditional(put.send().await)
    }

    /// Records a new release as in progress, unless it is recorded already.
    pub async fn start_release(&self, release: &ReleaseRecord) -> Result<Written, StateError> {
        let put = (self.client.put_item())
            .table_name(&self.name)
            .set_item(Some(release.to_item()))
            .condition_expression("attribute_not_exists(pk)");
        self.conditional(put.send().await)
    }

    /// Adds the CodeDeploy deployment to `release`, only while it is in progress.
    pub async fn record_deployment(&self, release: &ReleaseRecord, deployment_id: &str) -> Result<Written, StateError> {
        let (pk, sk) = release.key();
        let update = (self.client.update_item())
            .table_name(&self.name)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression("SET deployment_id = :deployment")
            .condition_expression("#state = :running")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":deployment", AttributeValue::S(deployment_id.into()))
            .expression_attribute_values(":running", AttributeValue::S(ReleaseState::InProgress.as_str().into()));
        self.conditional(update.send().await)
    }

    /// Ends `release` in `state` with `reason`, only if it is still in progress.
    pub async fn finish_release(
        &self,
        release: &ReleaseRecord,
        state: ReleaseState,
        reason: &str,
        at: u64,
    ) -> Result<Written, StateError> {
        self.transition(release, ReleaseState::InProgress, state, reason, at)
            .await
    }

    /// Marks `release` rolled back with `reason`, only if it had succeeded
    /// (a second rollback of the same release changes nothing).
    pub async fn mark_rolled_back(
        &self,
        release: &ReleaseRecord,
        reason: &str,
        at: u64,
    ) -> Result<Written, StateError> {
        (self.transition(release, ReleaseState::Succeeded, ReleaseState::RolledBack, reason, at)).await
    }

    /// Moves `release` from state `from` to `to`, with `reason` and the time.
    async fn transition(
        &self,
        release: &ReleaseRecord,
        from: ReleaseState,
        to: ReleaseState,
        reason: &str,
        at: u64,
    ) -> Result<Written, StateError> {
        let (pk, sk) = release.key();
        let update = (self.client.update_item())
            .table_name(&self.name)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression("SET #state = :state, reason = :reason, finished_at = :at")
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", AttributeValue::S(to.as_str().into()))
            .expression_attribute_values(":from", AttributeValue::S(from.as_str().into()))
            .expression_attribute_values(":reason", AttributeValue::S(reason.into()))
            .expression_attribute_values(":at", AttributeValue::N(at.to_string()));
        self.conditional(update.send().await)
    }

    /// The newest release in `region`, if any.
    pub async fn last_release(&self, region: &str) -> Result<Option<ReleaseRecord>, StateError> {
        let out = (self.client.query())
            .table_name(&self.name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(ReleaseRecord::partition(region)))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("read", &e))?;
        out.items()
            .first()
            .map(|item| ReleaseRecord::from_item(item).map_err(|why| self.unreadable("release record", why)))
            .transpose()
    }

    /// Writes `entry` once: a second write with the same kind and key (a
    /// repeated delivery of the same event) finds it there and changes nothing.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<Written, StateError> {
        let put = (self.client.put_item())
            .table_name(&self.name)
            .set_item(Some(entry.to_item()))
            .condition_expression("attribute_not_exists(pk)");
        let written = self.conditional(put.send().await)?;
        if written == Written::Done {
            tracing::info!(kind = entry.kind.as_str(), key = %entry.key, decision = %entry.decision, reason = %entry.reason, "audited");
        }
        Ok(written)
    }

    /// Writes the decision on an event, as [`StateTable::audit`] does, but
    /// over an entry whose outcome starts with [`FAILED_OUTCOME`] too: Lambda
    /// redelivers an event whose handling failed, and that redelivery is
    /// decided and carried out again. The action itself still happens once:
    /// its claim (an [`StateTable::audit`] under the incident's own key) is
    /// written once, whatever the event's entry says.
    pub async fn audit_decision(&self, entry: &AuditEntry) -> Result<Written, StateError> {
        let put = (self.client.put_item())
            .table_name(&self.name)
            .set_item(Some(entry.to_item()))
            .condition_expression("attribute_not_exists(pk) OR begins_with(outcome, :failed)")
            .expression_attribute_values(":failed", AttributeValue::S(FAILED_OUTCOME.into()));
        let written = self.conditional(put.send().await)?;
        if written == Written::Done {
            tracing::info!(kind = entry.kind.as_str(), key = %entry.key, decision = %entry.decision, reason = %entry.reason, "audited");
        }
        Ok(written)
    }

    /// The lifecycle-hook decisions of CodeDeploy deployment `deployment_id`,
    /// oldest first (the hook keys its entries `<deployment>#<execution>`).
    pub async fn hook_audits(&self, deployment_id: &str) -> Result<Vec<AuditEntry>, StateError> {
        let mut entries = self.audits_from(AuditKind::Hook, &format!("{deployment_id}#")).await?;
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }

    /// Every audit entry of `kind` whose key starts with `prefix`.
    async fn audits_from(&self, kind: AuditKind, prefix: &str) -> Result<Vec<AuditEntry>, StateError> {
        let out = (self.client.query())
            .table_name(&self.name)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(AUDIT_PK.into()))
            .expression_attribute_values(":prefix", AttributeValue::S(AuditEntry::sort_key(kind, prefix)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("read", &e))?;
        out.items()
            .iter()
            .map(|item| AuditEntry::from_item(item).map_err(|why| self.unreadable("audit entry", why)))
            .collect()
    }

    /// Every decision made at or after `since` (Unix seconds), of `kind` or
    /// of every kind, oldest first: the whole trail, page after page (what
    /// `tandem audit` and `tandem status` read).
    pub async fn audit_trail(&self, kind: Option<AuditKind>, since: u64) -> Result<Vec<AuditEntry>, StateError> {
        let mut query = (self.client.query())
            .table_name(&self.name)
            .key_condition_expression("pk = :pk")
            .filter_expression("#at >= :since")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":pk", AttributeValue::S(AUDIT_PK.into()))
            .expression_attribute_values(":since", AttributeValue::N(since.to_string()))
            .consistent_read(true);
        // DynamoDB refuses an empty key value, so every kind is the bare partition.
        if let Some(kind) = kind {
            query = query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", AttributeValue::S(AuditEntry::sort_key(kind, "")));
        }
        let mut pages = query.into_paginator().send();
        let mut entries = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.failed("read", &e))?;
            for item in page.items() {
                entries.push(AuditEntry::from_item(item).map_err(|why| self.unreadable("audit entry", why))?);
            }
        }
        entries.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
        Ok(entries)
    }

    /// Sets the outcome of the audit entry of `kind` for `key` (written
    /// first with its decision, before the action it records).
    pub async fn set_audit_outcome(&self, kind: AuditKind, key: &str, outcome: &str) -> Result<Written, StateError> {
        let update = (self.client.update_item())
            .table_name(&self.name)
            .key("pk", AttributeValue::S(AUDIT_PK.into()))
            .key("sk", AttributeValue::S(AuditEntry::sort_key(kind, key)))
            .update_expression("SET outcome = :outcome")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":outcome", AttributeValue::S(outcome.into()));
        self.conditional(update.send().await)
    }

    /// The audit entry of `kind` for `key`, if written.
    pub async fn audit_entry(&self, kind: AuditKind, key: &str) -> Result<Option<AuditEntry>, StateError> {
        let out = (self.client.get_item())
            .table_name(&self.name)
            .key("pk", AttributeValue::S(AUDIT_PK.into()))
            .key("sk", AttributeValue::S(AuditEntry::sort_key(kind, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("read", &e))?;
        out.item()
            .map(|item| AuditEntry::from_item(item).map_err(|why| self.unreadable("audit entry", why)))
            .transpose()
    }
}

#[cfg(test)]
mod tests;
