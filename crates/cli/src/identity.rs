//! Who the CLI acts as: the account, the identity, and where its
//! credentials came from, so that "wrong profile" is obvious at the top of
//! every command and at the end of every error.

use std::sync::OnceLock;

/// The identity a command acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Who {
    /// The AWS account.
    pub(crate) account: String,
    /// The caller's ARN.
    pub(crate) arn: String,
    /// Where the credentials came from ([`credentials_source`]).
    pub(crate) source: String,
}

/// The local AWS's account (every call there is this account's).
pub(crate) const LOCAL_ACCOUNT: &str = "000000000000";

impl Who {
    /// The local AWS's fixed identity.
    pub(crate) fn local(source: String) -> Self {
        Self {
            account: LOCAL_ACCOUNT.to_owned(),
            arn: "the local AWS's test user".to_owned(),
            source,
        }
    }

    /// `<arn> in account <account>, credentials from <source>`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} in account {}, credentials from {}",
            self.arn, self.account, self.source
        )
    }
}

/// Where the SDK's default chain finds credentials, in its own order,
/// from the environment variables (read through `var`): the first that is
/// set wins. `local` is the local AWS, which gets fixed test credentials.
pub(crate) fn credentials_source(local: bool, var: impl Fn(&str) -> Option<String>) -> String {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if local {
        return "the local AWS's fixed test credentials".to_owned();
    }
    if set("AWS_ACCESS_KEY_ID").is_some() {
        let session = if set("AWS_SESSION_TOKEN").is_some() {
            " with a session token"
        } else {
            ""
        };
        return format!("AWS_ACCESS_KEY_ID in the environment{session}");
    }
    if let Some(profile) = set("AWS_PROFILE") {
        return format!("profile {profile} (AWS_PROFILE)");
    }
    if set("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        let role = set("AWS_ROLE_ARN").map(|r| format!(" for {r}")).unwrap_or_default();
        return format!("a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE){role}");
    }
    if set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some() || set("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some() {
        return "the container's credentials endpoint".to_owned();
    }
    "the default profile, SSO or an instance role (no AWS_PROFILE or AWS_ACCESS_KEY_ID is set)".to_owned()
}

/// The error when the credentials do not work: the environment, the
/// region asked, where the credentials came from, the fix, and the SDK's words.
pub(crate) fn no_credentials(env: &str, region: &str, source: &str, sdk_said: &str) -> String {
    format!(
        "no usable AWS credentials for env {env} in {region} (credentials from {source}): export AWS_PROFILE \
         (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for the target account; the SDK said: {sdk_said}"
    )
}

static WHO: OnceLock<Who> = OnceLock::new();

/// Remembers who this command acts as, for [`error_suffix`].
pub(crate) fn remember(who: Who) {
    WHO.set(who).ok();
}

/// The caller's ARN once the command knows who it acts as: who an
/// approval or a rejection is recorded as.
pub(crate) fn caller() -> Option<String> {
    WHO.get().map(|w| w.arn.clone())
}

/// What every error ends with once the command knows who it acts as.
pub(crate) fn error_suffix() -> Option<String> {
    WHO.get().map(|w| format!(" [acting as {}]", w.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn source(vars: &[(&str, &str)]) -> String {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        credentials_source(false, |name| vars.get(name).cloned())
    }

    #[test]
    fn the_source_follows_the_sdks_chain_order() {
        assert_eq!(
            source(&[("AWS_PROFILE", "prod"), ("AWS_ACCESS_KEY_ID", "AKIA")]),
            "AWS_ACCESS_KEY_ID in the environment"
        );
        assert_eq!(
            source(&[("AWS_ACCESS_KEY_ID", "ASIA"), ("AWS_SESSION_TOKEN", "t")]),
            "AWS_ACCESS_KEY_ID in the environment with a session token"
        );
        assert_eq!(source(&[("AWS_PROFILE", "prod")]), "profile prod (AWS_PROFILE)");
        assert_eq!(
            source(&[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/ci")
            ]),
            "a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE) for arn:aws:iam::1:role/ci"
        );
        assert_eq!(
            source(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x")]),
            "the container's credentials endpoint"
        );
        assert!(source(&[("AWS_PROFILE", " ")]).starts_with("the default profile"));
        assert!(credentials_source(true, |_| Some("x".into())).contains("local AWS"));
    }

    #[test]
    fn a_credentials_failure_names_the_env_region_source_and_fix() {
        let e = no_credentials(
            "prod",
            "us-east-1",
            &source(&[("AWS_PROFILE", "prod-typo")]),
            "InvalidClientTokenId: The security token included in the request is invalid",
        );
        for part in [
            "env prod in us-east-1",
            "credentials from profile prod-typo (AWS_PROFILE)",
            "export AWS_PROFILE",
            "InvalidClientTokenId",
        ] {
            assert!(e.contains(part), "{part:?} not in {e}");
        }
    }

    #[test]
    fn the_description_names_account_identity_and_source() {
        let who = Who {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/dev/me".into(),
            source: "profile dev (AWS_PROFILE)".into(),
        };
        assert_eq!(
            who.describe(),
            "arn:aws:sts::123456789012:assumed-role/dev/me in account 123456789012, credentials from profile dev (AWS_PROFILE)"
        );
        // Never a secret: the key id's value is not repeated.
        assert!(!source(&[("AWS_ACCESS_KEY_ID", "AKIASECRET")]).contains("AKIASECRET"));
    }
}
