//! `Custom::VpcPeering`: a VPC peering from this region's VPC to a VPC in
//! another region, with routes on both sides.
//!
//! CloudFormation's `AWS::EC2::VPCPeeringConnection` cannot accept a peering
//! in another region or add routes there; this resource does all of it.
//!
//! | property | type | meaning |
//! | --- | --- | --- |
//! | `VpcId` | string | this region's VPC (the requester) |
//! | `PeerVpcId` | string | the other VPC (the accepter) |
//! | `PeerRegion` | string | the other VPC's region, such as `us-east-2` |
//! | `VpcCidr` | string | this VPC's CIDR block: the peer's tables route it here |
//! | `PeerVpcCidr` | string | the peer VPC's CIDR block: this side's tables route it there |
//! | `RouteTableIds` | list of strings, optional | this side's route tables |
//! | `PeerRouteTableIds` | list of strings, optional | the peer side's route tables |
//!
//! The CIDRs are properties because `!GetAtt Vpc.CidrBlock` is not available
//! everywhere (the local AWS refuses it); they must not overlap.
//!
//! - **Create** requests the peering (tagged with the stack and logical ids),
//!   accepts it in the peer region, waits until it is active, adds the routes
//!   on both sides and tags it in the peer region. The physical id is the
//!   `pcx-…` id, reported as soon as it exists so that the clean-up Delete of a
//!   failed Create removes it. `!GetAtt X.VpcPeeringConnectionId` gives it too.
//!   A repeated Create finds its peering by the tags instead of making another.
//! - **Update** of `VpcId`, `PeerVpcId` or `PeerRegion` makes a new peering
//!   (a replacement: CloudFormation then deletes the old one); any other
//!   change reconciles the routes of the same peering. A replacement that
//!   fails removes the peering it made (CloudFormation keeps the old id).
//! - **Delete** removes the routes that target this peering on both sides,
//!   then the peering. What is already gone counts as removed.
//!
//! The decisions are pure functions in [`plan`] (the peering) and [`routes`]
//! (the routes); this module and its EC2 calls (`ec2.rs`) observe and act.

mod ec2;
pub mod plan;
pub mod props;
pub mod routes;

use aws_sdk_ec2::Client;
use plan::{Identity, POLL_INTERVAL, Phase, Step, UpdatePlan};
pub use props::{Props, validate};
use routes::{Desired, Side, Tables};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use tandem_core::aws::RegionalClients;
use tandem_core::cfn::{CustomResource, HandlerError, Outcome, Request, RequestType};

/// Serves `Custom::VpcPeering`.
pub struct VpcPeering {
    ec2: RegionalClients<Client>,
}

/// What a Create (or a replacing Update) carries from one poll to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Progress {
    pcx: String,
    phase: Phase,
    /// The peering this one replaces, whose routes it may repoint.
    #[serde(default)]
    replacing: Option<String>,
}

/// Success, with the peering id as physical id and as `VpcPeeringConnectionId`.
fn done(pcx: &str) -> Outcome {
    let mut data = Map::new();
    data.insert("VpcPeeringConnectionId".into(), Value::String(pcx.to_owned()));
    Outcome::done_with(pcx, data)
}

/// Both sides of the peering: this region's tables route to the peer's
/// CIDR, the peer region's tables to this VPC's CIDR.
fn sides<'a>(home: &'a str, props: &'a Props) -> [(Side<'a>, Desired<'a>); 2] {
    [
        (
            Side {
                field: "RouteTableIds",
                region: home,
            },
            Desired {
                tables: &props.route_table_ids,
                destination: &props.peer_vpc_cidr,
            },
        ),
        (
            Side {
                field: "PeerRouteTableIds",
                region: &props.peer_region,
            },
            Desired {
                tables: &props.peer_route_table_ids,
                destination: &props.vpc_cidr,
            },
        ),
    ]
}

impl VpcPeering {
    /// Works through `ec2`, one EC2 client per region; the base configuration's
    /// region is this side of the peering.
    pub fn new(ec2: RegionalClients<Client>) -> Self {
        Self { ec2 }
    }

    fn home(&self) -> Result<String, HandlerError> {
        self.ec2.home_region().map(str::to_owned).ok_or_else(|| {
            "this function has no AWS region (AWS_REGION is unset), so it cannot tell its side of the peering".into()
        })
    }

    /// Finds or requests the peering, and reports its id at once (the runner
    /// polls straight away): should anything fail later, the FAILED answer
    /// carries the id, and the clean-up Delete removes the peering.
    async fn start(
        &self,
        request: &Request,
        props: &Props,
        replacing: Option<String>,
    ) -> Result<Outcome, HandlerError> {
        let home = self.home()?;
        let pcx = match self.find_ours(&home, request, props).await? {
            Some(pcx) => {
                tracing::info!(pcx, "found the peering an earlier Create made; continuing with it");
                pcx
            }
            None => self.request_peering(&home, request, props).await?,
        };
        let progress = Progress {
            pcx: pcx.clone(),
            phase: Phase::Accepting,
            replacing,
        };
        let state = serde_json::to_value(&progress)?;
        Ok(Outcome::in_progress(state, Duration::ZERO).with_physical_id(pcx))
    }

    /// [`Self::advance`], and for an Update (a replacement) that fails, the
    /// removal of the new peering: CloudFormation keeps the old id after a
    /// failed Update, so no clean-up Delete would ever reach the new one.
    async fn proceed(&self, request: &Request, props: &Props, progress: Progress) -> Result<Outcome, HandlerError> {
        let pcx = progress.pcx.clone();
        let result = self.advance(request, props, progress).await;
        if result.is_err()
            && request.request_type == RequestType::Update
            && let Err(e) = self.remove(props, &pcx).await
        {
            tracing::warn!(pcx, error = %e, "could not remove the new peering of a failed replacement");
        }
        result
    }

