//! The pure decisions of `Custom::VpcPeering`. Nothing here calls AWS: each
//! function takes what the shell observed and says what to do next.

use super::props::Props;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The tag that names the stack a peering belongs to.
pub const STACK_ID_TAG: &str = "tandem:stack-id";
/// The tag that names the template resource a peering belongs to.
pub const LOGICAL_ID_TAG: &str = "tandem:logical-id";

/// How long to wait before looking again at a peering that is still
/// changing state.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The tags a peering carries in both regions: the first two let a repeated
/// Create find it again, `Name` is for people.
pub fn tags(stack_id: &str, logical_id: &str, stack_name: &str) -> Vec<(String, String)> {
    vec![
        (STACK_ID_TAG.to_owned(), stack_id.to_owned()),
        (LOGICAL_ID_TAG.to_owned(), logical_id.to_owned()),
        ("Name".to_owned(), format!("{stack_name}-{logical_id}")),
    ]
}

/// A peering connection's status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// `initiating-request`: AWS is creating the request.
    InitiatingRequest,
    /// `pending-acceptance`: waiting for the accepter.
    PendingAcceptance,
    /// `provisioning`: accepted, becoming active.
    Provisioning,
    /// `active`: routes can use it.
    Active,
    /// `deleting`: on its way out.
    Deleting,
    /// `deleted`: gone (AWS shows it for a while).
    Deleted,
    /// `rejected`: the accepter refused it.
    Rejected,
    /// `failed`: AWS could not make it (for example overlapping CIDRs, or no such peer VPC).
    Failed,
    /// `expired`: not accepted within seven days.
    Expired,
    /// A code this code does not know.
    Other(String),
}

impl Status {
    /// The status for an EC2 status code.
    pub fn parse(code: &str) -> Self {
        match code {
            "initiating-request" => Self::InitiatingRequest,
            "pending-acceptance" => Self::PendingAcceptance,
            "provisioning" => Self::Provisioning,
            "active" => Self::Active,
            "deleting" => Self::Deleting,
            "deleted" => Self::Deleted,
            "rejected" => Self::Rejected,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The EC2 status code.
    pub fn code(&self) -> &str {
        match self {
            Self::InitiatingRequest => "initiating-request",
            Self::PendingAcceptance => "pending-acceptance",
            Self::Provisioning => "provisioning",
            Self::Active => "active",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Other(code) => code,
        }
    }

    /// Whether the connection is over: it can never carry traffic again.
    pub fn is_over(&self) -> bool {
        matches!(
            self,
            Self::Deleting | Self::Deleted | Self::Rejected | Self::Failed | Self::Expired
        )
    }
}

/// What a peering connects: the properties that cannot change without a
/// new peering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The requester VPC (this region).
    pub vpc_id: String,
    /// The accepter VPC.
    pub peer_vpc_id: String,
    /// The accepter's region.
    pub peer_region: String,
}

impl Identity {
    /// The identity the properties ask for.
    pub fn of(props: &Props) -> Self {
        Self {
            vpc_id: props.vpc_id.clone(),
            peer_vpc_id: props.peer_vpc_id.clone(),
            peer_region: props.peer_region.clone(),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {} in {}", self.vpc_id, self.peer_vpc_id, self.peer_region)
    }
}

/// One peering connection, as DescribeVpcPeeringConnections shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeeringView {
    /// Its id, `pcx-…`.
    pub id: String,
    /// Its status.
    pub status: Status,
    /// AWS's message for the status.
    pub message: String,
    /// The requester VPC.
    pub vpc_id: String,
    /// The accepter VPC.
    pub peer_vpc_id: String,
    /// The accepter's region, when AWS says.
    pub peer_region: Option<String>,
    /// Its tags in the region it was described in.
    pub tags: BTreeMap<String, String>,
}

impl PeeringView {
    /// Whether it connects what `identity` asks for.
    pub fn connects(&self, identity: &Identity) -> bool {
        self.vpc_id == identity.vpc_id
            && self.peer_vpc_id == identity.peer_vpc_id
            && self.peer_region.as_deref().is_none_or(|r| r == identity.peer_region)
    }
}

fn progress(status: &Status) -> u8 {
    match status {
        Status::Active => 4,
        Status::Provisioning => 3,
        Status::PendingAcceptance => 2,
        Status::InitiatingRequest => 1,
        _ => 0,
    }
}

/// The peering a Create made earlier for this resource, among those found
/// by its tags: one that is not over, connects what the properties ask for
/// (a replacement's new peering has the same tags as the old one, but not
/// the same VPCs), and carries both tags. The most advanced wins.
pub fn pick_ours<'a>(
    found: &'a [PeeringView],
    identity: &Identity,
    stack_id: &str,
    logical_id: &str,
) -> Option<&'a PeeringView> {
    let tagged = |p: &PeeringView| {
        p.tags.get(STACK_ID_TAG).map(String::as_str) == Some(stack_id)
            && p.tags.get(LOGICAL_ID_TAG).map(String::as_str) == Some(logical_id)
    };
    found
        .iter()
        .filter(|p| !p.status.is_over() && p.connects(identity) && tagged(p))
        .max_by_key(|p| (progress(&p.status), Reverse(p.id.as_str())))
}

