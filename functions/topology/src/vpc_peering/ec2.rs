//! The EC2 calls of `Custom::VpcPeering`: each observes or changes one
//! thing, and turns AWS's answer into the plain views that [`plan`] and
//! [`routes`] decide on.

use super::plan::{self, Identity, LOGICAL_ID_TAG, PeeringView, STACK_ID_TAG, Status};
use super::routes::{self, RouteChange, RouteView, Side};
use super::{Props, VpcPeering};
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, ResourceType, Route, Tag, TagSpecification, VpcPeeringConnection};
use tandem_core::aws::{error_code, error_text, is_not_found};
use tandem_core::cfn::{HandlerError, Request};

/// `what` failed, with AWS's error code and message.
fn failed<E>(what: String, error: &SdkError<E, HttpResponse>) -> HandlerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    format!("{what}: {}", error_text(error)).into()
}

/// The plain view of a described peering.
fn view_of(p: &VpcPeeringConnection) -> PeeringView {
    let status = p.status();
    PeeringView {
        id: p.vpc_peering_connection_id().unwrap_or_default().to_owned(),
        status: Status::parse(status.and_then(|s| s.code()).map_or("", |c| c.as_str())),
        message: status.and_then(|s| s.message()).unwrap_or_default().to_owned(),
        vpc_id: p
            .requester_vpc_info()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_owned(),
        peer_vpc_id: p
            .accepter_vpc_info()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_owned(),
        peer_region: p.accepter_vpc_info().and_then(|v| v.region()).map(str::to_owned),
        tags: p
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
            .collect(),
    }
}

/// The plain view of a route; `None` for one without an IPv4 destination.
fn route_of(r: &Route) -> Option<RouteView> {
    let target = [
        r.vpc_peering_connection_id(),
        r.gateway_id(),
        r.nat_gateway_id(),
        r.transit_gateway_id(),
        r.instance_id(),
        r.network_interface_id(),
        r.egress_only_internet_gateway_id(),
        r.local_gateway_id(),
        r.carrier_gateway_id(),
        r.core_network_arn(),
    ]
    .into_iter()
    .flatten()
    .next()
    .unwrap_or("an unknown target");
    Some(RouteView {
        destination: r.destination_cidr_block()?.to_owned(),
        target: target.to_owned(),
    })
}

