//! The failover records: each region's probe streak and the failover lock.
//!
//! | record | `pk` | `sk` |
//! | --- | --- | --- |
//! | [`ProbeRecord`]: consecutive failed probes of the primary, seen from one region | `failover` | `probe#<region>` |
//! | [`FailoverLock`]: the one promotion of a roles version, and how far it got | `failover` | `lock#<roles version>` |
//!
//! The roles version is the `updated_at` of the roles record the promotion
//! starts from (0 before any), so a later failover (after a failback) gets
//! a lock of its own. Only the invocation whose conditional write creates
//! the lock, or takes over one whose lease ran out, acts.

use super::items::{Item, get_n, get_s, n, opt_n, opt_s, s};
use super::{StateError, StateTable, Written};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

/// The partition of the failover records.
pub const FAILOVER_PK: &str = "failover";

/// A region's view of the primary's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRecord {
    /// The probing region.
    pub region: String,
    /// Consecutive failed probes (0 after any success).
    pub failures: u32,
    /// When the last probe was counted (Unix seconds).
    pub last_at: u64,
    /// Why the last probe failed, if it did.
    pub last_error: Option<String>,
}

/// How far a promotion got; each step is done before it is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailoverStep {
    /// The lock is taken; nothing is fenced or promoted yet.
    Claimed,
    /// The old primary is fenced (the fence record and the traffic-fence
    /// metric); `PromoteReadReplica` may not have been called yet.
    Fenced,
    /// `PromoteReadReplica` was accepted.
    PromoteRequested,
    /// The instance is a writer and available.
    Promoted,
    /// This region's secret names the new writer.
    SecretUpdated,
    /// The roles name this region primary: the failover is complete.
    Done,
    /// A step failed; a person retries with a manual failover.
    Failed,
}

impl FailoverStep {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Fenced => "fenced",
            Self::PromoteRequested => "promote-requested",
            Self::Promoted => "promoted",
            Self::SecretUpdated => "secret-updated",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// The step stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Claimed,
            Self::Fenced,
            Self::PromoteRequested,
            Self::Promoted,
            Self::SecretUpdated,
            Self::Done,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// The failover lock of one roles version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverLock {
    /// The roles version the promotion started from.
    pub version: u64,
    /// The region being promoted.
    pub region: String,
    /// The invocation that holds it (a Lambda request id).
    pub holder: String,
    /// Until when the holder has it (Unix seconds); after that anyone may take over.
    pub lease_until: u64,
    /// How far the promotion got.
    pub step: FailoverStep,
    /// Why the promotion was decided.
    pub reason: String,
    /// Whether the lag check was skipped.
    pub forced: bool,
    /// When it was claimed, and last changed.
    pub started_at: u64,
    /// When it last changed.
    pub updated_at: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

impl FailoverLock {
    pub(super) fn sort_key(version: u64) -> String {
        format!("lock#{version:013}")
    }

    pub(super) fn to_item(&self) -> Item {
        let mut item = Item::from([
            ("pk".to_owned(), s(FAILOVER_PK)),
            ("sk".to_owned(), s(Self::sort_key(self.version))),
            ("version".to_owned(), n(self.version)),
            ("region".to_owned(), s(&self.region)),
            ("holder".to_owned(), s(&self.holder)),
            ("lease_until".to_owned(), n(self.lease_until)),
            ("step".to_owned(), s(self.step.as_str())),
            ("reason".to_owned(), s(&self.reason)),
            ("forced".to_owned(), AttributeValue::Bool(self.forced)),
            ("started_at".to_owned(), n(self.started_at)),
            ("updated_at".to_owned(), n(self.updated_at)),
        ]);
        if let Some(error) = &self.error {
            item.insert("error".into(), s(error));
        }
        item
    }

