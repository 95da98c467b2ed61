//! The secret sources: AWS Secrets Manager, none, and memory (for tests).

use super::{DbSettings, SecretError, SecretSource, settings_json};
use futures_util::future::BoxFuture;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Reads the secret from AWS Secrets Manager (`GetSecretValue`).
#[derive(Clone, Debug)]
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretsManagerSource {
    /// Reads `secret_id` (a name or ARN) with `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }
}

impl SecretSource for SecretsManagerSource {
    fn describe(&self) -> String {
        tandem_core::text::quote(&self.secret_id)
    }

    fn read(&self) -> BoxFuture<'_, Result<String, SecretError>> {
        Box::pin(async move {
            let output = self
                .client
                .get_secret_value()
                .secret_id(&self.secret_id)
                .send()
                .await
                .map_err(|e| SecretError::Read {
                    secret: self.describe(),
                    reason: tandem_core::aws::error_text(&e),
                })?;
            output.secret_string.ok_or_else(|| SecretError::Invalid {
                secret: self.describe(),
                reason: "it has no SecretString (a binary secret?)".into(),
            })
        })
    }
}

/// A source that always fails with [`SecretError::NotConfigured`]: the
/// service still starts and answers `/health`, and `/db` says what is missing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSecret;

impl SecretSource for NoSecret {
    fn describe(&self) -> String {
        "(none)".into()
    }

    fn read(&self) -> BoxFuture<'_, Result<String, SecretError>> {
        Box::pin(async { Err(SecretError::NotConfigured) })
    }
}

/// A secret held in memory, whose value can change while the service runs
/// (as a rotation or a failover changes the real one). Counts its reads.
#[derive(Debug)]
pub struct MemorySecret {
    value: Mutex<String>,
    reads: AtomicUsize,
}

impl MemorySecret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: Mutex::new(value.into()),
            reads: AtomicUsize::new(0),
        }
    }

    /// A secret holding `settings` as Secrets Manager would.
    pub fn from_settings(settings: &DbSettings) -> Self {
        Self::new(settings_json(settings))
    }

    /// Replaces the value; the next read sees it.
    pub fn set(&self, value: impl Into<String>) {
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = value.into();
    }

    /// Replaces the value with `settings`.
    pub fn set_settings(&self, settings: &DbSettings) {
        self.set(settings_json(settings));
    }

    /// How many times the secret was read.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl SecretSource for MemorySecret {
    fn describe(&self) -> String {
        "\"memory\"".into()
    }

    fn read(&self) -> BoxFuture<'_, Result<String, SecretError>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let value = self.value.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Box::pin(async move { Ok(value) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod secrets_manager {
        use super::*;
        use aws_sdk_secretsmanager::Client;
        use aws_sdk_secretsmanager::error::ErrorMetadata;
        use aws_sdk_secretsmanager::operation::get_secret_value::{GetSecretValueError, GetSecretValueOutput};
        use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
        use tandem_testing::mock;

        /// A rule for one GetSecretValue of "tandem/db".
        macro_rules! get {
            () => {
                mock!(Client::get_secret_value).match_requests(|i| i.secret_id() == Some("tandem/db"))
            };
        }

        #[tokio::test]
        async fn reads_the_secret_string_of_the_named_secret_each_time() {
            let first = get!().then_output(|| GetSecretValueOutput::builder().secret_string("one").build());
            let second = get!().then_output(|| GetSecretValueOutput::builder().secret_string("two").build());
            let client = tandem_testing::mock_client!(aws_sdk_secretsmanager, [&first, &second]);
            let source = SecretsManagerSource::new(client, "tandem/db");
            assert_eq!(source.read().await.unwrap(), "one");
            assert_eq!(source.read().await.unwrap(), "two", "nothing is cached");
        }

        #[tokio::test]
        async fn a_missing_secret_is_named_with_aws_reason() {
            const MESSAGE: &str = "Secrets Manager can't find the specified secret.";
            let missing = get!().then_error(|| {
                GetSecretValueError::ResourceNotFoundException(
                    ResourceNotFoundException::builder()
                        .message(MESSAGE)
                        .meta(
                            ErrorMetadata::builder()
                                .code("ResourceNotFoundException")
                                .message(MESSAGE)
                                .build(),
                        )
                        .build(),
                )
            });
            let client = tandem_testing::mock_client!(aws_sdk_secretsmanager, [&missing]);
            let err = SecretsManagerSource::new(client, "tandem/db").read().await.unwrap_err();
            assert_eq!(
                err.to_string(),
                "could not read the database secret \"tandem/db\": \
                 ResourceNotFoundException: Secrets Manager can't find the specified secret."
            );
        }

        #[tokio::test]
        async fn a_binary_secret_is_not_usable() {
            let binary = get!().then_output(|| GetSecretValueOutput::builder().build());
            let client = tandem_testing::mock_client!(aws_sdk_secretsmanager, [&binary]);
            let err = SecretsManagerSource::new(client, "tandem/db").read().await.unwrap_err();
            assert!(matches!(err, SecretError::Invalid { .. }), "{err}");
            assert!(err.to_string().contains("no SecretString"), "{err}");
        }
    }

    #[tokio::test]
    async fn memory_secret_changes_and_counts_reads() {
        let secret = MemorySecret::new("one");
        assert_eq!(secret.read().await.unwrap(), "one");
        secret.set("two");
        assert_eq!(secret.read().await.unwrap(), "two");
        assert_eq!(secret.reads(), 2);
        assert_eq!(NoSecret.read().await.unwrap_err(), SecretError::NotConfigured);
    }
}
