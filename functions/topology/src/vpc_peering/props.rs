//! The properties of `Custom::VpcPeering`, and their checks beyond types.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use tandem_core::aws::check_region;

/// The resource's properties, as CloudFormation sends them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Props {
    /// The requester VPC, in this function's (the stack's) region.
    pub vpc_id: String,
    /// The accepter VPC, in `PeerRegion`.
    pub peer_vpc_id: String,
    /// The accepter VPC's region.
    pub peer_region: String,
    /// This VPC's CIDR block: the destination of the routes in the peer's tables.
    pub vpc_cidr: String,
    /// The peer VPC's CIDR block: the destination of the routes in this side's tables.
    pub peer_vpc_cidr: String,
    /// This side's route tables, which get a route to `PeerVpcCidr`.
    #[serde(default)]
    pub route_table_ids: Vec<String>,
    /// The peer side's route tables, which get a route to `VpcCidr`.
    #[serde(default)]
    pub peer_route_table_ids: Vec<String>,
}

/// An IPv4 CIDR block in canonical form (no host bits set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address.
    pub network: Ipv4Addr,
    /// The prefix length, 0 to 32.
    pub prefix: u8,
}

fn mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

impl Cidr {
    /// Parses `10.1.0.0/16`. A block with host bits set (`10.1.0.7/16`) is
    /// refused with the canonical form, since AWS routes name the network.
    pub fn parse(text: &str) -> Result<Self, String> {
        let example = "use one such as \"10.1.0.0/16\"";
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not an IPv4 CIDR block (no /prefix); {example}"))?;
        let address: Ipv4Addr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IPv4 CIDR block (bad address); {example}"))?;
        let prefix = prefix
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{text:?} is not an IPv4 CIDR block (the prefix must be 0 to 32); {example}"))?;
        let network = Ipv4Addr::from(u32::from(address) & mask(prefix));
        if network != address {
            return Err(format!(
                "{text:?} has host bits set; use the network address, \"{network}/{prefix}\""
            ));
        }
        Ok(Self { network, prefix })
    }

    /// Whether the two blocks share any address.
    pub fn overlaps(&self, other: &Self) -> bool {
        let common = mask(self.prefix.min(other.prefix));
        u32::from(self.network) & common == u32::from(other.network) & common
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Checks that `value` looks like an EC2 id with `prefix` (`vpc-`, `rtb-`).
fn check_id(field: &str, value: &str, prefix: &str, what: &str) -> Result<(), String> {
    let rest = value.strip_prefix(prefix).unwrap_or_default();
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "property `{field}`: {value:?} is not a {what} id; use one such as \"{prefix}0123456789abcdef0\""
        ));
    }
    Ok(())
}

fn check_tables(field: &str, ids: &[String]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        check_id(&format!("{field}[{i}]"), id, "rtb-", "route table")?;
        if !seen.insert(id.as_str()) {
            return Err(format!(
                "property `{field}`: {id} is listed twice; list each table once"
            ));
        }
    }
    Ok(())
}

fn parse_cidr(field: &str, text: &str) -> Result<Cidr, String> {
    Cidr::parse(text).map_err(|e| format!("property `{field}`: {e}"))
}

/// Checks the properties beyond their types, naming the field at fault and
/// the fix.
pub fn validate(props: &Props) -> Result<(), String> {
    check_id("VpcId", &props.vpc_id, "vpc-", "VPC")?;
    check_id("PeerVpcId", &props.peer_vpc_id, "vpc-", "VPC")?;
    if props.vpc_id == props.peer_vpc_id {
        return Err(format!(
            "property `PeerVpcId`: a VPC cannot peer with itself (VpcId and PeerVpcId are both {}); \
             set PeerVpcId to the other region's VPC",
            props.vpc_id
        ));
    }
    check_region(&props.peer_region).map_err(|e| format!("property `PeerRegion`: {e}"))?;
    let mine = parse_cidr("VpcCidr", &props.vpc_cidr)?;
    let peer = parse_cidr("PeerVpcCidr", &props.peer_vpc_cidr)?;
    if mine.overlaps(&peer) {
        return Err(format!(
            "properties `VpcCidr` ({mine}) and `PeerVpcCidr` ({peer}) overlap, and AWS cannot route \
             between overlapping VPCs: give the two VPCs CIDR blocks that do not overlap \
             (such as 10.0.0.0/16 and 10.1.0.0/16)"
        ));
    }
    check_tables("RouteTableIds", &props.route_table_ids)?;
    check_tables("PeerRouteTableIds", &props.peer_route_table_ids)?;
    Ok(())
}