/// The peering's tags (see [`plan::tags`]) as EC2 takes them.
fn sdk_tags(request: &Request) -> Vec<Tag> {
    plan::tags(&request.stack_id, &request.logical_resource_id, request.stack_name())
        .into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

impl VpcPeering {
    /// Peering `pcx` as `region` sees it; `None` when it does not exist there (yet).
    pub(super) async fn look(&self, region: &str, pcx: &str) -> Result<Option<PeeringView>, HandlerError> {
        let result = (self.ec2.get(region))
            .describe_vpc_peering_connections()
            .vpc_peering_connection_ids(pcx)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out
                .vpc_peering_connections()
                .iter()
                .find(|p| p.vpc_peering_connection_id() == Some(pcx))
                .map(view_of)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(failed(format!("could not describe VPC peering {pcx} in {region}"), &e)),
        }
    }

    /// The peering an earlier Create made for this resource, if any.
    pub(super) async fn find_ours(
        &self,
        home: &str,
        request: &Request,
        props: &Props,
    ) -> Result<Option<String>, HandlerError> {
        let tag = |key: &str, value: &str| Filter::builder().name(format!("tag:{key}")).values(value).build();
        let mut pages = (self.ec2.get(home))
            .describe_vpc_peering_connections()
            .filters(tag(STACK_ID_TAG, &request.stack_id))
            .filters(tag(LOGICAL_ID_TAG, &request.logical_resource_id))
            .into_paginator()
            .items()
            .send();
        let mut found = Vec::new();
        while let Some(item) = pages.next().await {
            let item =
                item.map_err(|e| failed(format!("could not list this resource's VPC peerings in {home}"), &e))?;
            found.push(view_of(&item));
        }
        let ours = plan::pick_ours(
            &found,
            &Identity::of(props),
            &request.stack_id,
            &request.logical_resource_id,
        );
        Ok(ours.map(|p| p.id.clone()))
    }

    /// Requests a new peering, tagged at creation; returns its id.
    pub(super) async fn request_peering(
        &self,
        home: &str,
        request: &Request,
        props: &Props,
    ) -> Result<String, HandlerError> {
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::VpcPeeringConnection)
            .set_tags(Some(sdk_tags(request)))
            .build();
        let out = (self.ec2.get(home))
            .create_vpc_peering_connection()
            .vpc_id(&props.vpc_id)
            .peer_vpc_id(&props.peer_vpc_id)
            .peer_region(&props.peer_region)
            .tag_specifications(tags)
            .send()
            .await
            .map_err(|e| {
                let what = Identity::of(props);
                failed(format!("could not request a VPC peering from {what}"), &e)
            })?;
        let pcx = out.vpc_peering_connection().and_then(|p| p.vpc_peering_connection_id());
        let pcx = pcx.ok_or("CreateVpcPeeringConnection answered without a peering id")?;
        tracing::info!(pcx, "requested VPC peering");
        Ok(pcx.to_owned())
    }

    /// Accepts peering `pcx` in `region`. One accepted meanwhile (by a
    /// repeated request) is fine: the next look tells how it stands.
    pub(super) async fn accept(&self, region: &str, pcx: &str) -> Result<(), HandlerError> {
        let accepted = (self.ec2.get(region))
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(pcx)
            .send()
            .await;
        match accepted {
            Ok(_) => tracing::info!(pcx, region, "accepted VPC peering"),
            Err(e) if error_code(&e) == Some("InvalidStateTransition") => {}
            Err(e) => return Err(failed(format!("could not accept VPC peering {pcx} in {region}"), &e)),
        }
        Ok(())
    }

    /// Tags peering `pcx` in `region` (its tags are per region).
    pub(super) async fn tag(&self, region: &str, request: &Request, pcx: &str) -> Result<(), HandlerError> {
        (self.ec2.get(region))
            .create_tags()
            .resources(pcx)
            .set_tags(Some(sdk_tags(request)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(format!("could not tag VPC peering {pcx} in {region}"), &e))
    }

    /// Deletes peering `pcx` from `region`; one that does not exist is fine.
    pub(super) async fn delete_peering(&self, region: &str, pcx: &str) -> Result<(), HandlerError> {
        let deleted = (self.ec2.get(region))
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(pcx)
            .send()
            .await;
        match deleted {
            Err(e) if !is_not_found(&e) => Err(failed(format!("could not delete VPC peering {pcx} in {region}"), &e)),
            _ => {
                tracing::info!(pcx, region, "deleted VPC peering");
                Ok(())
            }
        }
    }

    /// Route table `id`'s routes; `None` when it does not exist.
    pub(super) async fn read_table(&self, region: &str, id: &str) -> Result<Option<Vec<RouteView>>, HandlerError> {
        match self
            .ec2
            .get(region)
            .describe_route_tables()
            .route_table_ids(id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .route_tables()
                .iter()
                .find(|t| t.route_table_id() == Some(id))
                .map(|t| t.routes().iter().filter_map(route_of).collect())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(failed(format!("could not read route table {id} in {region}"), &e)),
        }
    }

    /// Makes one route change on `side`.
    pub(super) async fn apply(&self, side: Side<'_>, pcx: &str, change: RouteChange) -> Result<(), HandlerError> {
        let client = self.ec2.get(side.region);
        let region = side.region;
        tracing::info!(region, ?change, "changing a route");
        match change {
            RouteChange::Create { table, destination } => {
                let created = (client.create_route())
                    .route_table_id(&table)
                    .destination_cidr_block(&destination)
                    .vpc_peering_connection_id(pcx)
                    .send()
                    .await;
                match created {
                    Ok(_) => Ok(()),
                    Err(e) if error_code(&e) == Some("RouteAlreadyExists") => {
                        // Another run got there first: fine if it is ours.
                        let routes = self.read_table(region, &table).await?.unwrap_or_default();
                        match routes.iter().find(|r| r.destination == destination) {
                            Some(r) if r.target == pcx => Ok(()),
                            Some(r) => Err(routes::route_conflict(side, &table, &destination, &r.target).into()),
                            None => Err(failed(format!("could not add a route to {destination} in {table}"), &e)),
                        }
                    }
                    Err(e) => Err(failed(
                        format!("could not add a route to {destination} via {pcx} in route table {table} ({region})"),
                        &e,
                    )),
                }
            }
            RouteChange::Replace { table, destination, .. } => client
                .replace_route()
                .route_table_id(&table)
                .destination_cidr_block(&destination)
                .vpc_peering_connection_id(pcx)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    failed(
                        format!("could not point the route to {destination} in {table} ({region}) at {pcx}"),
                        &e,
                    )
                }),
            RouteChange::Delete { table, destination } => {
                let deleted = (client.delete_route())
                    .route_table_id(&table)
                    .destination_cidr_block(&destination)
                    .send()
                    .await;
                match deleted {
                    Err(e) if !is_not_found(&e) => Err(failed(
                        format!("could not remove the route to {destination} from {table} ({region})"),
                        &e,
                    )),
                    _ => Ok(()),
                }
            }
        }
    }
}
