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
    /// The green target group could not be found or read: why.
    NoGreen(String),
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

#[cfg(test)]
mod tests;
