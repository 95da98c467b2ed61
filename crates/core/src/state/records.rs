//! The typed records of the state table, and their item shapes.

use super::items::{Item, get_n, get_s, n, opt_n, opt_s, s};
use super::{AUDIT_PK, AUDIT_RETENTION_SECS, ROLES_KEY};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// Which region is primary, as recorded by a failover or failback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolesRecord {
    /// The region that takes traffic and holds the writer.
    pub primary: String,
    /// The region that holds the replica.
    pub standby: String,
    /// When it was written (Unix seconds); also its version for conditional writes.
    pub updated_at: u64,
    /// The term of the primary it names: a number that only grows. A
    /// promotion writes the next one in the region it activates, a failback
    /// the next again in both, so a region that comes back can tell that it
    /// is behind (0: recorded before epochs existed).
    pub epoch: u64,
    /// Why, for people reading the table.
    pub reason: Option<String>,
}

impl RolesRecord {
    pub(crate) fn to_item(&self) -> Item {
        let mut item = Item::from([
            ("pk".to_owned(), s(ROLES_KEY.0)),
            ("sk".to_owned(), s(ROLES_KEY.1)),
            ("primary".to_owned(), s(&self.primary)),
            ("standby".to_owned(), s(&self.standby)),
            ("updated_at".to_owned(), n(self.updated_at)),
            ("epoch".to_owned(), n(self.epoch)),
        ]);
        if let Some(reason) = &self.reason {
            item.insert("reason".into(), s(reason));
        }
        item
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, String> {
        Ok(Self {
            primary: get_s(item, "primary")?,
            standby: get_s(item, "standby")?,
            updated_at: opt_n(item, "updated_at").unwrap_or(0),
            epoch: opt_n(item, "epoch").unwrap_or(0),
            reason: opt_s(item, "reason"),
        })
    }
}

/// Where a release stands in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseState {
    /// CodeDeploy is shifting traffic (or about to).
    InProgress,
    /// All traffic is on the new task definition.
    Succeeded,
    /// The deployment failed or was stopped; traffic stayed on (or went back to) the old one.
    Failed,
    /// It was rolled back after it had succeeded (within the bake window).
    RolledBack,
}

impl ReleaseState {
    /// As stored: `in-progress`, `succeeded`, `failed`, `rolled-back`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in-progress",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled-back",
        }
    }

    /// The state stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::InProgress, Self::Succeeded, Self::Failed, Self::RolledBack]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One release of the service in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRecord {
    /// Unique per release; the same in both regions.
    pub release_id: String,
    /// The region.
    pub region: String,
    /// The image tag released.
    pub image: String,
    /// The task definition it deploys.
    pub task_definition: String,
    /// The task definition it replaces, which a rollback returns to.
    pub previous_task_definition: Option<String>,
    /// The CodeDeploy deployment, once started.
    pub deployment_id: Option<String>,
    /// Where it stands.
    pub state: ReleaseState,
    /// When it started (Unix seconds).
    pub started_at: u64,
    /// When it ended, if it has.
    pub finished_at: Option<u64>,
    /// Why it ended as it did.
    pub reason: Option<String>,
}

impl ReleaseRecord {
    /// The partition of `region`'s releases.
    pub fn partition(region: &str) -> String {
        format!("release#{region}")
    }

    /// (`pk`, `sk`): by region, newest last in sort order.
    pub fn key(&self) -> (String, String) {
        (
            Self::partition(&self.region),
            format!("{:013}#{}", self.started_at, self.release_id),
        )
    }

