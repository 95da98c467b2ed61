//! The fences that keep two regions from ever both taking writes: the rules
//! (pure, tested in `fence/tests.rs`) and the traffic fence's metric.
//!
//! A promotion first fences the old primary, then promotes: it writes a
//! [`FenceRecord`] naming the old primary at the next epoch into the
//! activating region's table, and publishes [`METRIC_NAME`] = 1 there, which
//! the region's `tandem-<env>-peer-fenced` alarm turns into an unhealthy
//! Route 53 check on the old primary's record (the traffic fence). Both
//! need only the activating region. When the old primary comes back, its
//! failover function reads the peer's standing, finds the newer epoch and
//! copies the fence into its own table; its app, which reads both tables
//! before it writes, has refused writes since it first saw either (the
//! write fence). Only a failback, which writes a later epoch into both
//! tables, lifts a fence.

use crate::state::{FenceRecord, Standing};

/// The namespace of the traffic-fence metric.
pub const METRIC_NAMESPACE: &str = "tandem";
/// The traffic-fence metric: 1 while the publishing region fences the
/// region of its `Region` dimension, 0 otherwise; dimensions `Env`, `Region`.
pub const METRIC_NAME: &str = "RegionFenced";

/// The end of the alarm's name, after the environment's `tandem-<env>-`.
pub const ALARM_SUFFIX: &str = "peer-fenced";

/// The alarm (in every region) that fires while that region fences its peer.
pub fn alarm_name(env: &str) -> String {
    format!("tandem-{env}-{ALARM_SUFFIX}")
}

/// The fence that holds `region`, if any: the newest fence naming it at an
/// epoch no older than `roles_epoch`, the epoch of the roles the region
/// itself records. A failback writes a later epoch, which lifts it.
pub fn holding<'a>(
    region: &str,
    roles_epoch: u64,
    fences: impl IntoIterator<Item = &'a FenceRecord>,
) -> Option<&'a FenceRecord> {
    fences
        .into_iter()
        .filter(|f| f.region == region && f.epoch >= roles_epoch)
        .max_by_key(|f| f.epoch)
}

/// Whether an app may write to the writer its region's secret names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteGate {
    /// It may, at this epoch; a change of epoch means the writer may have
    /// moved, so the app reads its secret again.
    Open {
        /// The epoch of this region's roles.
        epoch: u64,
    },
    /// It may not: a fence holds it, or a promotion is under way; why, in one sentence.
    Closed(String),
    /// It may not, as it should not: it is the standby; why, in one sentence.
    Standby(String),
}

/// Decides the write gate of the app in `here` from its own region's
/// standing and the peer's (an unreadable peer counts as nothing known:
/// the primary keeps writing through a standby outage). Only the primary's
/// app writes; the standby's serves reads from its replica. Closed when:
/// - this region's own table cannot be read (a fence would be missed);
/// - a fence holds this region (in either table);
/// - a promotion elsewhere is under way: a fence of a later epoch than this
///   region's roles, or peer roles of a later epoch naming another primary
///   (the writer is about to move; writes wait for the new one);
/// - this region is the standby (its roles name the other primary, or it
///   records none and `configured_primary` is the other region).
pub fn write_gate(
    here: &str,
    configured_primary: &str,
    own: Result<&Standing, &str>,
    peer: Result<&Standing, &str>,
) -> WriteGate {
    let own = match own {
        Ok(own) => own,
        Err(why) => {
            return WriteGate::Closed(format!(
                "{here}'s state table could not be read ({why}): writes wait until it can be, so that a fence is never missed"
            ));
        }
    };
    let epoch = own.epoch();
    let peer = peer.ok();
    let fences = own.fences.iter().chain(peer.into_iter().flat_map(|p| p.fences.iter()));
    if let Some(fence) = holding(here, epoch, fences.clone()) {
        return WriteGate::Closed(fenced_sentence(fence));
    }
    if let Some(fence) = fences.filter(|f| f.epoch > epoch).max_by_key(|f| f.epoch) {
        return WriteGate::Closed(format!(
            "{} is becoming the primary at epoch {} (this region records epoch {epoch}): writes wait until its writer is recorded",
            fence.by, fence.epoch
        ));
    }
    if let Some(roles) = peer.and_then(|p| p.roles.as_ref())
        && roles.epoch > epoch
        && roles.primary != here
    {
        return WriteGate::Closed(format!(
            "the peer region records {} as the primary at epoch {} and {here} records epoch {epoch}: writes wait until {here} catches up",
            roles.primary, roles.epoch
        ));
    }
    let primary = own.roles.as_ref().map_or(configured_primary, |r| r.primary.as_str());
    if primary != here {
        return WriteGate::Standby(format!(
            "{here} is the standby (the primary is {primary}, epoch {epoch}): writes go to the primary; this region serves reads from its replica"
        ));
    }
    WriteGate::Open { epoch }
}

