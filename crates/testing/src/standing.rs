//! Roles, fences and standings for the tests of the fences: us-east-1 and
//! us-east-2, each the other's peer, written once here.

use tandem_core::state::{FenceRecord, RolesRecord, Standing};

/// The other of us-east-1 and us-east-2.
pub fn other(region: &str) -> &'static str {
    if region == "us-east-1" {
        "us-east-2"
    } else {
        "us-east-1"
    }
}

/// Roles naming `primary` (the other region the standby) at `epoch`,
/// written at `updated_at`.
pub fn roles(primary: &str, epoch: u64, updated_at: u64) -> RolesRecord {
    RolesRecord {
        primary: primary.into(),
        standby: other(primary).into(),
        updated_at,
        epoch,
        reason: Some("a test".into()),
    }
}

/// A fence of `region` at `epoch`, placed by the other region.
pub fn fence(region: &str, epoch: u64) -> FenceRecord {
    FenceRecord {
        region: region.into(),
        epoch,
        by: other(region).into(),
        reason: "the primary failed 3 probes".into(),
        at: 1,
    }
}

/// A standing: roles naming `primary` at `epoch`, and fences `(region, epoch)`.
pub fn standing(primary: &str, epoch: u64, fences: &[(&str, u64)]) -> Standing {
    Standing {
        roles: Some(roles(primary, epoch, 100 + epoch)),
        fences: fences.iter().map(|(region, epoch)| fence(region, *epoch)).collect(),
    }
}
