//! The pure route decisions of `Custom::VpcPeering`: which routes to add,
//! repoint or remove on one side, given the route tables as observed.

use std::collections::{BTreeMap, BTreeSet};

/// One route as DescribeRouteTables shows it (IPv4 destinations only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    /// Its destination CIDR block.
    pub destination: String,
    /// Where it sends traffic: a `pcx-`, `igw-`, `nat-`… id, or `local`.
    pub target: String,
}

/// Route tables as observed: id to routes, `None` when the table does not exist.
pub type Tables = BTreeMap<String, Option<Vec<RouteView>>>;

/// One side of the peering, for messages: which property lists its tables,
/// and its region.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// `RouteTableIds` or `PeerRouteTableIds`.
    pub field: &'a str,
    /// The side's region.
    pub region: &'a str,
}

/// The routes one side should have: in each of `tables`, `destination` via the peering.
#[derive(Debug, Clone, Copy)]
pub struct Desired<'a> {
    /// The tables that should route to the other side.
    pub tables: &'a [String],
    /// The other side's CIDR block.
    pub destination: &'a str,
}

impl Desired<'static> {
    /// No routes at all (for Delete).
    pub const NONE: Self = Desired {
        tables: &[],
        destination: "",
    };
}

/// A change to one route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteChange {
    /// Add a route to `destination` via the peering.
    Create {
        /// The table.
        table: String,
        /// The destination CIDR block.
        destination: String,
    },
    /// Point the route to `destination` at the peering instead of `from`, the
    /// peering this one replaces.
    Replace {
        /// The table.
        table: String,
        /// The destination CIDR block.
        destination: String,
        /// The replaced peering.
        from: String,
    },
    /// Remove the route to `destination` (it targets the peering).
    Delete {
        /// The table.
        table: String,
        /// The destination CIDR block.
        destination: String,
    },
}

/// Why a table cannot get the peering's route: it already routes
/// `destination` to `target`. Names the table and the fix.
pub fn route_conflict(side: Side<'_>, table: &str, destination: &str, target: &str) -> String {
    format!(
        "route table {table} in {} already has a route to {destination} via {target}: \
         remove that route, or take {table} out of `{}`",
        side.region, side.field
    )
}

/// The route changes that take the observed tables of one side to the
/// desired routes via `pcx`: deletions first, then additions.
///
/// Only routes that target `pcx` are ever deleted, so tables the stack no
/// longer lists keep everything else. A route to the destination that
/// targets `replacing` (the peering this one replaces) is repointed; one
/// that targets anything else is an error, since two routes to one CIDR
/// cannot coexist. A desired table that does not exist is an error; an
/// undesired one is fine (it may be gone already).
pub fn plan_routes(
    side: Side<'_>,
    pcx: &str,
    replacing: Option<&str>,
    desired: Desired<'_>,
    observed: &Tables,
) -> Result<Vec<RouteChange>, String> {
    let mut deletions = BTreeSet::new();
    for (table, routes) in observed {
        for route in routes.iter().flatten() {
            let wanted = desired.tables.contains(table) && route.destination == desired.destination;
            if route.target == pcx && !wanted {
                deletions.insert((table.clone(), route.destination.clone()));
            }
        }
    }
    let mut changes: Vec<RouteChange> = deletions
        .into_iter()
        .map(|(table, destination)| RouteChange::Delete { table, destination })
        .collect();
    for table in desired.tables {
        let Some(Some(routes)) = observed.get(table) else {
            return Err(format!(
                "property `{}`: route table {table} does not exist in {}: \
                 check the id, or create the table first",
                side.field, side.region
            ));
        };
        let destination = desired.destination.to_owned();
        let existing = routes.iter().find(|r| r.destination == desired.destination);
        match existing {
            None => changes.push(RouteChange::Create {
                table: table.clone(),
                destination,
            }),
            Some(route) if route.target == pcx => {}
            Some(route) if Some(route.target.as_str()) == replacing => changes.push(RouteChange::Replace {
                table: table.clone(),
                destination,
                from: route.target.clone(),
            }),
            Some(route) => return Err(route_conflict(side, table, &destination, &route.target)),
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests;
