//! What only the tests and the local AWS's suites do to the table: list a
//! region's releases and failover locks, read the audit entries under a
//! prefix, and remove the releases and locks a suite put there. The
//! functions and the CLI never call these on AWS; the test-support binary
//! (tests/state-seed) does, so that the suites write and read typed records
//! through this module instead of a second, untyped copy of their shapes.

use super::failover::{FailoverLock, key};
use super::items::s;
use super::{AuditEntry, AuditKind, FAILOVER_PK, ReleaseRecord, StateError, StateTable};
use aws_sdk_dynamodb::types::AttributeValue;

impl StateTable {
    /// Every release recorded in `region`, oldest first.
    pub async fn releases(&self, region: &str) -> Result<Vec<ReleaseRecord>, StateError> {
        let items = self.partition(ReleaseRecord::partition(region), None).await?;
        items
            .iter()
            .map(|item| ReleaseRecord::from_item(item).map_err(|why| self.unreadable("release record", why)))
            .collect()
    }

    /// Removes `release`'s record (a suite's seeded release, once it is done with it).
    pub async fn remove_release(&self, release: &ReleaseRecord) -> Result<(), StateError> {
        let (pk, sk) = release.key();
        self.remove(s(pk), s(sk)).await
    }

    /// Every failover lock in this region's table, oldest roles version first.
    pub async fn failover_locks(&self) -> Result<Vec<FailoverLock>, StateError> {
        let items = self.partition(FAILOVER_PK.into(), Some("lock#")).await?;
        items
            .iter()
            .map(|item| FailoverLock::from_item(item).map_err(|why| self.unreadable("failover lock", why)))
            .collect()
    }

    /// Removes the failover lock of roles version `version`, as if no
    /// promotion had been tried from it (a failed one needs a person on AWS).
    pub async fn remove_failover_lock(&self, version: u64) -> Result<(), StateError> {
        let [pk, sk] = key(FailoverLock::sort_key(version));
        self.remove(pk.1, sk.1).await
    }

    /// Every audit entry of `kind` whose key starts with `prefix` (in key order).
    pub async fn audit_entries(&self, kind: AuditKind, prefix: &str) -> Result<Vec<AuditEntry>, StateError> {
        self.audits_from(kind, prefix).await
    }

    /// Every item of partition `pk` (whose sort key starts with `prefix`),
    /// page after page, in sort-key order.
    async fn partition(&self, pk: String, prefix: Option<&str>) -> Result<Vec<super::items::Item>, StateError> {
        let mut query = (self.client.query())
            .table_name(&self.name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .consistent_read(true);
        if let Some(prefix) = prefix {
            query = query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix));
        }
        let mut pages = query.into_paginator().send();
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            items.extend(page.map_err(|e| self.failed("read", &e))?.items().iter().cloned());
        }
        Ok(items)
    }

    async fn remove(&self, pk: AttributeValue, sk: AttributeValue) -> Result<(), StateError> {
        (self.client.delete_item())
            .table_name(&self.name)
            .key("pk", pk)
            .key("sk", sk)
            .send()
            .await
            .map_err(|e| self.failed("written", &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