    pub(super) fn from_item(item: &Item) -> Result<Self, String> {
        let step = get_s(item, "step")?;
        Ok(Self {
            version: get_n(item, "version")?,
            region: get_s(item, "region")?,
            holder: get_s(item, "holder")?,
            lease_until: get_n(item, "lease_until")?,
            step: FailoverStep::parse(&step).ok_or_else(|| format!("attribute `step` is {step:?}"))?,
            reason: get_s(item, "reason")?,
            forced: item
                .get("forced")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            started_at: get_n(item, "started_at")?,
            updated_at: opt_n(item, "updated_at").unwrap_or(0),
            error: opt_s(item, "error"),
        })
    }
}

pub(super) fn key(sk: String) -> [(String, AttributeValue); 2] {
    [("pk".into(), s(FAILOVER_PK)), ("sk".into(), s(sk))]
}

impl StateTable {
    /// Counts one probe of the primary from `region`: a failure adds one, a
    /// success resets the streak. A probe less than `min_gap` seconds after
    /// the last counted one (another invocation probing at the same time) is
    /// not counted: `None`. Otherwise the streak after it.
    pub async fn count_probe(
        &self,
        region: &str,
        error: Option<&str>,
        now: u64,
        min_gap: u64,
    ) -> Result<Option<u32>, StateError> {
        let [pk, sk] = key(format!("probe#{region}"));
        let mut update = (self.client.update_item())
            .table_name(&self.name)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .condition_expression("attribute_not_exists(last_at) OR last_at <= :gap")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":gap", n(now.saturating_sub(min_gap)))
            .expression_attribute_values(":region", s(region))
            .return_values(ReturnValue::AllNew);
        update = match error {
            Some(why) => update
                .update_expression("SET last_at = :now, #region = :region, last_error = :why ADD failures :one")
                .expression_attribute_values(":why", s(why))
                .expression_attribute_values(":one", n(1)),
            None => update
                .update_expression("SET last_at = :now, #region = :region, failures = :zero REMOVE last_error")
                .expression_attribute_values(":zero", n(0)),
        };
        match update.expression_attribute_names("#region", "region").send().await {
            Ok(out) => Ok(out
                .attributes()
                .and_then(|a| opt_n(a, "failures"))
                .map(|f| u32::try_from(f).unwrap_or(u32::MAX))),
            Err(e) if super::items::is_condition_failure(&e) => Ok(None),
            Err(e) => Err(self.failed("written", &e)),
        }
    }

    /// `region`'s probe streak, if it has probed.
    pub async fn probe(&self, region: &str) -> Result<Option<ProbeRecord>, StateError> {
        let item = self.get(key(format!("probe#{region}"))).await?;
        item.map(|item| {
            Ok(ProbeRecord {
                region: get_s(&item, "region")?,
                failures: u32::try_from(opt_n(&item, "failures").unwrap_or(0)).unwrap_or(u32::MAX),
                last_at: opt_n(&item, "last_at").unwrap_or(0),
                last_error: opt_s(&item, "last_error"),
            })
        })
        .transpose()
        .map_err(|why| self.unreadable("probe record", why))
    }

    /// The failover lock of roles version `version`, if taken.
    pub async fn failover_lock(&self, version: u64) -> Result<Option<FailoverLock>, StateError> {
        let item = self.get(key(FailoverLock::sort_key(version))).await?;
        item.map(|item| FailoverLock::from_item(&item))
            .transpose()
            .map_err(|why| self.unreadable("failover lock", why))
    }