    /// Accepts, waits and configures, as the peering's status allows.
    async fn advance(&self, request: &Request, props: &Props, mut progress: Progress) -> Result<Outcome, HandlerError> {
        let home = self.home()?;
        let peer = props.peer_region.as_str();
        loop {
            let pcx = progress.pcx.as_str();
            let step = match progress.phase {
                Phase::Accepting => plan::next_step(progress.phase, pcx, peer, self.look(peer, pcx).await?.as_ref()),
                Phase::Activating => plan::combine(
                    plan::next_step(progress.phase, pcx, &home, self.look(&home, pcx).await?.as_ref()),
                    plan::next_step(progress.phase, pcx, peer, self.look(peer, pcx).await?.as_ref()),
                ),
            };
            match step {
                Step::Accept => {
                    self.accept(peer, pcx).await?;
                    progress.phase = Phase::Activating;
                }
                Step::Wait(why) => {
                    tracing::info!(pcx, why, "waiting for the VPC peering");
                    let state = serde_json::to_value(&progress)?;
                    return Ok(Outcome::in_progress(state, POLL_INTERVAL).with_physical_id(pcx));
                }
                Step::Configure => {
                    self.tag(peer, request, pcx).await?;
                    self.sync_routes(props, pcx, progress.replacing.as_deref(), None)
                        .await?;
                    return Ok(done(pcx));
                }
                Step::Fail(why) => return Err(why.into()),
            }
        }
    }

    /// Takes both sides' routes via `pcx` to what `props` asks for, also
    /// looking at the tables `old` listed (to remove routes from them).
    async fn sync_routes(
        &self,
        props: &Props,
        pcx: &str,
        replacing: Option<&str>,
        old: Option<&Props>,
    ) -> Result<(), HandlerError> {
        let home = self.home()?;
        let old_sides = old.map(|old| sides(&home, old));
        for (i, (side, desired)) in sides(&home, props).into_iter().enumerate() {
            let also = old_sides.as_ref().map_or(&[][..], |old| old[i].1.tables);
            self.routes(side, pcx, replacing, desired, also).await?;
        }
        Ok(())
    }

    /// Observes `desired.tables` and `also` on one side, and applies the
    /// changes that [`routes::plan_routes`] decides.
    async fn routes(
        &self,
        side: Side<'_>,
        pcx: &str,
        replacing: Option<&str>,
        desired: Desired<'_>,
        also: &[String],
    ) -> Result<(), HandlerError> {
        let mut observed = Tables::new();
        for id in desired.tables.iter().chain(also).collect::<BTreeSet<_>>() {
            observed.insert(id.clone(), self.read_table(side.region, id).await?);
        }
        for change in routes::plan_routes(side, pcx, replacing, desired, &observed)? {
            self.apply(side, pcx, change).await?;
        }
        Ok(())
    }

    /// Removes the routes via `pcx` from the tables `props` lists on both
    /// sides, then the peering itself. What is already gone counts as removed.
    async fn remove(&self, props: &Props, pcx: &str) -> Result<(), HandlerError> {
        let home = self.home()?;
        for (side, listed) in sides(&home, props) {
            self.routes(side, pcx, None, Desired::NONE, listed.tables).await?;
        }
        if plan::needs_delete(self.look(&home, pcx).await?.as_ref()) {
            self.delete_peering(&home, pcx).await?;
        } else {
            tracing::info!(pcx, "the VPC peering is gone already");
        }
        Ok(())
    }
}

impl CustomResource for VpcPeering {
    type Properties = Props;
    const RESOURCE_TYPE: &'static str = "Custom::VpcPeering";

    fn validate(props: &Props) -> Result<(), String> {
        validate(props)
    }

    async fn create(&self, request: &Request, props: Props) -> Result<Outcome, HandlerError> {
        self.start(request, &props, None).await
    }

    async fn update(
        &self,
        request: &Request,
        physical_id: &str,
        props: Props,
        old: Option<Props>,
    ) -> Result<Outcome, HandlerError> {
        let home = self.home()?;
        let current = if physical_id.starts_with("pcx-") {
            self.look(&home, physical_id).await?
        } else {
            None
        };
        let old_identity = old.as_ref().map(Identity::of);
        match plan::plan_update(
            physical_id,
            old_identity.as_ref(),
            &Identity::of(&props),
            current.as_ref(),
        ) {
            UpdatePlan::Replace(why) => {
                tracing::info!(physical_id, why, "replacing the VPC peering");
                // Routes via the old peering (even a vanished one) may be repointed.
                let replacing = physical_id.starts_with("pcx-").then(|| physical_id.to_owned());
                self.start(request, &props, replacing).await
            }
            UpdatePlan::Reconcile => {
                self.sync_routes(&props, physical_id, None, old.as_ref()).await?;
                Ok(done(physical_id))
            }
        }
    }

    async fn delete(&self, _: &Request, physical_id: &str, props: Props) -> Result<Outcome, HandlerError> {
        if physical_id.starts_with("pcx-") {
            self.remove(&props, physical_id).await?;
        } else {
            tracing::info!(physical_id, "not a VPC peering id: nothing to delete");
        }
        Ok(Outcome::done(physical_id))
    }

    async fn poll(&self, request: &Request, props: Props, state: Value) -> Result<Outcome, HandlerError> {
        let progress: Progress = serde_json::from_value(state)
            .map_err(|e| format!("internal error: unreadable VPC peering progress ({e}); this is a bug in tandem"))?;
        self.proceed(request, &props, progress).await
    }
}

#[cfg(test)]
mod change_tests;
#[cfg(test)]
mod create_tests;
#[cfg(test)]
mod mocked;