    /// The record as the state table stores it (its DynamoDB attributes,
    /// keys included), as a query answers it: for tests that mock the table.
    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        let (pk, sk) = self.key();
        let mut item = Item::from([
            ("pk".to_owned(), s(pk)),
            ("sk".to_owned(), s(sk)),
            ("release_id".to_owned(), s(&self.release_id)),
            ("region".to_owned(), s(&self.region)),
            ("image".to_owned(), s(&self.image)),
            ("task_definition".to_owned(), s(&self.task_definition)),
            ("state".to_owned(), s(self.state.as_str())),
            ("started_at".to_owned(), n(self.started_at)),
        ]);
        let optional = [
            ("previous_task_definition", self.previous_task_definition.clone()),
            ("deployment_id", self.deployment_id.clone()),
            ("reason", self.reason.clone()),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                item.insert(key.into(), s(value));
            }
        }
        if let Some(at) = self.finished_at {
            item.insert("finished_at".into(), n(at));
        }
        item
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, String> {
        let state = get_s(item, "state")?;
        Ok(Self {
            release_id: get_s(item, "release_id")?,
            region: get_s(item, "region")?,
            image: get_s(item, "image")?,
            task_definition: get_s(item, "task_definition")?,
            previous_task_definition: opt_s(item, "previous_task_definition"),
            deployment_id: opt_s(item, "deployment_id"),
            state: ReleaseState::parse(&state).ok_or_else(|| format!("attribute `state` is {state:?}"))?,
            started_at: get_n(item, "started_at")?,
            finished_at: opt_n(item, "finished_at"),
            reason: opt_s(item, "reason"),
        })
    }
}

/// Which function decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A release step (`tandem release`, `Custom::BlueGreenDeployment`).
    Release,
    /// A lifecycle-hook validation.
    Hook,
    /// An alarm-driven rollback.
    Rollback,
    /// A regional failover or failback.
    Failover,
    /// An ops-topic message forwarded to the chat webhook.
    Notify,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [Self; 5] = [Self::Release, Self::Hook, Self::Rollback, Self::Failover, Self::Notify];

    /// As stored: `release`, `hook`, `rollback`, `failover`, `notify`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Hook => "hook",
            Self::Rollback => "rollback",
            Self::Failover => "failover",
            Self::Notify => "notify",
        }
    }

    /// The kind stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One automated decision, with its reason, what was done and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Which function decided.
    pub kind: AuditKind,
    /// What it decided about, unique per event (a hook execution id, an
    /// alarm's incident key): a second delivery of the event has the same key.
    pub key: String,
    /// When (Unix seconds).
    pub at: u64,
    /// The decision, such as `Succeeded` or `StopDeployment`.
    pub decision: String,
    /// Why, as one readable sentence.
    pub reason: String,
    /// What was done about it.
    pub action: String,
    /// How that went.
    pub outcome: String,
    /// The region that decided.
    pub region: String,
}

impl AuditEntry {
    /// The sort key of the entry for `kind` and `key`.
    pub fn sort_key(kind: AuditKind, key: &str) -> String {
        format!("{}#{key}", kind.as_str())
    }

    pub(crate) fn to_item(&self) -> Item {
        Item::from([
            ("pk".to_owned(), s(AUDIT_PK)),
            ("sk".to_owned(), s(Self::sort_key(self.kind, &self.key))),
            ("kind".to_owned(), s(self.kind.as_str())),
            ("key".to_owned(), s(&self.key)),
            ("at".to_owned(), n(self.at)),
            ("decision".to_owned(), s(&self.decision)),
            ("reason".to_owned(), s(&self.reason)),
            ("action".to_owned(), s(&self.action)),
            ("outcome".to_owned(), s(&self.outcome)),
            ("region".to_owned(), s(&self.region)),
            ("expires_at".to_owned(), n(self.at + AUDIT_RETENTION_SECS)),
        ])
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, String> {
        let kind = get_s(item, "kind")?;
        Ok(Self {
            kind: AuditKind::parse(&kind).ok_or_else(|| format!("attribute `kind` is {kind:?}"))?,
            key: get_s(item, "key")?,
            at: get_n(item, "at")?,
            decision: get_s(item, "decision")?,
            reason: get_s(item, "reason")?,
            action: get_s(item, "action")?,
            outcome: get_s(item, "outcome")?,
            region: get_s(item, "region")?,
        })
    }
}
