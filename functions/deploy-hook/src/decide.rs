//! The hook's decisions, pure: from what was observed of the green target
//! group and the probes, to what to do next.

use crate::settings::SmokePath;
use std::time::Duration;

/// A green target as `DescribeTargetHealth` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its IP address (ECS `awsvpc` tasks register by IP).
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// `healthy`, `initial`, `unhealthy`, `draining`, `unused`, `unavailable`.
    pub state: String,
    /// The load balancer's reason, when not healthy.
    pub reason: Option<String>,
}

impl Target {
    /// `ip:port`.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }
}

/// Whether the green targets can be probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Every target is healthy: probe these endpoints.
    Ready(Vec<String>),
    /// Not yet, and why (listing each target that is not healthy).
    NotYet(String),
}

/// The readiness of the green target group `group` with `targets`.
pub fn readiness(group: &str, targets: &[Target]) -> Readiness {
    if targets.is_empty() {
        return Readiness::NotYet(format!("the green target group {group} has no targets yet"));
    }
    let not_healthy: Vec<String> = targets
        .iter()
        .filter(|t| t.state != "healthy")
        .map(|t| match &t.reason {
            Some(reason) => format!("{} is {} ({reason})", t.endpoint(), t.state),
            None => format!("{} is {}", t.endpoint(), t.state),
        })
        .collect();
    if not_healthy.is_empty() {
        Readiness::Ready(targets.iter().map(Target::endpoint).collect())
    } else {
        Readiness::NotYet(format!(
            "in the green target group {group}, {} of {} targets are not healthy: {}",
            not_healthy.len(),
            targets.len(),
            not_healthy.join("; ")
        ))
    }
}

/// A forward action of a listener rule, as the load balancer describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forward {
    /// Its single target group, when it names one.
    pub target_group_arn: Option<String>,
    /// Its weighted target groups (`ForwardConfig`): the group and its
    /// weight (`None`: not given, which the load balancer counts as 1).
    pub weighted: Vec<(String, Option<i32>)>,
}

/// The green target group of the test listener rule `rule` that ECS moves:
/// of its forward action `forward` (`None`: the rule has none), the group
/// with the highest weight above zero, or its single target group. Err:
/// why none can be told, one sentence naming the rule, as a [`Look`]:
/// [`Look::Misconfigured`] when the rule cannot name green whatever ECS
/// does, [`Look::NoGreen`] when it may once ECS has moved the weights.
pub fn rule_green(rule: &str, forward: Option<&Forward>) -> Result<String, Look> {
    let Some(forward) = forward else {
        return Err(Look::Misconfigured(format!(
            "the test listener rule {rule} has no forward action, so the green target group cannot be found: \
             TANDEM_TEST_LISTENER_RULE_ARN must name the ECS service's TestListenerRule, whose forward action \
             ECS moves between the two target groups"
        )));
    };
    if forward.weighted.is_empty() {
        return forward.target_group_arn.clone().ok_or_else(|| {
            Look::Misconfigured(format!(
                "the test listener rule {rule} has a forward action with no target group"
            ))
        });
    }
    let weight = |w: &Option<i32>| w.unwrap_or(1);
    let top = forward.weighted.iter().map(|(_, w)| weight(w)).max().unwrap_or(0);
    if top <= 0 {
        return Err(Look::NoGreen(format!(
            "the test listener rule {rule} forwards to no target group with a weight above zero"
        )));
    }
    let leaders: Vec<&str> = (forward.weighted.iter())
        .filter(|(_, w)| weight(w) == top)
        .map(|(group, _)| group.as_str())
        .collect();
    match leaders.as_slice() {
        [green] => Ok((*green).to_owned()),
        _ => Err(Look::NoGreen(format!(
            "the test listener rule {rule} splits its traffic evenly ({top} each) between {}, so the green \
             target group cannot be told yet",
            leaders.join(" and ")
        ))),
    }
}

/// One probe of one path on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `ip:port`.
    pub endpoint: String,
    /// The path, and the status it must answer.
    pub expected: SmokePath,
    /// The status it answered, or why it gave none.
    pub answer: Result<u16, String>,
}

