//! The thin shell of [`crate::retained`]: one typed read per name (does
//! the kept resource still hold it?), each telling "not there" apart from a
//! read that failed.

use crate::retained::{Found, Kind, Probe};
use aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlError;
use tandem_core::aws::{error_code, error_text};

/// A look for a kept resource that got no answer either way.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not tell whether the {noun} {name} is left in {region} ({reason}): allow {action} on it to these \
     credentials (or look for it in the console and delete it), then run the deploy again"
)]
pub(crate) struct ProbeError {
    /// What it is.
    pub(crate) noun: &'static str,
    /// Its name.
    pub(crate) name: String,
    /// Where it was looked for.
    pub(crate) region: String,
    /// What AWS said.
    pub(crate) reason: String,
    /// The IAM action the look needs.
    pub(crate) action: &'static str,
}

/// The clients a look needs, in the probe's region.
pub(crate) struct Clients<'a> {
    /// The state table.
    pub(crate) dynamodb: &'a aws_sdk_dynamodb::Client,
    /// The dead-letter queue.
    pub(crate) sqs: &'a aws_sdk_sqs::Client,
    /// The log groups.
    pub(crate) logs: &'a aws_sdk_cloudwatchlogs::Client,
    /// The credentials secret.
    pub(crate) secrets: &'a aws_sdk_secretsmanager::Client,
}

/// Looks for `probe`'s name with the read that suits its kind.
pub(crate) async fn look(clients: &Clients<'_>, probe: &Probe) -> Result<Found, ProbeError> {
    let fail = |action: &'static str, reason: String| ProbeError {
        noun: probe.entry.kind.noun(),
        name: probe.name.clone(),
        region: probe.region.clone(),
        reason,
        action,
    };
    let name = probe.name.as_str();
    match probe.entry.kind {
        Kind::Table => match clients.dynamodb.describe_table().table_name(name).send().await {
            Ok(out) => Ok(Found::Table {
                items: out.table().and_then(|t| t.item_count()),
                protected: out.table().and_then(|t| t.deletion_protection_enabled()) == Some(true),
            }),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DescribeTableError::ResourceNotFoundException(_))
                ) =>
            {
                Ok(Found::Absent)
            }
            Err(e) => Err(fail("dynamodb:DescribeTable", error_text(&e))),
        },
        Kind::Queue => match clients.sqs.get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(Found::Queue {
                url: out.queue_url().unwrap_or(name).to_owned(),
            }),
            // The JSON protocol's error, or the query protocol's code for it.
            Err(e)
                if matches!(e.as_service_error(), Some(GetQueueUrlError::QueueDoesNotExist(_)))
                    || error_code(&e) == Some("AWS.SimpleQueueService.NonExistentQueue") =>
            {
                Ok(Found::Absent)
            }
            Err(e) => Err(fail("sqs:GetQueueUrl", error_text(&e))),
        },
        // DescribeLogStreams, not DescribeLogGroups: it is granted per log
        // group, and says ResourceNotFoundException when there is none.
        Kind::LogGroup => match clients
            .logs
            .describe_log_streams()
            .log_group_name(name)
            .limit(1)
            .send()
            .await
        {
            Ok(_) => Ok(Found::LogGroup),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DescribeLogStreamsError::ResourceNotFoundException(_))
                ) =>
            {
                Ok(Found::Absent)
            }
            Err(e) => Err(fail("logs:DescribeLogStreams", error_text(&e))),
        },
        Kind::Secret => match clients.secrets.describe_secret().secret_id(name).send().await {
            Ok(out) => Ok(Found::Secret {
                pending_deletion: out.deleted_date().is_some(),
                replica_of: out.primary_region().map(str::to_owned).filter(|p| *p != probe.region),
                replicas: out
                    .replication_status()
                    .iter()
                    .filter_map(|r| r.region().map(str::to_owned))
                    .collect(),
            }),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DescribeSecretError::ResourceNotFoundException(_))
                ) =>
            {
                Ok(Found::Absent)
            }
            Err(e) => Err(fail("secretsmanager:DescribeSecret", error_text(&e))),
        },
        // Nothing a new stack collides with ([`crate::retained::probes`] makes no probe for these).
        Kind::Bucket | Kind::Key | Kind::Replication => Ok(Found::Absent),
    }
}

#[cfg(test)]
mod tests;