/// Valid properties for tests: us-east-1 10.0.0.0/16 peered with us-east-2
/// 10.1.0.0/16, one route table on each side.
#[cfg(test)]
pub(crate) fn sample() -> Props {
    Props {
        vpc_id: "vpc-0aaa".into(),
        peer_vpc_id: "vpc-0bbb".into(),
        peer_region: "us-east-2".into(),
        vpc_cidr: "10.0.0.0/16".into(),
        peer_vpc_cidr: "10.1.0.0/16".into(),
        route_table_ids: vec!["rtb-0a1".into()],
        peer_route_table_ids: vec!["rtb-0b1".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(change: impl FnOnce(&mut Props)) -> String {
        let mut props = sample();
        change(&mut props);
        validate(&props).unwrap_err()
    }

    #[test]
    fn cidrs_parse_in_canonical_form() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert_eq!((c.network, c.prefix), (Ipv4Addr::new(10, 1, 0, 0), 16));
        assert_eq!(c.to_string(), "10.1.0.0/16");
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().prefix, 0);
        assert_eq!(Cidr::parse("10.1.2.3/32").unwrap().prefix, 32);
    }

    #[test]
    fn bad_cidrs_say_what_is_wrong_and_give_an_example() {
        for (text, why) in [
            ("10.1.0.0", "no /prefix"),
            ("10.1.0/16", "bad address"),
            ("10.1.0.0/33", "0 to 32"),
            ("10.1.0.0/x", "0 to 32"),
            ("fd00::/8", "bad address"),
            ("", "no /prefix"),
        ] {
            let e = Cidr::parse(text).unwrap_err();
            assert!(e.contains(why) && e.contains("10.1.0.0/16"), "{text}: {e}");
        }
        let e = Cidr::parse("10.1.0.7/16").unwrap_err();
        assert!(e.contains("host bits") && e.contains("\"10.1.0.0/16\""), "{e}");
    }

    #[test]
    fn overlap_is_any_shared_address() {
        let c = |t| Cidr::parse(t).unwrap();
        assert!(!c("10.0.0.0/16").overlaps(&c("10.1.0.0/16")));
        assert!(c("10.0.0.0/16").overlaps(&c("10.0.128.0/17")));
        assert!(c("10.0.128.0/17").overlaps(&c("10.0.0.0/8")));
        assert!(c("10.0.0.0/16").overlaps(&c("10.0.0.0/16")));
        assert!(c("0.0.0.0/0").overlaps(&c("192.168.0.0/24")));
        assert!(!c("10.0.0.0/32").overlaps(&c("10.0.0.1/32")));
    }

    #[test]
    fn the_sample_is_valid() {
        assert_eq!(validate(&sample()), Ok(()));
        let mut no_tables = sample();
        no_tables.route_table_ids.clear();
        no_tables.peer_route_table_ids.clear();
        assert_eq!(validate(&no_tables), Ok(()), "tables are optional");
    }

    #[test]
    fn each_bad_field_is_named_with_the_fix() {
        type Change = fn(&mut Props);
        let cases: [(&str, Change); 8] = [
            ("property `VpcId`", |p| p.vpc_id = "vpc0aaa".into()),
            ("property `VpcId`", |p| p.vpc_id = "vpc-".into()),
            ("property `PeerVpcId`", |p| p.peer_vpc_id = "subnet-1".into()),
            ("property `PeerRegion`", |p| p.peer_region = "us-east".into()),
            ("property `VpcCidr`", |p| p.vpc_cidr = "10.0.0.0".into()),
            ("property `PeerVpcCidr`", |p| p.peer_vpc_cidr = "10.1.0.1/16".into()),
            ("property `RouteTableIds[0]`", |p| {
                p.route_table_ids = vec!["igw-1".into()]
            }),
            ("property `PeerRouteTableIds[1]`", |p| {
                p.peer_route_table_ids.push(" rtb-2".into())
            }),
        ];
        for (field, change) in cases {
            let e = error_of(change);
            assert!(e.starts_with(field), "{field}: {e}");
            assert!(e.contains("use "), "{field} gives the fix: {e}");
        }
    }

    #[test]
    fn a_vpc_cannot_peer_with_itself() {
        let e = error_of(|p| p.peer_vpc_id = p.vpc_id.clone());
        assert!(e.contains("cannot peer with itself") && e.contains("vpc-0aaa"), "{e}");
    }

    #[test]
    fn overlapping_cidrs_are_refused_because_they_cannot_route() {
        let e = error_of(|p| p.peer_vpc_cidr = "10.0.128.0/17".into());
        assert!(
            e.contains("`VpcCidr` (10.0.0.0/16) and `PeerVpcCidr` (10.0.128.0/17) overlap"),
            "{e}"
        );
        assert!(e.contains("cannot route"), "{e}");
    }

    #[test]
    fn a_table_listed_twice_is_refused() {
        let e = error_of(|p| p.route_table_ids = vec!["rtb-1".into(), "rtb-1".into()]);
        assert!(e.contains("`RouteTableIds`: rtb-1 is listed twice"), "{e}");
    }

    #[test]
    fn properties_parse_from_cloudformation_json_and_lists_default_to_empty() {
        let raw = serde_json::json!({
            "VpcId": "vpc-1", "PeerVpcId": "vpc-2", "PeerRegion": "us-east-2",
            "VpcCidr": "10.0.0.0/16", "PeerVpcCidr": "10.1.0.0/16", "RouteTableIds": ["rtb-1"],
        });
        let p: Props = tandem_core::cfn::props::parse(raw.as_object().unwrap()).unwrap();
        assert_eq!(p.route_table_ids, vec!["rtb-1".to_string()]);
        assert!(p.peer_route_table_ids.is_empty());
    }
}
