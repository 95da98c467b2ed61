//! What the failover function reads before it decides: the probe of the
//! primary (counted in the state table), both regions' standing, and, only
//! when it can matter, this region's health, the replica's lag and the
//! database.

use super::{Failover, FailoverError};
use crate::decide::{Db, Observed};
use crate::observe;
use tandem_core::clock::unix_now;
use tandem_core::fence;

impl Failover {
    /// Probes the primary (when `probing`) and reads everything the decision
    /// needs; returns it with the roles version, and whether this region
    /// holds a fence on its peer.
    pub(super) async fn observe(&self, probing: bool) -> Result<(Observed, u64, bool), FailoverError> {
        let s = &self.settings;
        let (own, peer) = tokio::join!(self.table.standing(), self.peer_standing());
        let own = own?;
        let epoch = own.epoch();
        let fenced = fence::holding(&s.region, epoch, &own.fences).cloned();
        let holds_peer = fence::holding(&s.peer_region, epoch, &own.fences).is_some();
        let behind = peer.as_ref().ok().and_then(|peer| fence::behind(&s.region, &own, peer));
        let roles = own.roles;
        let version = roles.as_ref().map_or(0, |r| r.updated_at);
        let primary = roles.map_or_else(|| s.configured_primary.clone(), |r| r.primary);
        let now = unix_now();
        let standby = primary != s.region;
        // No URL for the primary yet (its stack did not exist at the last
        // deploy): nothing is probed, so nothing counts as a failure.
        let can_probe = !s.peer_health_url.is_empty();
        if standby && probing && !can_probe {
            tracing::warn!("the primary's /health URL is not known yet; deploy again to set it");
        }
        let streak = async {
            if standby && probing && can_probe {
                let probe = observe::health(self.prober.as_ref(), &s.peer_health_url).await;
                let error = probe.err();
                // Half an interval apart: two invocations probing at once count once.
                let gap = (s.probe_interval_secs / 2).max(1);
                match self.table.count_probe(&s.region, error.as_deref(), now, gap).await? {
                    Some(failures) => Ok((failures, error)),
                    None => self.probe_streak().await,
                }
            } else {
                self.probe_streak().await
            }
        };
        // The rest is read only when it can matter: a person asked, or this
        // region is the standby and the primary looks down or a promotion is
        // under way (the primary's every-minute run reads nothing more).
        // Independent reads go out together: a person's request reads all
        // of it at once, the reaction to it is one round trip shorter.
        let rest = async {
            let lag = async {
                let reading = tandem_core::db::replica_lag(&self.cloudwatch, &s.db_instance, now)
                    .await
                    .unwrap_or_else(|why| {
                        tracing::warn!(%why, "replica lag unknown");
                        None
                    });
                tandem_core::db::Lag::judge(reading, now)
            };
            tokio::join!(
                observe::health(self.prober.as_ref(), &s.own_health_url),
                lag,
                observe::database(&self.rds, &s.db_instance),
            )
        };
        let not_read = || {
            (
                Ok(()),
                tandem_core::db::Lag::Unknown("not read: the primary is answering"),
                Db::Unknown("not read: the primary is answering".into()),
            )
        };
        let (streak, lock, (own_health, lag, db)) = if probing {
            let (streak, lock) = tokio::join!(streak, self.table.failover_lock(version));
            let ((failures, error), lock) = (streak?, lock?);
            let matters = standby && (failures >= s.limits.threshold || lock.is_some());
            let rest = if matters { rest.await } else { not_read() };
            ((failures, error), lock, rest)
        } else {
            let (streak, lock, rest) = tokio::join!(streak, self.table.failover_lock(version), rest);
            (streak?, lock?, rest)
        };
        let (failures, last_probe_error) = streak;
        let observed = Observed {
            here: s.region.clone(),
            primary,
            epoch,
            failures,
            last_probe_error,
            own_health,
            lag,
            db,
            lock,
            fenced,
            behind,
            now,
        };
        Ok((observed, version, holds_peer))
    }

    /// The primary's failed-probe streak as the state table holds it.
    async fn probe_streak(&self) -> Result<(u32, Option<String>), FailoverError> {
        let record = self.table.probe(&self.settings.region).await?;
        Ok(record.map_or((0, None), |r| (r.failures, r.last_error)))
    }
}
