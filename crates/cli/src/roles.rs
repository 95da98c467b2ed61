//! Region roles are state, not constants: after a failover the standby is
//! the primary, and a later deploy must not undo that. The failover
//! function records the roles in each region's state table; this module
//! reads them and decides.

use crate::plan::Roles;
use tandem_core::state::RolesRecord;

/// Picks the roles: the record of the highest epoch (then the newest) that
/// names exactly the configured regions, or the configuration's defaults
/// when there is none. The epoch comes first: a region that was away keeps
/// an old record that may have been written later by its clock.
pub(crate) fn decide(default: &Roles, observed: &[Option<RolesRecord>]) -> (Roles, &'static str) {
    let mut configured = [default.primary.as_str(), default.standby.as_str()];
    configured.sort_unstable();
    let newest = observed
        .iter()
        .flatten()
        .filter(|r| {
            let mut named = [r.primary.as_str(), r.standby.as_str()];
            named.sort_unstable();
            named == configured && r.primary != r.standby
        })
        .max_by_key(|r| (r.epoch, r.updated_at));
    match newest {
        Some(r) => (
            Roles {
                primary: r.primary.clone(),
                standby: r.standby.clone(),
            },
            "the state table",
        ),
        None => (default.clone(), "the configuration (no roles recorded yet)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> Roles {
        Roles {
            primary: "us-east-1".into(),
            standby: "us-east-2".into(),
        }
    }

    fn record(primary: &str, standby: &str, at: u64) -> Option<RolesRecord> {
        Some(RolesRecord {
            primary: primary.into(),
            standby: standby.into(),
            updated_at: at,
            epoch: 0,
            reason: None,
        })
    }

    #[test]
    fn without_records_the_configuration_decides() {
        assert_eq!(decide(&default(), &[None, None]).0, default());
        assert_eq!(decide(&default(), &[]).0, default());
    }

    #[test]
    fn a_recorded_failover_wins() {
        let (roles, source) = decide(&default(), &[None, record("us-east-2", "us-east-1", 10)]);
        assert_eq!(roles.primary, "us-east-2");
        assert_eq!(source, "the state table");
    }

    #[test]
    fn the_newest_record_wins_when_the_regions_disagree() {
        let observed = [
            record("us-east-2", "us-east-1", 10),
            record("us-east-1", "us-east-2", 20),
        ];
        assert_eq!(decide(&default(), &observed).0.primary, "us-east-1");
        let observed = [
            record("us-east-2", "us-east-1", 30),
            record("us-east-1", "us-east-2", 20),
        ];
        assert_eq!(decide(&default(), &observed).0.primary, "us-east-2");
    }

    #[test]
    fn the_higher_epoch_wins_over_a_later_write() {
        // us-east-2 promoted itself at epoch 3; us-east-1, away, wrote later at epoch 2.
        let promoted = RolesRecord {
            epoch: 3,
            ..record("us-east-2", "us-east-1", 10).unwrap()
        };
        let stale = RolesRecord {
            epoch: 2,
            ..record("us-east-1", "us-east-2", 99).unwrap()
        };
        assert_eq!(
            decide(&default(), &[Some(stale), Some(promoted)]).0.primary,
            "us-east-2"
        );
    }

    #[test]
    fn records_naming_other_regions_are_ignored() {
        let observed = [
            record("eu-west-1", "us-east-1", 99),
            record("us-east-1", "us-east-1", 98),
        ];
        assert_eq!(decide(&default(), &observed).0, default());
    }
}
