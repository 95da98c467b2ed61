//! The shell's fences: the peer's standing read across regions (within a
//! short limit: the peer may be the region that is down), the traffic
//! fence's metric, and a region's demotion of itself when it finds its peer
//! at a later epoch.

use crate::shell::{Failover, FailoverError, answer};
use serde_json::Value;
use std::time::Duration;
use tandem_core::clock::unix_now;
use tandem_core::fence::{self, Demotion};
use tandem_core::state::{FenceRecord, RolesRecord, Standing, Written};

/// The most a read of the peer's table may take: it is down in the very
/// outage a failover is for, and the probes must not wait on it.
pub const PEER_READ_TIMEOUT: Duration = Duration::from_secs(3);

impl Failover {
    /// The peer's standing, or why it could not be read (in time).
    pub(crate) async fn peer_standing(&self) -> Result<Standing, String> {
        let Some(peer) = &self.peer_table else {
            return Err("no peer table is configured".into());
        };
        let read = match tokio::time::timeout(PEER_READ_TIMEOUT, peer.standing()).await {
            Ok(Ok(standing)) => Ok(standing),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "{} in {} did not answer within {} s",
                peer.name(),
                self.settings.peer_region,
                PEER_READ_TIMEOUT.as_secs()
            )),
        };
        if let Err(why) = &read {
            tracing::info!(%why, "the peer's standing is unknown; this region decides on its own");
        }
        read
    }

    /// Publishes the traffic fence on the peer (`fenced`) or its lifting.
    pub(crate) async fn publish_fence(&self, fenced: bool) -> Result<(), String> {
        let s = &self.settings;
        fence::publish(&self.cloudwatch, &s.env, &s.peer_region, fenced).await
    }

    /// Records that the peer is the primary at a later epoch and fences this
    /// region: its fence first (its app stops writing on reading it), then
    /// the roles. Both writes are conditional, so a second delivery changes
    /// nothing; the audit entry is written once per epoch.
    pub(crate) async fn demote(&self, demotion: &Demotion, version: u64) -> Result<Value, FailoverError> {
        let s = &self.settings;
        let now = unix_now();
        let fence = FenceRecord {
            region: s.region.clone(),
            epoch: demotion.epoch,
            by: demotion.primary.clone(),
            reason: demotion.reason.clone(),
            at: now,
        };
        self.table.put_fence(&fence).await?;
        let roles = RolesRecord {
            primary: demotion.primary.clone(),
            standby: s.region.clone(),
            updated_at: now.max(version + 1),
            epoch: demotion.epoch,
            reason: Some(format!("demoted: {}", demotion.reason)),
        };
        let read = (version > 0).then_some(version);
        let recorded = self.table.put_roles(&roles, read).await?;
        let action = format!(
            "recorded {} as the primary at epoch {} and fenced {}: its app refuses writes to {} from now on; nothing was deleted",
            demotion.primary, demotion.epoch, s.region, s.db_instance
        );
        let outcome = match recorded {
            Written::Done => "fenced",
            Written::AlreadyDone => "fenced (the roles had changed since they were read; the fence holds)",
        };
        let key = format!("demoted#{}", demotion.epoch);
        self.record("Demote", &key, &demotion.reason, &action, outcome).await?;
        Ok(answer("Demote", &demotion.reason, outcome))
    }
}
