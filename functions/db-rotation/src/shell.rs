//! The shell: reads the secret's stages and versions, runs the step the
//! event names against Secrets Manager and the database, and logs what it did.
//!
//! A failed step fails the invocation with one sentence naming the step, the
//! secret and the fix; Secrets Manager retries the step, then marks the
//! rotation failed and leaves AWSCURRENT as it was. Every step can be run
//! again: each first looks whether its work is done.
//!
//! No password and no secret text is ever logged or put in an error.
//!
//! The audit: the function's role has no access to the state table (the
//! template gives it none), so a finished rotation is recorded as one
//! structured log line (`"audit": "rotation"`, with the decision, reason,
//! action and outcome the state table's audit entries hold), not as an entry.

use crate::credentials::{Credentials, CredentialsError};
use crate::db::{Database, DbError, MariaDb};
use crate::decide::{
    self, CURRENT, CreateAction, FinishAction, Gate, Login, Observed, PENDING, PREVIOUS, Refusal, SetAction,
};
use crate::event::{EventError, RotationEvent, Step, TAKES, parse};
use crate::password::{self, PasswordError};
use crate::settings::Settings;
use serde_json::{Value, json};
use tandem_core::aws::{error_text, is_not_found};
use tandem_core::event_fn::{BadEvent, Call, EventFunction, FunctionError, SdkConfig};
use tandem_core::settings::SettingError;

/// The function's clients and settings, built once.
pub struct Rotation {
    secrets: aws_sdk_secretsmanager::Client,
    db: Box<dyn Database>,
    settings: Settings,
}

/// Why an invocation failed; the text is one sentence for the log.
#[derive(thiserror::Error)]
pub enum RotationError {
    /// The event is not a rotation step.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The step failed.
    #[error("{step} of secret {secret} (version {token}) failed: {cause}")]
    Step {
        /// The step.
        step: Step,
        /// The secret.
        secret: String,
        /// The version being rotated to.
        token: String,
        /// What failed, and the fix.
        cause: StepError,
    },
}

// The runtime logs a handler's error with `{:?}`: the sentence, not the value.
tandem_core::debug_as_display!(RotationError);

impl FunctionError for RotationError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => BadEvent::KIND,
            Self::Step { cause, .. } => cause.kind(),
        }
    }
}

impl From<BadEvent> for RotationError {
    fn from(bad: BadEvent) -> Self {
        Self::Event(EventError::from(bad))
    }
}

/// What failed within a step.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step may not run.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A Secrets Manager call failed.
    #[error("Secrets Manager's {call} failed ({reason}); the function's role must allow it on this secret")]
    SecretsManager {
        /// The call.
        call: &'static str,
        /// AWS's account of it.
        reason: String,
    },
    /// A version the step needs has no value.
    #[error("the secret has no {stage} value; {fix}")]
    Missing {
        /// The stage.
        stage: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// A version's value cannot be used.
    #[error("the secret's {stage} value cannot be used: {cause}")]
    Credentials {
        /// The stage.
        stage: &'static str,
        /// What is wrong with it.
        cause: CredentialsError,
    },
    /// AWSPENDING names another user or database than AWSCURRENT.
    #[error(
        "AWSPENDING names {pending} but AWSCURRENT names {current}: a single-user rotation changes only the \
         password; cancel it with `aws secretsmanager cancel-rotate-secret` and rotate again"
    )]
    Mismatch {
        /// AWSPENDING's `user@host:port`.
        pending: String,
        /// AWSCURRENT's `user@host:port`.
        current: String,
    },
    /// No new password was made.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The database could not be used.
    #[error(transparent)]
    Db(#[from] DbError),
    /// No version's password logs in.
    #[error(
        "no password of the secret ({tried}) logs in to the database at {endpoint} as {user}: it was changed \
         outside the rotation; put the database's password in the secret (`aws secretsmanager put-secret-value`) \
         and rotate again"
    )]
    NoPasswordWorks {
        /// `host:port`.
        endpoint: String,
        /// The user.
        user: String,
        /// The stages tried.
        tried: String,
    },
}

impl StepError {
    /// Lambda's `errorType` is `tandem.<Kind>`.
    fn kind(&self) -> &'static str {
        match self {
            Self::Refused(_) => "StepRefused",
            Self::SecretsManager { .. } => "SecretsManager",
            Self::Missing { .. } | Self::Credentials { .. } | Self::Mismatch { .. } => "SecretValue",
            Self::Password(_) => "Password",
            Self::Db(_) => "Database",
            Self::NoPasswordWorks { .. } => "NoPasswordWorks",
        }
    }
}

