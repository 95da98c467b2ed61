//! The fence records: which region a promotion fenced, at which epoch. They
//! sit beside the roles record (partition `region-roles`), so one query reads
//! a region's whole standing: its roles and every fence it knows of.

use super::items::{Item, get_n, get_s, n, opt_n, s};
use super::{ROLES_KEY, RolesRecord, StateError, StateTable, Written};
use aws_sdk_dynamodb::types::AttributeValue;

/// A region whose writer must take no writes: a promotion elsewhere made
/// another region the primary at `epoch`. Written first in the region that
/// promotes (before `PromoteReadReplica`), and copied by the fenced region
/// itself when it comes back and finds it. Only a roles record of a later
/// epoch (a failback) lifts it; nothing deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceRecord {
    /// The fenced region (the old primary).
    pub region: String,
    /// The epoch of the primary that fenced it.
    pub epoch: u64,
    /// The region that fenced it (the new primary).
    pub by: String,
    /// Why, for the audit trail and `tandem status`.
    pub reason: String,
    /// When it was written (Unix seconds).
    pub at: u64,
}

impl FenceRecord {
    /// The sort key of `region`'s fence.
    pub fn sort_key(region: &str) -> String {
        format!("fence#{region}")
    }

    fn to_item(&self) -> Item {
        Item::from([
            ("pk".to_owned(), s(ROLES_KEY.0)),
            ("sk".to_owned(), s(Self::sort_key(&self.region))),
            ("region".to_owned(), s(&self.region)),
            ("epoch".to_owned(), n(self.epoch)),
            ("by".to_owned(), s(&self.by)),
            ("reason".to_owned(), s(&self.reason)),
            ("at".to_owned(), n(self.at)),
        ])
    }

    fn from_item(item: &Item) -> Result<Self, String> {
        Ok(Self {
            region: get_s(item, "region")?,
            epoch: get_n(item, "epoch")?,
            by: get_s(item, "by")?,
            reason: get_s(item, "reason")?,
            at: opt_n(item, "at").unwrap_or(0),
        })
    }
}

/// A region's standing as its own table records it: the roles, and the
/// fences it knows of (its own, when it was fenced, or the one it placed on
/// its peer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// The roles record, if any.
    pub roles: Option<RolesRecord>,
    /// Every fence record in the table.
    pub fences: Vec<FenceRecord>,
}

impl Standing {
    /// The epoch of the recorded roles (0 when none are recorded).
    pub fn epoch(&self) -> u64 {
        self.roles.as_ref().map_or(0, |r| r.epoch)
    }
}

impl StateTable {
    /// Records `fence`, unless the table holds a fence of that region at the
    /// same or a later epoch already (`AlreadyDone`): epochs only grow.
    pub async fn put_fence(&self, fence: &FenceRecord) -> Result<Written, StateError> {
        let put = (self.client.put_item())
            .table_name(&self.name)
            .set_item(Some(fence.to_item()))
            .condition_expression("attribute_not_exists(pk) OR epoch < :epoch")
            .expression_attribute_values(":epoch", n(fence.epoch));
        self.conditional(put.send().await)
    }

    /// The roles and every fence, in one strongly consistent query.
    pub async fn standing(&self) -> Result<Standing, StateError> {
        let mut standing = Standing::default();
        let mut start = None;
        loop {
            let out = (self.client.query())
                .table_name(&self.name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(ROLES_KEY.0.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.failed("read", &e))?;
            for item in out.items() {
                let sk = item.get("sk").and_then(|v| v.as_s().ok()).map_or("", String::as_str);
                if sk == ROLES_KEY.1 {
                    let roles = RolesRecord::from_item(item).map_err(|why| self.unreadable("roles record", why))?;
                    standing.roles = Some(roles);
                } else if sk.starts_with("fence#") {
                    let fence = FenceRecord::from_item(item).map_err(|why| self.unreadable("fence record", why))?;
                    standing.fences.push(fence);
                }
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(standing),
            }
        }
    }
}

#[cfg(test)]
mod tests;
