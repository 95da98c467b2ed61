//! The decisions, pure: whether a step may run given what `DescribeSecret`
//! shows, and what each step does next given what it has seen. The shell
//! observes (Secrets Manager, the database) and acts; nothing here calls out.
//!
//! | step | seen | action |
//! | --- | --- | --- |
//! | any | rotation off, or the token is no version, or neither AWSPENDING nor AWSCURRENT | refused ([`Refusal`]) |
//! | any | the token's version is AWSCURRENT | nothing (a repeat of a finished rotation) |
//! | createSecret | the token's AWSPENDING value exists | nothing |
//! | createSecret | it does not | a new password, put as the token's AWSPENDING ([`CreateAction`]) |
//! | setSecret | see [`next_for_set`] | log in with AWSPENDING, AWSCURRENT, then AWSPREVIOUS; change the password with the first that works |
//! | testSecret | | log in with AWSPENDING, `SELECT NOW()` |
//! | finishSecret | | move AWSCURRENT to the token, from the version that has it ([`finish_action`]) |

use std::collections::BTreeMap;

/// The stage of the version being rotated to.
pub const PENDING: &str = "AWSPENDING";
/// The stage of the version in use.
pub const CURRENT: &str = "AWSCURRENT";
/// The stage of the version in use before the last rotation.
pub const PREVIOUS: &str = "AWSPREVIOUS";

/// What `DescribeSecret` showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// `RotationEnabled` (absent: not said).
    pub rotation_enabled: Option<bool>,
    /// `VersionIdsToStages`.
    pub versions: BTreeMap<String, Vec<String>>,
}

impl Observed {
    /// The version that has `stage`, if any.
    pub fn version_with(&self, stage: &str) -> Option<&str> {
        (self.versions.iter())
            .find(|(_, stages)| stages.iter().any(|s| s == stage))
            .map(|(id, _)| id.as_str())
    }
}

/// Why a step is refused, in one sentence naming the field and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `RotationEnabled` is false.
    #[error(
        "secret {secret} does not have rotation on (DescribeSecret's RotationEnabled is false); the region stack's \
         DbSecretRotation turns it on (deploy with DbRotationCodeKey set), or run `aws secretsmanager rotate-secret`"
    )]
    RotationOff {
        /// The secret.
        secret: String,
    },
    /// The token names no version of the secret.
    #[error(
        "ClientRequestToken {token} is not a version of secret {secret} (DescribeSecret's VersionIdsToStages lacks \
         it); start a rotation with `aws secretsmanager rotate-secret`, which makes the version, instead of invoking \
         this function with a token of your own"
    )]
    UnknownVersion {
        /// The secret.
        secret: String,
        /// The token.
        token: String,
    },
    /// The token's version is neither AWSPENDING nor AWSCURRENT.
    #[error(
        "version {token} of secret {secret} is staged [{stages}], not AWSPENDING (VersionIdsToStages): another \
         rotation replaced it; cancel it with `aws secretsmanager cancel-rotate-secret` and run `aws secretsmanager \
         rotate-secret` again"
    )]
    NotPending {
        /// The secret.
        secret: String,
        /// The token.
        token: String,
        /// Its stages.
        stages: String,
    },
}

/// Whether the step goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The token's version is AWSPENDING: run the step.
    Run,
    /// The token's version is AWSCURRENT already: the rotation finished; nothing to do.
    AlreadyCurrent,
}

/// The check before every step, as AWS's rotation functions make it.
pub fn gate(secret: &str, token: &str, seen: &Observed) -> Result<Gate, Refusal> {
    if seen.rotation_enabled == Some(false) {
        return Err(Refusal::RotationOff { secret: secret.into() });
    }
    let Some(stages) = seen.versions.get(token) else {
        return Err(Refusal::UnknownVersion {
            secret: secret.into(),
            token: token.into(),
        });
    };
    if stages.iter().any(|s| s == CURRENT) {
        Ok(Gate::AlreadyCurrent)
    } else if stages.iter().any(|s| s == PENDING) {
        Ok(Gate::Run)
    } else {
        Err(Refusal::NotPending {
            secret: secret.into(),
            token: token.into(),
            stages: stages.join(", "),
        })
    }
}