impl EventFunction for Rotation {
    type Settings = Settings;
    type Output = Value;
    type Error = RotationError;
    const TAKES: &'static str = TAKES;

    fn settings() -> Result<Settings, SettingError> {
        tandem_core::settings::from_env(crate::settings::from_lookup)
    }

    fn build(config: &SdkConfig, settings: Settings) -> Self {
        Self::new(
            aws_sdk_secretsmanager::Client::new(config),
            Box::new(MariaDb::new(settings.db_tls.clone())),
            settings,
        )
    }

    async fn handle(&self, event: Value, _: &Call) -> Result<Value, RotationError> {
        // The inherent `handle`, which the shell's tests call too.
        Rotation::handle(self, &event).await
    }
}

impl Rotation {
    /// The function [`EventFunction::build`] makes: its Secrets Manager
    /// client, the database and the settings (tests pass mocks).
    pub fn new(secrets: aws_sdk_secretsmanager::Client, db: Box<dyn Database>, settings: Settings) -> Self {
        Self { secrets, db, settings }
    }

    /// Runs the step `event` names.
    pub async fn handle(&self, event: &Value) -> Result<Value, RotationError> {
        let event = parse(event)?;
        let outcome = self.run(&event).await.map_err(|cause| RotationError::Step {
            step: event.step,
            secret: event.secret_id.clone(),
            token: event.token.clone(),
            cause,
        })?;
        tracing::info!(step = %event.step, secret = %event.secret_id, version = %event.token, %outcome, "rotation step done");
        Ok(json!({"step": event.step.name(), "outcome": outcome}))
    }

    async fn run(&self, event: &RotationEvent) -> Result<String, StepError> {
        let seen = self.describe(&event.secret_id).await?;
        if decide::gate(&event.secret_id, &event.token, &seen)? == Gate::AlreadyCurrent {
            return Ok("the version is AWSCURRENT already: nothing to do".into());
        }
        match event.step {
            Step::CreateSecret => self.create(event).await,
            Step::SetSecret => self.set(event, &seen).await,
            Step::TestSecret => self.test(event).await,
            Step::FinishSecret => self.finish(event, &seen).await,
        }
    }

    /// createSecret: AWSCURRENT's JSON with a new password, as the token's AWSPENDING.
    async fn create(&self, event: &RotationEvent) -> Result<String, StepError> {
        let current = self.must_read(event, CURRENT).await?;
        let pending = self.read(&event.secret_id, PENDING, Some(&event.token)).await?;
        if decide::create_action(pending.is_some()) == CreateAction::Nothing {
            return Ok("the AWSPENDING value exists already: nothing to do".into());
        }
        let new = password::generate(&self.settings.exclude_characters)?;
        (self.secrets.put_secret_value())
            .secret_id(&event.secret_id)
            .client_request_token(&event.token)
            .secret_string(current.with_password(&new))
            .version_stages(PENDING)
            .send()
            .await
            .map_err(|e| StepError::SecretsManager {
                call: "PutSecretValue",
                reason: error_text(&e),
            })?;
        Ok("put a new password as AWSPENDING".into())
    }

    /// setSecret: the first password that logs in changes the user's own
    /// password to AWSPENDING's ([`decide::next_for_set`]).
    async fn set(&self, event: &RotationEvent, seen: &Observed) -> Result<String, StepError> {
        let pending = self.must_read(event, PENDING).await?;
        let current = self.must_read(event, CURRENT).await?;
        let who = |c: &Credentials| format!("{}@{}", c.username, c.endpoint());
        if who(&pending) != who(&current) {
            return Err(StepError::Mismatch {
                pending: who(&pending),
                current: who(&current),
            });
        }
        let has_previous = seen.version_with(PREVIOUS).is_some();
        let mut tried: Vec<(&str, Login)> = Vec::new();
        let mut logins: Vec<Credentials> = Vec::new();
        loop {
            match decide::next_for_set(&tried, has_previous) {
                SetAction::TryLogin(stage) => {
                    // The pending user and database, with that stage's password.
                    let login = match stage {
                        PENDING => pending.clone(),
                        CURRENT => pending.using(&current.password),
                        _ => pending.using(&self.must_read(event, PREVIOUS).await?.password),
                    };
                    tried.push((stage, self.db.log_in(&login).await?));
                    logins.push(login);
                }
                SetAction::AlreadySet => return Ok("the AWSPENDING password logs in already: nothing to do".into()),
                SetAction::ChangePassword(stage) => {
                    let login = logins.last().unwrap_or(&pending);
                    self.db.set_own_password(login, stage, &pending.password).await?;
                    return Ok(format!(
                        "set the password of {} to AWSPENDING's, logged in with {stage}'s",
                        who(&pending)
                    ));
                }
                SetAction::NoPasswordWorks => {
                    let names: Vec<&str> = tried.iter().map(|(s, _)| *s).collect();
                    return Err(StepError::NoPasswordWorks {
                        endpoint: pending.endpoint(),
                        user: pending.username.clone(),
                        tried: names.join(", "),
                    });
                }
            }
        }
    }