/// `Ok` when every probe answered its expected status; otherwise the first
/// failures, one readable sentence.
pub fn probes_pass(probes: &[Probe]) -> Result<String, String> {
    let failed: Vec<String> = probes
        .iter()
        .filter(|p| p.answer.as_ref().ok() != Some(&p.expected.status))
        .map(|p| match &p.answer {
            Ok(status) => format!(
                "GET {} on {} answered {status}, not {}",
                p.expected.path, p.endpoint, p.expected.status
            ),
            Err(why) => format!("GET {} on {} failed: {why}", p.expected.path, p.endpoint),
        })
        .collect();
    if probes.is_empty() {
        return Err("nothing was probed".into());
    }
    if failed.is_empty() {
        let paths: Vec<&str> = probes.iter().map(|p| p.expected.path.as_str()).collect();
        let mut paths = paths;
        paths.dedup();
        Ok(format!(
            "the green targets are healthy and answered {} as expected",
            paths.join(", ")
        ))
    } else {
        let shown: Vec<&String> = failed.iter().take(3).collect();
        let more = failed.len().saturating_sub(3);
        let tail = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        Err(format!(
            "{}{tail}",
            shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
        ))
    }
}

/// What was seen in one look at the green side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// The green target group could not be found or read (yet): why.
    NoGreen(String),
    /// The settings name something that can never lead to green (a test
    /// listener rule with no forward action): why, with the fix.
    Misconfigured(String),
    /// Its targets are not all healthy yet.
    NotReady(String),
    /// Its targets are healthy and were probed: the verdict of [`probes_pass`].
    Probed(Result<String, String>),
}

/// The hook's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on with the deployment.
    Succeeded(String),
    /// Roll it back, and why.
    Failed(String),
}

/// What to do after a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Answer with this verdict.
    Answer(Verdict),
    /// Look again after this long.
    LookAgain(Duration),
    /// ECS only: answer IN_PROGRESS (ECS calls again later), and why.
    Pending(String),
}

/// The decision after `look`, with `elapsed` of `budget` used, looking
/// every `interval`. `can_wait_outside`: the caller can answer "in
/// progress" and be called again (ECS), instead of waiting here.
pub fn next(look: Look, elapsed: Duration, budget: Duration, interval: Duration, can_wait_outside: bool) -> Next {
    let waiting = match look {
        Look::Probed(Ok(why)) => return Next::Answer(Verdict::Succeeded(why)),
        // A target that answers wrongly will not get better by waiting.
        Look::Probed(Err(why)) => return Next::Answer(Verdict::Failed(why)),
        // Nor will a setting that names no green.
        Look::Misconfigured(why) => return Next::Answer(Verdict::Failed(why)),
        Look::NoGreen(why) | Look::NotReady(why) => why,
    };
    if can_wait_outside {
        return Next::Pending(waiting);
    }
    if elapsed + interval < budget {
        Next::LookAgain(interval)
    } else {
        Next::Answer(Verdict::Failed(format!(
            "still not ready after {}s of the {}s budget: {waiting}",
            elapsed.as_secs(),
            budget.as_secs()
        )))
    }
}

/// The decision at an ECS stage that ECS also runs during a rollback
/// ([`crate::event::ECS_ROLLBACK_STAGES`]), from the decision `next` would
/// take anywhere else: never `FAILED` (a failed hook would fail the
/// rollback itself) and never `IN_PROGRESS` (a rollback must not wait on a
/// green side that may be what is being rolled back), since the event does
/// not say whether this invocation is a rollback. What was seen goes into
/// the reason, for the audit trail.
pub fn at_rollback_stage(stage: &str, decided: Next) -> Next {
    let seen = match decided {
        Next::Answer(Verdict::Succeeded(why)) => return Next::Answer(Verdict::Succeeded(why)),
        Next::Answer(Verdict::Failed(why)) | Next::Pending(why) => why,
        Next::LookAgain(_) => "the green side was not ready".to_owned(),
    };
    Next::Answer(Verdict::Succeeded(format!(
        "not failed at {stage}, which ECS also runs while it rolls a deployment back (and the event does not say \
         whether this is one): {seen}"
    )))
}

#[cfg(test)]
mod tests;