/// A fence, as people read it.
pub fn fenced_sentence(fence: &FenceRecord) -> String {
    format!(
        "{} is fenced: {} became the primary at epoch {} ({}); it takes no writes until `tandem failback` lifts the fence",
        fence.region, fence.by, fence.epoch, fence.reason
    )
}

/// What a region that finds itself behind must record: the roles and the
/// fence that its peer's standing implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demotion {
    /// The epoch it is behind to.
    pub epoch: u64,
    /// The region that is primary at that epoch.
    pub primary: String,
    /// Why, in one sentence.
    pub reason: String,
}

/// Whether `here` is behind its peer: the peer records a later epoch that
/// names the peer primary, or a fence of `here` at a later epoch than
/// `here`'s roles. `None` when it is not, or when it already recorded the
/// demotion (its own fence holds it at that epoch).
pub fn behind(here: &str, own: &Standing, peer: &Standing) -> Option<Demotion> {
    let epoch = own.epoch();
    let by_roles = peer
        .roles
        .as_ref()
        .filter(|r| r.epoch > epoch && r.primary != here)
        .map(|r| {
            (
                r.epoch,
                r.primary.clone(),
                r.reason.clone().unwrap_or_else(|| "no reason recorded".into()),
            )
        });
    let by_fence = peer
        .fences
        .iter()
        .filter(|f| f.region == here && f.epoch > epoch)
        .max_by_key(|f| f.epoch)
        .map(|f| (f.epoch, f.by.clone(), f.reason.clone()));
    let (newer, primary, why) = [by_roles, by_fence].into_iter().flatten().max_by_key(|(e, _, _)| *e)?;
    if holding(here, newer, &own.fences).is_some() {
        return None;
    }
    Some(Demotion {
        epoch: newer,
        reason: format!(
            "{primary} became the primary at epoch {newer} while {here} recorded epoch {epoch} ({why}): {here} fences its writer"
        ),
        primary,
    })
}

/// Publishes the traffic fence: `fenced` (1) or not (0) for `region`, from
/// the region `cw` is in. Data plane only; the caller logs a failure.
pub async fn publish(cw: &aws_sdk_cloudwatch::Client, env: &str, region: &str, fenced: bool) -> Result<(), String> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let datum = MetricDatum::builder()
        .metric_name(METRIC_NAME)
        .dimensions(Dimension::builder().name("Env").value(env).build())
        .dimensions(Dimension::builder().name("Region").value(region).build())
        .value(if fenced { 1.0 } else { 0.0 })
        .unit(StandardUnit::Count)
        .build();
    (cw.put_metric_data())
        .namespace(METRIC_NAMESPACE)
        .metric_data(datum)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "PutMetricData {METRIC_NAMESPACE}/{METRIC_NAME} for {region}: {}",
                crate::aws::error_text(&e)
            )
        })
}

#[cfg(test)]
mod tests;
