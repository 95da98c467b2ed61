use super::*;

const HOME: Side<'static> = Side {
    field: "RouteTableIds",
    region: "us-east-1",
};

fn route(destination: &str, target: &str) -> RouteView {
    RouteView {
        destination: destination.into(),
        target: target.into(),
    }
}

fn observed(tables: &[(&str, Option<Vec<RouteView>>)]) -> Tables {
    tables
        .iter()
        .map(|(id, routes)| (id.to_string(), routes.clone()))
        .collect()
}

fn local() -> RouteView {
    route("10.0.0.0/16", "local")
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn create(table: &str) -> RouteChange {
    RouteChange::Create {
        table: table.into(),
        destination: "10.1.0.0/16".into(),
    }
}

fn delete(table: &str, destination: &str) -> RouteChange {
    RouteChange::Delete {
        table: table.into(),
        destination: destination.into(),
    }
}

#[test]
fn missing_routes_are_created() {
    let tables = ids(&["rtb-a", "rtb-b"]);
    let seen = observed(&[("rtb-a", Some(vec![local()])), ("rtb-b", Some(vec![]))]);
    let want = Desired {
        tables: &tables,
        destination: "10.1.0.0/16",
    };
    assert_eq!(
        plan_routes(HOME, "pcx-1", None, want, &seen).unwrap(),
        [create("rtb-a"), create("rtb-b")]
    );
}

#[test]
fn an_existing_route_via_this_peering_is_left_alone() {
    let tables = ids(&["rtb-a"]);
    let seen = observed(&[("rtb-a", Some(vec![local(), route("10.1.0.0/16", "pcx-1")]))]);
    let want = Desired {
        tables: &tables,
        destination: "10.1.0.0/16",
    };
    assert_eq!(plan_routes(HOME, "pcx-1", None, want, &seen).unwrap(), []);
}

#[test]
fn a_route_to_the_same_cidr_elsewhere_is_an_error_naming_the_table_and_the_fix() {
    let tables = ids(&["rtb-a"]);
    let seen = observed(&[("rtb-a", Some(vec![route("10.1.0.0/16", "tgw-9")]))]);
    let want = Desired {
        tables: &tables,
        destination: "10.1.0.0/16",
    };
    let e = plan_routes(HOME, "pcx-1", Some("pcx-0"), want, &seen).unwrap_err();
    assert_eq!(
        e,
        "route table rtb-a in us-east-1 already has a route to 10.1.0.0/16 via tgw-9: \
         remove that route, or take rtb-a out of `RouteTableIds`"
    );
}

#[test]
fn a_route_via_the_replaced_peering_is_repointed() {
    let tables = ids(&["rtb-a"]);
    let seen = observed(&[("rtb-a", Some(vec![route("10.1.0.0/16", "pcx-old")]))]);
    let want = Desired {
        tables: &tables,
        destination: "10.1.0.0/16",
    };
    assert_eq!(
        plan_routes(HOME, "pcx-new", Some("pcx-old"), want, &seen).unwrap(),
        [RouteChange::Replace {
            table: "rtb-a".into(),
            destination: "10.1.0.0/16".into(),
            from: "pcx-old".into()
        }]
    );
}

#[test]
fn a_desired_table_that_does_not_exist_is_an_error() {
    let tables = ids(&["rtb-gone"]);
    let want = Desired {
        tables: &tables,
        destination: "10.1.0.0/16",
    };
    for seen in [observed(&[("rtb-gone", None)]), observed(&[])] {
        let e = plan_routes(HOME, "pcx-1", None, want, &seen).unwrap_err();
        assert!(
            e.starts_with("property `RouteTableIds`: route table rtb-gone does not exist in us-east-1"),
            "{e}"
        );
    }
}

#[test]
fn tables_no_longer_listed_lose_only_this_peerings_routes() {
    let tables = ids(&["rtb-b"]);
    let seen = observed(&[
        (
            "rtb-a",
            Some(vec![
                local(),
                route("10.1.0.0/16", "pcx-1"),
                route("10.2.0.0/16", "pcx-2"),
                route("0.0.0.0/0", "igw-1"),
            ]),
        ),
        ("rtb-b", Some(vec![local()])),
        ("rtb-gone", None),
    ]);
    let want = Desired {
        tables: &tables,
        destination: "10.1.0.0/16",
    };
    assert_eq!(
        plan_routes(HOME, "pcx-1", None, want, &seen).unwrap(),
        [delete("rtb-a", "10.1.0.0/16"), create("rtb-b")]
    );
}

#[test]
fn a_changed_cidr_moves_the_route() {
    let tables = ids(&["rtb-a"]);
    let seen = observed(&[("rtb-a", Some(vec![route("10.9.0.0/16", "pcx-1")]))]);
    let want = Desired {
        tables: &tables,
        destination: "10.1.0.0/16",
    };
    assert_eq!(
        plan_routes(HOME, "pcx-1", None, want, &seen).unwrap(),
        [delete("rtb-a", "10.9.0.0/16"), create("rtb-a")]
    );
}

#[test]
fn delete_removes_every_route_via_the_peering_and_nothing_else() {
    let seen = observed(&[
        (
            "rtb-a",
            Some(vec![
                local(),
                route("10.1.0.0/16", "pcx-1"),
                route("10.1.0.0/16", "pcx-1"),
            ]),
        ),
        ("rtb-b", Some(vec![route("10.1.0.0/16", "pcx-other")])),
        ("rtb-gone", None),
    ]);
    assert_eq!(
        plan_routes(HOME, "pcx-1", None, Desired::NONE, &seen).unwrap(),
        [delete("rtb-a", "10.1.0.0/16")],
        "one deletion per route, even when listed twice"
    );
    assert_eq!(
        plan_routes(HOME, "pcx-1", None, Desired::NONE, &observed(&[])).unwrap(),
        []
    );
}
