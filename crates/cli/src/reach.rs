//! Which regions answer. A command must work while one region is down (the
//! night a failover is for): the context reads each region's roles at once
//! with a short limit, and a region that did not answer is unreachable for
//! the rest of the command, which then acts on the other region only and
//! says so, and never touches what it cannot read.

use crate::plan::{StackSpec, Template};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long the first read of a region may take before it counts as unreachable.
pub(crate) const REACH_TIMEOUT: Duration = Duration::from_secs(8);

/// How one region's first read ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// It answered (even "no table yet", or a refusal).
    Answered,
    /// It did not answer: a timeout, a failed connection, a 5xx; why.
    Unreachable(String),
}

/// The region to check the credentials in: the first (in `preferred`
/// order) that answered; `None` when none did.
pub(crate) fn credentials_region<'a>(preferred: &[&'a str], reach: &BTreeMap<String, Reach>) -> Option<&'a str> {
    preferred
        .iter()
        .copied()
        .find(|r| matches!(reach.get(*r), Some(Reach::Answered) | None))
}

/// The sentence for an unreachable region.
pub(crate) fn unreachable_sentence(region: &str, why: &str, other: Option<&str>) -> String {
    match other {
        Some(other) => format!("{region} is unreachable ({why}): this command acts on {other} only"),
        None => format!("{region} is unreachable ({why})"),
    }
}

/// The stacks a deploy may touch while `unreachable` regions do not answer:
/// those in the regions that did, and the global stack only when both did
/// (its custom resources read both regions). The others, each with a
/// sentence saying why it was left alone.
pub(crate) fn reachable_plan(
    plan: Vec<StackSpec>,
    unreachable: &BTreeMap<String, String>,
) -> (Vec<StackSpec>, Vec<String>) {
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for spec in plan {
        if let Some(why) = unreachable.get(&spec.region) {
            skipped.push(format!(
                "{} in {}: left as it is, {} is unreachable ({why}); deploy again once it answers",
                spec.name, spec.region, spec.region
            ));
        } else if spec.template == Template::Global && !unreachable.is_empty() {
            let regions = unreachable.keys().cloned().collect::<Vec<_>>().join(", ");
            skipped.push(format!(
                "{} in {}: left as it is, it reads both regions and {regions} is unreachable; \
                 Route 53 keeps failing over by its health checks meanwhile",
                spec.name, spec.region
            ));
        } else {
            kept.push(spec);
        }
    }
    (kept, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(template: Template, region: &str) -> StackSpec {
        StackSpec {
            template,
            name: format!("tandem-dev-{template:?}").to_lowercase(),
            region: region.into(),
            parameters: BTreeMap::new(),
        }
    }

    #[test]
    fn a_deploy_with_one_region_down_touches_only_the_other_and_never_the_global_stack() {
        let plan = vec![
            spec(Template::Bootstrap, "us-east-1"),
            spec(Template::Bootstrap, "us-east-2"),
            spec(Template::Region, "us-east-2"),
            spec(Template::Region, "us-east-1"),
            spec(Template::Global, "us-east-2"),
        ];
        let down = BTreeMap::from([("us-east-1".to_owned(), "timed out".to_owned())]);
        let (kept, skipped) = reachable_plan(plan.clone(), &down);
        assert_eq!(
            kept.iter().map(|s| (s.template, s.region.as_str())).collect::<Vec<_>>(),
            [(Template::Bootstrap, "us-east-2"), (Template::Region, "us-east-2")]
        );
        assert_eq!(skipped.len(), 3);
        assert!(
            skipped[0].contains("us-east-1 is unreachable (timed out)"),
            "{}",
            skipped[0]
        );
        assert!(skipped[2].contains("it reads both regions"), "{}", skipped[2]);
        let (all, none) = reachable_plan(plan.clone(), &BTreeMap::new());
        assert_eq!((all.len(), none.len()), (5, 0));
    }

    #[test]
    fn credentials_are_checked_in_the_first_region_that_answered() {
        let mut reach = BTreeMap::new();
        reach.insert("us-east-1".to_owned(), Reach::Unreachable("timed out".into()));
        reach.insert("us-east-2".to_owned(), Reach::Answered);
        assert_eq!(
            credentials_region(&["us-east-1", "us-east-2"], &reach),
            Some("us-east-2")
        );
        reach.insert("us-east-1".to_owned(), Reach::Answered);
        assert_eq!(
            credentials_region(&["us-east-1", "us-east-2"], &reach),
            Some("us-east-1")
        );
        reach.insert("us-east-1".to_owned(), Reach::Unreachable("x".into()));
        reach.insert("us-east-2".to_owned(), Reach::Unreachable("y".into()));
        assert_eq!(credentials_region(&["us-east-1", "us-east-2"], &reach), None);
    }

    #[test]
    fn the_sentence_names_the_region_why_and_what_is_left() {
        assert_eq!(
            unreachable_sentence("us-east-1", "timed out", Some("us-east-2")),
            "us-east-1 is unreachable (timed out): this command acts on us-east-2 only"
        );
    }
}