    /// Takes the lock `lock` describes: creates it if no one has, or takes
    /// over one whose lease ran out before `now` and that is neither done nor
    /// failed (the holder stopped mid-way; its recorded step says where to go
    /// on). `Done`: this caller holds it.
    pub async fn claim_failover(&self, lock: &FailoverLock, now: u64) -> Result<Written, StateError> {
        let put = (self.client.put_item())
            .table_name(&self.name)
            .set_item(Some(lock.to_item()))
            .condition_expression("attribute_not_exists(pk)");
        if self.conditional(put.send().await)? == Written::Done {
            return Ok(Written::Done);
        }
        let [pk, sk] = key(FailoverLock::sort_key(lock.version));
        let takeover = (self.client.update_item())
            .table_name(&self.name)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .update_expression("SET holder = :me, lease_until = :lease, updated_at = :now")
            .condition_expression("lease_until < :now AND step <> :done AND step <> :failed")
            .expression_attribute_values(":me", s(&lock.holder))
            .expression_attribute_values(":lease", n(lock.lease_until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":done", s(FailoverStep::Done.as_str()))
            .expression_attribute_values(":failed", s(FailoverStep::Failed.as_str()));
        self.conditional(takeover.send().await)
    }

    /// Re-opens a failed lock for a person's retry (a manual failover):
    /// back to `Claimed`, held by `holder` until `lease_until`.
    pub async fn retry_failover(
        &self,
        version: u64,
        holder: &str,
        lease_until: u64,
        now: u64,
    ) -> Result<Written, StateError> {
        let [pk, sk] = key(FailoverLock::sort_key(version));
        let update = (self.client.update_item())
            .table_name(&self.name)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .update_expression(
                "SET holder = :me, lease_until = :lease, step = :claimed, updated_at = :now REMOVE #error",
            )
            .condition_expression("step = :failed")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(":me", s(holder))
            .expression_attribute_values(":lease", n(lease_until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":claimed", s(FailoverStep::Claimed.as_str()))
            .expression_attribute_values(":failed", s(FailoverStep::Failed.as_str()));
        self.conditional(update.send().await)
    }

    /// Records that the holder finished `step` (with `error` when it is
    /// `Failed`), only while `holder` holds the lock. A step that is `Done`
    /// or `Failed` also ends the lease.
    pub async fn advance_failover(
        &self,
        version: u64,
        holder: &str,
        step: FailoverStep,
        error: Option<&str>,
        now: u64,
    ) -> Result<Written, StateError> {
        let [pk, sk] = key(FailoverLock::sort_key(version));
        let ends = matches!(step, FailoverStep::Done | FailoverStep::Failed);
        let mut expression = String::from("SET step = :step, updated_at = :now");
        if ends {
            expression.push_str(", lease_until = :now");
        }
        if error.is_some() {
            expression.push_str(", #error = :error");
        }
        let mut update = (self.client.update_item())
            .table_name(&self.name)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", s(holder))
            .expression_attribute_values(":step", s(step.as_str()))
            .expression_attribute_values(":now", n(now));
        if let Some(why) = error {
            update = update
                .expression_attribute_names("#error", "error")
                .expression_attribute_values(":error", s(why));
        }
        self.conditional(update.update_expression(expression).send().await)
    }

    /// Gives the lock back before its lease ends (the holder is leaving with
    /// work left; the next invocation takes over at once).
    pub async fn release_failover(&self, version: u64, holder: &str, now: u64) -> Result<Written, StateError> {
        let [pk, sk] = key(FailoverLock::sort_key(version));
        let update = (self.client.update_item())
            .table_name(&self.name)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .update_expression("SET lease_until = :gone")
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", s(holder))
            .expression_attribute_values(":gone", n(now.saturating_sub(1)));
        self.conditional(update.send().await)
    }

    /// Removes `region`'s probe streak and the lock of roles version
    /// `version`: a local drill starts from nothing. Never called on AWS.
    pub async fn reset_failover(&self, region: &str, version: u64) -> Result<(), StateError> {
        for sk in [format!("probe#{region}"), FailoverLock::sort_key(version)] {
            let [pk, sk] = key(sk);
            (self.client.delete_item())
                .table_name(&self.name)
                .key(pk.0, pk.1)
                .key(sk.0, sk.1)
                .send()
                .await
                .map_err(|e| self.failed("written", &e))?;
        }
        Ok(())
    }

    async fn get(&self, key: [(String, AttributeValue); 2]) -> Result<Option<Item>, StateError> {
        let [pk, sk] = key;
        let out = (self.client.get_item())
            .table_name(&self.name)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("read", &e))?;
        Ok(out.item().cloned())
    }
}

#[cfg(test)]
mod tests;