/// What createSecret does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateAction {
    /// The token's AWSPENDING value exists (a repeat): nothing.
    Nothing,
    /// Put a new password as the token's AWSPENDING value.
    PutPending,
}

/// createSecret, given whether `GetSecretValue` found the token's AWSPENDING value.
pub fn create_action(pending_value_exists: bool) -> CreateAction {
    if pending_value_exists {
        CreateAction::Nothing
    } else {
        CreateAction::PutPending
    }
}

/// What a login attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// The password works.
    Works,
    /// The database refused it (1045, access denied).
    Refused,
}

/// setSecret's next move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAction {
    /// Try to log in with this stage's version.
    TryLogin(&'static str),
    /// The AWSPENDING password works already (a repeat): nothing.
    AlreadySet,
    /// Logged in with this stage's version: change the password to AWSPENDING's.
    ChangePassword(&'static str),
    /// No version's password works: the database's password is none of them.
    NoPasswordWorks,
}

/// setSecret after the logins `tried` so far (in order), given whether the
/// secret has an AWSPREVIOUS version: AWSPENDING first (already set: done),
/// then AWSCURRENT, then AWSPREVIOUS (a rotation that changed the password
/// but failed before finishSecret, then was started again).
pub fn next_for_set(tried: &[(&str, Login)], has_previous: bool) -> SetAction {
    match tried.last() {
        None => SetAction::TryLogin(PENDING),
        Some((PENDING, Login::Works)) => SetAction::AlreadySet,
        Some((PENDING, Login::Refused)) => SetAction::TryLogin(CURRENT),
        Some((CURRENT, Login::Works)) => SetAction::ChangePassword(CURRENT),
        Some((CURRENT, Login::Refused)) if has_previous => SetAction::TryLogin(PREVIOUS),
        Some((PREVIOUS, Login::Works)) => SetAction::ChangePassword(PREVIOUS),
        Some(_) => SetAction::NoPasswordWorks,
    }
}

/// What finishSecret does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishAction {
    /// The token is AWSCURRENT already: nothing.
    Nothing,
    /// Move AWSCURRENT to the token, from `from` (`None`: no version has it).
    MoveCurrent {
        /// The version that has AWSCURRENT now (`RemoveFromVersionId`).
        from: Option<String>,
    },
}

/// finishSecret, from a fresh `DescribeSecret`.
pub fn finish_action(token: &str, seen: &Observed) -> FinishAction {
    match seen.version_with(CURRENT) {
        Some(current) if current == token => FinishAction::Nothing,
        from => FinishAction::MoveCurrent {
            from: from.map(str::to_owned),
        },
    }
}

/// The statement by which the logged-in user sets its own password to the
/// SQL string literal `quoted` (already escaped), on a server whose
/// `SELECT VERSION()` answered `version`:
///
/// - MariaDB (every version): `SET PASSWORD = PASSWORD(...)`. Its
///   `ALTER USER CURRENT_USER() IDENTIFIED BY ...` needs the CREATE USER
///   privilege even for one's own password (10.11 answers 1227), and a bare
///   `SET PASSWORD = '...'` takes a hash, not a password.
/// - MySQL 8 and later (RDS's `mysql8.4`): `SET PASSWORD = '...'`; the
///   `PASSWORD()` function is gone.
/// - MySQL 5.x: `SET PASSWORD = PASSWORD(...)`.
///
/// What AWS's single-user MySQL rotation runs, and no privilege is needed
/// to change one's own password either way.
pub fn set_password_statement(version: &str, quoted: &str) -> String {
    let major: u32 = version
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if !version.to_ascii_lowercase().contains("mariadb") && major >= 8 {
        format!("SET PASSWORD = {quoted}")
    } else {
        format!("SET PASSWORD = PASSWORD({quoted})")
    }
}

#[cfg(test)]
mod tests;
