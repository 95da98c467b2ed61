//! The decisions of `tandem release`, as pure functions: which tags are
//! valid, the order of the regions, whether a region may be released, what
//! to print while it runs, and whether it succeeded. The AWS shell is
//! `commands::release`.

use crate::events::{Phase, phase};
use crate::plan::{IMAGE_TAG, Roles};
use crate::stacks::Ended;
use std::collections::{BTreeMap, BTreeSet};
use tandem_core::state::{AuditEntry, ReleaseRecord, ReleaseState};

/// Why a release cannot go on, as one sentence: what, where, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReleaseError {
    /// The tag is not a valid ECR tag.
    #[error(
        "image tag {0:?} is not a valid ECR tag: it must match ^[A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}$ \
         (1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')"
    )]
    BadTag(String),
    /// The region stack is not there.
    #[error("{stack} does not exist in {region}: run make deploy ENV={env} first, then release")]
    NoStack {
        /// The stack.
        stack: String,
        /// Its region.
        region: String,
        /// The environment.
        env: String,
    },
    /// The region stack cannot take an update now.
    #[error("{stack} in {region} is {status}, so it cannot be released to now: {fix}")]
    Unsettled {
        /// The stack.
        stack: String,
        /// Its region.
        region: String,
        /// Its status.
        status: String,
        /// What to do.
        fix: String,
    },
    /// The image is not in the region's repository.
    #[error(
        "image {tag} is not in the ECR repository {repository} in {region}: push it to the primary region's \
         repository first (replication copies the primary's images to the standby within minutes), then release again"
    )]
    MissingImage {
        /// The repository.
        repository: String,
        /// Its region.
        region: String,
        /// The tag.
        tag: String,
    },
    /// The image could not be looked up.
    #[error("could not look up image {tag} in the ECR repository {repository} in {region} ({reason}): {fix}")]
    ImageLookup {
        /// The repository.
        repository: String,
        /// Its region.
        region: String,
        /// The tag.
        tag: String,
        /// What AWS said.
        reason: String,
        /// What to do.
        fix: String,
    },
    /// A stack call failed before or while the release ran.
    #[error("the release of {tag} stopped in {region}: {reason}")]
    Stack {
        /// The tag.
        tag: String,
        /// The region.
        region: String,
        /// The stack error's sentence.
        reason: String,
    },
    /// The release failed in a region.
    #[error("{0}")]
    Failed(String),
}

/// Checks that `tag` is a valid ECR image tag.
pub(crate) fn check_tag(tag: &str) -> Result<(), ReleaseError> {
    if tandem_core::image::is_image_tag(tag) {
        Ok(())
    } else {
        Err(ReleaseError::BadTag(tag.to_owned()))
    }
}

/// The regions in release order: the primary, then the standby.
pub(crate) fn release_order(roles: &Roles) -> [(&str, &'static str); 2] {
    [(roles.primary.as_str(), "primary"), (roles.standby.as_str(), "standby")]
}

/// Checks that a region stack in `status` (`None`: no stack) with the
/// parameters `parameters` can take a release; returns its parameter names.
pub(crate) fn check_stack(
    stack: &str,
    region: &str,
    env: &str,
    current: Option<(&str, &BTreeMap<String, String>)>,
) -> Result<BTreeSet<String>, ReleaseError> {
    let Some((status, parameters)) = current else {
        return Err(ReleaseError::NoStack {
            stack: stack.to_owned(),
            region: region.to_owned(),
            env: env.to_owned(),
        });
    };
    let unsettled = |fix: String| ReleaseError::Unsettled {
        stack: stack.to_owned(),
        region: region.to_owned(),
        status: status.to_owned(),
        fix,
    };
    let updatable = matches!(
        status,
        "CREATE_COMPLETE"
            | "UPDATE_COMPLETE"
            | "UPDATE_ROLLBACK_COMPLETE"
            | "IMPORT_COMPLETE"
            | "IMPORT_ROLLBACK_COMPLETE"
    );
    if phase(status) == Phase::InProgress {
        return Err(unsettled(
            "wait until its current operation ends (make status shows it), then release again".to_owned(),
        ));
    }
    if !updatable {
        return Err(unsettled(format!(
            "bring it back to a settled state with make deploy ENV={env} (or finish its rollback), then release again"
        )));
    }
    if !parameters.contains_key(IMAGE_TAG) {
        return Err(unsettled(format!(
            "its template predates releases (no {IMAGE_TAG} parameter); run make deploy ENV={env} first"
        )));
    }
    Ok(parameters.keys().cloned().collect())
}

/// Whether `record` belongs to the release of `tag` that started after
/// `before` (the region's last release when this one began).
pub(crate) fn is_this_release(before: Option<&ReleaseRecord>, record: &ReleaseRecord, tag: &str) -> bool {
    record.image == tag && before.is_none_or(|b| b.key() != record.key())
}

/// What a region's release has printed so far, to print each news once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    env: String,
    region: String,
    tag: String,
    before: Option<ReleaseRecord>,
    last_record: Option<(ReleaseState, Option<String>)>,
    seen_hooks: BTreeSet<String>,
}

