//! The sentences that refuse an answer, or report ECS refusing it: what
//! and where, and the fix.

use super::Send;

/// Why an answer was not sent, or not taken: one sentence, what and where,
/// and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApprovalError {
    /// The environment releases through CodeDeploy.
    #[error(
        "env {env} releases through CodeDeploy, and approval is an ECS-engine feature: set release_engine = \"ecs\" \
         and [ecs_release] approval = true in config/{env}.toml, then make deploy ENV={env}"
    )]
    NotEcs {
        /// The environment.
        env: String,
    },
    /// Releases do not pause for a person.
    #[error(
        "approval is off in env {env}, so no release waits for a person: set [ecs_release] approval = true in \
         config/{env}.toml and make deploy ENV={env}; releases then pause before production traffic moves until \
         tandem release --approve or --reject"
    )]
    ApprovalOff {
        /// The environment.
        env: String,
    },
    /// No region has a paused hook.
    #[error(
        "nothing in env {env} waits for approval, so nothing was sent: {regions}; a release waits once its test \
         traffic checks pass (tandem status shows it)"
    )]
    NothingWaiting {
        /// The environment.
        env: String,
        /// Each region's last release, `; `-separated.
        regions: String,
    },
    /// Another answer to the same hook was recorded first.
    #[error(
        "hook {hook_id} of service deployment {arn} in {region} was already answered through tandem, so nothing was \
         sent: tandem audit --env {env} --kind release shows who answered and why"
    )]
    AlreadyAnswered {
        /// The environment.
        env: String,
        /// The region.
        region: String,
        /// The service deployment.
        arn: String,
        /// The hook.
        hook_id: String,
    },
    /// The answer could not be recorded, so it was not sent.
    #[error(
        "could not record the answer in the state table in {region} ({why}), so nothing was sent to ECS: check the \
         credentials, then retry"
    )]
    Unrecorded {
        /// The region.
        region: String,
        /// The state table's sentence.
        why: String,
    },
    /// ECS refused `ContinueServiceDeployment`.
    #[error("{0}")]
    Refused(String),
}

/// The sentence for a refused `ContinueServiceDeployment` of `send`: what
/// was refused, where, what ECS said (`code`, `said`), and the fix.
pub(crate) fn refused(env: &str, send: &Send, code: Option<&str>, said: &str) -> String {
    let fix = match code {
        Some("InvalidAction" | "UnknownOperationException") => {
            "this endpoint has no ECS blue/green deployments (the local AWS refuses the call): approve on AWS, or let \
             the pause time out, which rolls back"
                .to_owned()
        }
        Some("AccessDeniedException") => {
            "the caller may not call ecs:ContinueServiceDeployment on it: grant it to this role, then retry".to_owned()
        }
        Some(
            "ServiceDeploymentNotFoundException"
            | "InvalidParameterException"
            | "ClientException"
            | "ValidationException",
        ) => format!(
            "the hook no longer waits (answered elsewhere, timed out, or the deployment ended): tandem status --env \
             {env} shows where the release is"
        ),
        _ => "check the credentials and the network, then retry".to_owned(),
    };
    format!(
        "ECS refused ContinueServiceDeployment ({} of hook {}) for service deployment {} in {} ({said}): {fix}",
        send.answer.action(),
        send.hook_id,
        send.arn,
        send.region
    )
}