/// Where a Create stands, carried between polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Requested; waiting to accept it in the peer region.
    Accepting,
    /// Accepted; waiting for it to be active in both regions.
    Activating,
}

/// What to do next with a peering in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Accept it in the peer region.
    Accept,
    /// Look again after [`POLL_INTERVAL`]; the text says why.
    Wait(String),
    /// It is active: add the routes and tags, and finish.
    Configure,
    /// It can never become active: fail with this reason.
    Fail(String),
}

fn failure(view: &PeeringView, region: &str) -> String {
    let what = format!(
        "VPC peering {} ({} to {} in {})",
        view.id,
        view.vpc_id,
        view.peer_vpc_id,
        view.peer_region.as_deref().unwrap_or(region)
    );
    let message = if view.message.is_empty() {
        String::new()
    } else {
        format!(" ({})", view.message)
    };
    let status = view.status.code();
    match view.status {
        Status::Failed => format!(
            "{what} failed{message}: check that PeerVpcId exists in PeerRegion in this account, \
             and that VpcCidr and PeerVpcCidr do not overlap"
        ),
        Status::Rejected => format!(
            "{what} was rejected in {region}{message}: someone refused it; update the stack to request a new one"
        ),
        Status::Expired => {
            format!("{what} expired{message}: it was not accepted within 7 days; update the stack to request a new one")
        }
        Status::Deleting | Status::Deleted => format!(
            "{what} is {status}{message}: it was deleted outside CloudFormation; update the stack to request a new one"
        ),
        _ => format!(
            "{what} has status {status:?}{message}, which tandem does not know: look at it in the EC2 console, \
             and report it if it is a new AWS status"
        ),
    }
}

/// The next step for peering `pcx`, from how it looks in `region` (`None`:
/// not visible there). While `Accepting`, the shell looks in the peer
/// region; while `Activating`, in both regions, joined with [`combine`].
pub fn next_step(phase: Phase, pcx: &str, region: &str, seen: Option<&PeeringView>) -> Step {
    let Some(view) = seen else {
        return match phase {
            // A cross-region request takes a while to reach the peer region.
            Phase::Accepting => Step::Wait(format!("{pcx} is not visible in {region} yet")),
            Phase::Activating => Step::Fail(format!(
                "VPC peering {pcx} no longer exists in {region}: it was deleted outside CloudFormation; \
                 update the stack to request a new one"
            )),
        };
    };
    let waiting = || Step::Wait(format!("{pcx} is {} in {region}", view.status.code()));
    match (&view.status, phase) {
        (Status::PendingAcceptance, Phase::Accepting) => Step::Accept,
        // Accepted already: the status has not caught up yet.
        (Status::PendingAcceptance, Phase::Activating) => waiting(),
        (Status::InitiatingRequest | Status::Provisioning, _) => waiting(),
        (Status::Active, _) => Step::Configure,
        _ => Step::Fail(failure(view, region)),
    }
}

/// Joins the steps decided from two regions: a failure anywhere fails, then
/// any wait waits, then an accept, and only both configured configure.
pub fn combine(a: Step, b: Step) -> Step {
    fn weight(step: &Step) -> u8 {
        match step {
            Step::Fail(_) => 3,
            Step::Wait(_) => 2,
            Step::Accept => 1,
            Step::Configure => 0,
        }
    }
    if weight(&b) > weight(&a) { b } else { a }
}

/// Whether going from `old` to `new` needs a new peering (a peering cannot
/// change its VPCs or region).
pub fn is_replacement(old: &Identity, new: &Identity) -> bool {
    old != new
}

/// How an Update proceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdatePlan {
    /// Same peering: reconcile the routes, keep the id.
    Reconcile,
    /// A new peering, for this reason; CloudFormation then deletes the old one.
    Replace(String),
}

/// The plan for an Update of `physical_id` to `new`. `old` is `None` when
/// the old properties did not parse; `current` is the peering as it is now
/// (`None` when it does not exist or the id is not a peering's), which
/// decides in that case.
pub fn plan_update(
    physical_id: &str,
    old: Option<&Identity>,
    new: &Identity,
    current: Option<&PeeringView>,
) -> UpdatePlan {
    if let Some(old) = old
        && is_replacement(old, new)
    {
        return UpdatePlan::Replace(format!("the peering changes from {old} to {new}"));
    }
    match current {
        None => UpdatePlan::Replace(format!("{physical_id} is not an existing peering connection")),
        Some(view) if view.status.is_over() => UpdatePlan::Replace(format!("{physical_id} is {}", view.status.code())),
        Some(view) if !view.connects(new) => UpdatePlan::Replace(format!(
            "{physical_id} connects {} to {}, not {new}",
            view.vpc_id, view.peer_vpc_id
        )),
        Some(_) => UpdatePlan::Reconcile,
    }
}

/// Whether Delete must still call DeleteVpcPeeringConnection: not when the
/// peering is gone, nor when it is over (AWS refuses to delete a failed or
/// rejected one, and it goes away by itself).
pub fn needs_delete(current: Option<&PeeringView>) -> bool {
    current.is_some_and(|view| !view.status.is_over())
}

#[cfg(test)]
mod tests;