    /// testSecret: AWSPENDING's password logs in and `SELECT NOW()` answers.
    async fn test(&self, event: &RotationEvent) -> Result<String, StepError> {
        let pending = self.must_read(event, PENDING).await?;
        self.db.select_now(&pending, PENDING).await?;
        Ok("logged in with AWSPENDING's password and ran SELECT NOW()".into())
    }

    /// finishSecret: AWSCURRENT moves to the token; audited as a log line.
    async fn finish(&self, event: &RotationEvent, seen: &Observed) -> Result<String, StepError> {
        let FinishAction::MoveCurrent { from } = decide::finish_action(&event.token, seen) else {
            return Ok("the version is AWSCURRENT already: nothing to do".into());
        };
        (self.secrets.update_secret_version_stage())
            .secret_id(&event.secret_id)
            .version_stage(CURRENT)
            .move_to_version_id(&event.token)
            .set_remove_from_version_id(from.clone())
            .send()
            .await
            .map_err(|e| StepError::SecretsManager {
                call: "UpdateSecretVersionStage",
                reason: error_text(&e),
            })?;
        let from = from.unwrap_or_else(|| "no version".into());
        let action = format!("moved AWSCURRENT from {from} to {}", event.token);
        tracing::info!(
            audit = "rotation",
            key = %event.token,
            secret = %event.secret_id,
            decision = "Rotate",
            reason = "Secrets Manager's rotation reached finishSecret: the new password was set (setSecret) and logs in (testSecret)",
            action = %action,
            outcome = "done",
            region = %self.settings.region,
            env = %self.settings.env,
            "the database credentials rotated"
        );
        Ok(action)
    }

    /// `DescribeSecret`: whether rotation is on, and the versions' stages.
    async fn describe(&self, secret: &str) -> Result<Observed, StepError> {
        let out = (self.secrets.describe_secret().secret_id(secret).send())
            .await
            .map_err(|e| StepError::SecretsManager {
                call: "DescribeSecret",
                reason: error_text(&e),
            })?;
        Ok(Observed {
            rotation_enabled: out.rotation_enabled(),
            versions: (out.version_ids_to_stages().into_iter().flatten())
                .map(|(id, stages)| (id.clone(), stages.clone()))
                .collect(),
        })
    }

    /// The value of `stage` (of version `version`, when given); `None` when there is none.
    async fn read(
        &self,
        secret: &str,
        stage: &'static str,
        version: Option<&str>,
    ) -> Result<Option<Credentials>, StepError> {
        let answer = (self.secrets.get_secret_value())
            .secret_id(secret)
            .version_stage(stage)
            .set_version_id(version.map(str::to_owned))
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => {
                return Err(StepError::SecretsManager {
                    call: "GetSecretValue",
                    reason: error_text(&e),
                });
            }
        };
        let text = out.secret_string().unwrap_or_default();
        Credentials::parse(text)
            .map(Some)
            .map_err(|cause| StepError::Credentials { stage, cause })
    }

    /// The value of `stage` (AWSPENDING: the token's), which must be there.
    async fn must_read(&self, event: &RotationEvent, stage: &'static str) -> Result<Credentials, StepError> {
        let version = (stage == PENDING).then_some(event.token.as_str());
        let fix = match stage {
            PENDING => {
                "createSecret puts it; cancel the rotation (`aws secretsmanager cancel-rotate-secret`) and rotate again"
            }
            _ => {
                "put the database's credentials in the secret (`aws secretsmanager put-secret-value`) and rotate again"
            }
        };
        (self.read(&event.secret_id, stage, version).await?).ok_or(StepError::Missing { stage, fix })
    }
}

#[cfg(test)]
mod tests;