impl Progress {
    /// Progress of releasing `tag` in environment `env`'s `region`, whose
    /// last release before this one was `before`.
    pub(crate) fn new(env: &str, region: &str, tag: &str, before: Option<ReleaseRecord>) -> Self {
        Self {
            env: env.to_owned(),
            region: region.to_owned(),
            tag: tag.to_owned(),
            before,
            ..Self::default()
        }
    }

    /// Whether `record` is this release's.
    pub(crate) fn is_this_release(&self, record: &ReleaseRecord) -> bool {
        is_this_release(self.before.as_ref(), record, &self.tag)
    }

    /// The line to print for the region's newest release record, when it is
    /// this release's and its state or deployment changed since last time.
    pub(crate) fn record_line(&mut self, record: Option<&ReleaseRecord>) -> Option<String> {
        let record = record.filter(|r| self.is_this_release(r))?;
        let now = (record.state, record.deployment_id.clone());
        if self.last_record.as_ref() == Some(&now) {
            return None;
        }
        self.last_record = Some(now);
        let deployment = record
            .deployment_id
            .as_deref()
            .map(|d| format!(", deployment {d}"))
            .unwrap_or_default();
        let reason = record.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        Some(format!(
            "  {:<10} release {}: {}{deployment}, task definition {}{reason}",
            self.region,
            record.release_id,
            record.state.as_str(),
            record.task_definition
        ))
    }

    /// The lines for hook decisions not printed yet, oldest first.
    pub(crate) fn hook_lines(&mut self, audits: &[AuditEntry]) -> Vec<String> {
        audits
            .iter()
            .filter(|a| self.seen_hooks.insert(a.key.clone()))
            .map(|a| format!("  {:<10} hook {}: {} ({})", self.region, a.key, a.decision, a.reason))
            .collect()
    }
}

/// Decides how a region's release went from how its stack update `ended`
/// and the region's newest release record `after` (read once the stack
/// settled). Ok: the line to print. Err: why it failed, naming the region,
/// the first failure and the record's state and reason.
pub(crate) fn judge(
    progress: &Progress,
    role: &str,
    next: Option<&str>,
    ended: &Ended,
    after: Option<&ReleaseRecord>,
) -> Result<String, ReleaseError> {
    let region = &progress.region;
    let tag = &progress.tag;
    let mine = after.filter(|r| progress.is_this_release(r));
    let record_says = match mine {
        Some(r) => format!(
            "the release record says {}{}",
            r.state.as_str(),
            r.reason.as_deref().map(|x| format!(" ({x})")).unwrap_or_default()
        ),
        None => "no release record was written for it".to_owned(),
    };
    let untouched = next.map(|n| format!("; {n} was not touched")).unwrap_or_default();
    match ended {
        Ended::Succeeded(status) => match mine.map(|r| r.state) {
            Some(ReleaseState::Failed | ReleaseState::RolledBack) => Err(ReleaseError::Failed(format!(
                "the release of {tag} in {region} ({role}) is in doubt: the stack ended {status} but {record_says}; \
                 check the service and make status before releasing again{untouched}"
            ))),
            Some(ReleaseState::Succeeded) => Ok(format!(
                "{region} ({role}): released {tag}{}",
                mine.and_then(|r| r.deployment_id.as_deref())
                    .map(|d| format!(" through deployment {d}"))
                    .unwrap_or_default()
            )),
            Some(ReleaseState::InProgress) | None => Ok(format!(
                "{region} ({role}): released {tag} (the stack ended {status}; {record_says})"
            )),
        },
        Ended::Failed { status, cause } => Err(ReleaseError::Failed(format!(
            "the release of {tag} failed in {region} ({role}): the stack ended {status}, first failure: {}; {record_says}; \
             traffic stays on the previous image; fix that cause (see the hook decisions above, tandem audit --env {env} --kind hook \
             and tandem logs --env {env} --function deploy-hook) and release again{untouched}",
            cause.as_deref().unwrap_or("no resource reported a failure"),
            env = progress.env,
        ))),
    }
}

#[cfg(test)]
mod tests;
