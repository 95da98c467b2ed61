//! Tests of [`look`] against mocked DynamoDB, SQS, CloudWatch Logs and
//! Secrets Manager: for each kind, found, not found (each service's own
//! not-found error), and a read that fails (one sentence naming the
//! resource, the region and the fix).

use super::*;
use crate::retained::RETAINED;
use aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::types::TableDescription;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::ReplicationStatusType;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
use aws_smithy_mocks::Rule;
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use tandem_testing::{mock, mock_client};

/// Clients whose calls are answered by `rules` in order (each kind reads one service).
struct Mocked {
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

impl Mocked {
    /// Each client answered by its rules.
    fn new(dynamodb: &[&Rule], sqs: &[&Rule], logs: &[&Rule], secrets: &[&Rule]) -> Self {
        Self {
            dynamodb: mock_client!(aws_sdk_dynamodb, dynamodb.iter().copied()),
            sqs: mock_client!(aws_sdk_sqs, sqs.iter().copied()),
            logs: mock_client!(aws_sdk_cloudwatchlogs, logs.iter().copied()),
            secrets: mock_client!(aws_sdk_secretsmanager, secrets.iter().copied()),
        }
    }

    /// Looks for `logical_id`'s prod name in us-east-1.
    async fn look(&self, logical_id: &str) -> Result<Found, ProbeError> {
        let entry = RETAINED.iter().find(|r| r.logical_id == logical_id).unwrap();
        let probe = Probe {
            entry,
            name: entry.name_in("prod").unwrap(),
            region: "us-east-1".into(),
            stack: "tandem-prod-x".into(),
        };
        let clients = Clients {
            dynamodb: &self.dynamodb,
            sqs: &self.sqs,
            logs: &self.logs,
            secrets: &self.secrets,
        };
        look(&clients, &probe).await
    }
}

/// A generic error with `code`.
fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message("no").build()
}

/// The sentence every failed look must be.
fn assert_one_sentence(e: &ProbeError, name: &str, action: &str) {
    let text = e.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(
        text.contains(&format!(" {name} is left in us-east-1 (AccessDenied: no)")),
        "{text}"
    );
    assert!(text.contains(&format!("allow {action} on it")), "{text}");
}

#[tokio::test]
async fn the_state_table_found_absent_or_unreadable() {
    let found = mock!(aws_sdk_dynamodb::Client::describe_table)
        .match_requests(|i| i.table_name() == Some("tandem-prod-state"))
        .then_output(|| {
            let table = TableDescription::builder()
                .item_count(7)
                .deletion_protection_enabled(true)
                .build();
            DescribeTableOutput::builder().table(table).build()
        });
    let m = Mocked::new(&[&found], &[], &[], &[]);
    assert_eq!(
        m.look("StateTable").await.unwrap(),
        Found::Table {
            items: Some(7),
            protected: true
        }
    );
    let absent = mock!(aws_sdk_dynamodb::Client::describe_table).then_error(|| {
        DescribeTableError::ResourceNotFoundException(
            aws_sdk_dynamodb::types::error::ResourceNotFoundException::builder()
                .message("no table")
                .build(),
        )
    });
    let m = Mocked::new(&[&absent], &[], &[], &[]);
    assert_eq!(m.look("StateTable").await.unwrap(), Found::Absent);
    let denied = mock!(aws_sdk_dynamodb::Client::describe_table)
        .then_error(|| DescribeTableError::generic(meta("AccessDenied")));
    let m = Mocked::new(&[&denied], &[], &[], &[]);
    let e = m.look("StateTable").await.unwrap_err();
    assert_one_sentence(&e, "tandem-prod-state", "dynamodb:DescribeTable");
}

#[tokio::test]
async fn the_dead_letter_queue_found_absent_in_either_protocol_or_unreadable() {
    let found = mock!(aws_sdk_sqs::Client::get_queue_url)
        .match_requests(|i| i.queue_name() == Some("tandem-prod-dlq"))
        .then_output(|| {
            GetQueueUrlOutput::builder()
                .queue_url("https://q/1/tandem-prod-dlq")
                .build()
        });
    let m = Mocked::new(&[], &[&found], &[], &[]);
    assert_eq!(
        m.look("DeadLetterQueue").await.unwrap(),
        Found::Queue {
            url: "https://q/1/tandem-prod-dlq".into()
        }
    );
    let absent = mock!(aws_sdk_sqs::Client::get_queue_url).then_error(|| {
        GetQueueUrlError::QueueDoesNotExist(
            aws_sdk_sqs::types::error::QueueDoesNotExist::builder()
                .message("gone")
                .build(),
        )
    });
    let m = Mocked::new(&[], &[&absent], &[], &[]);
    assert_eq!(m.look("DeadLetterQueue").await.unwrap(), Found::Absent);
    let query = mock!(aws_sdk_sqs::Client::get_queue_url)
        .then_error(|| GetQueueUrlError::generic(meta("AWS.SimpleQueueService.NonExistentQueue")));
    let m = Mocked::new(&[], &[&query], &[], &[]);
    assert_eq!(m.look("DeadLetterQueue").await.unwrap(), Found::Absent);
    let denied =
        mock!(aws_sdk_sqs::Client::get_queue_url).then_error(|| GetQueueUrlError::generic(meta("AccessDenied")));
    let m = Mocked::new(&[], &[&denied], &[], &[]);
    let e = m.look("DeadLetterQueue").await.unwrap_err();
    assert_one_sentence(&e, "tandem-prod-dlq", "sqs:GetQueueUrl");
}

#[tokio::test]
async fn a_log_group_found_absent_or_unreadable() {
    let found = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams)
        .match_requests(|i| i.log_group_name() == Some("/ecs/tandem-prod") && i.limit() == Some(1))
        .then_output(|| DescribeLogStreamsOutput::builder().build());
    let m = Mocked::new(&[], &[], &[&found], &[]);
    assert_eq!(m.look("AppLogGroup").await.unwrap(), Found::LogGroup);
    let absent = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams).then_error(|| {
        DescribeLogStreamsError::ResourceNotFoundException(
            aws_sdk_cloudwatchlogs::types::error::ResourceNotFoundException::builder()
                .message("no")
                .build(),
        )
    });
    let m = Mocked::new(&[], &[], &[&absent], &[]);
    assert_eq!(m.look("AppLogGroup").await.unwrap(), Found::Absent);
    let denied = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams)
        .then_error(|| DescribeLogStreamsError::generic(meta("AccessDenied")));
    let m = Mocked::new(&[], &[], &[&denied], &[]);
    let e = m.look("AppLogGroup").await.unwrap_err();
    assert_one_sentence(&e, "/ecs/tandem-prod", "logs:DescribeLogStreams");
}

#[tokio::test]
async fn the_secret_found_with_its_replicas_or_as_one_absent_or_unreadable() {
    let primary = mock!(aws_sdk_secretsmanager::Client::describe_secret)
        .match_requests(|i| i.secret_id() == Some("tandem-prod/db"))
        .then_output(|| {
            DescribeSecretOutput::builder()
                .primary_region("us-east-1")
                .replication_status(ReplicationStatusType::builder().region("us-east-2").build())
                .build()
        });
    let m = Mocked::new(&[], &[], &[], &[&primary]);
    assert_eq!(
        m.look("DbSecret").await.unwrap(),
        Found::Secret {
            pending_deletion: false,
            replica_of: None,
            replicas: vec!["us-east-2".into()]
        },
        "its own region's primary is no replica"
    );
    let replica = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_output(|| {
        DescribeSecretOutput::builder()
            .primary_region("us-east-2")
            .deleted_date(DateTime::from_secs(1))
            .build()
    });
    let m = Mocked::new(&[], &[], &[], &[&replica]);
    assert_eq!(
        m.look("DbSecret").await.unwrap(),
        Found::Secret {
            pending_deletion: true,
            replica_of: Some("us-east-2".into()),
            replicas: vec![]
        }
    );
    let absent = mock!(aws_sdk_secretsmanager::Client::describe_secret).then_error(|| {
        DescribeSecretError::ResourceNotFoundException(
            aws_sdk_secretsmanager::types::error::ResourceNotFoundException::builder()
                .message("no")
                .build(),
        )
    });
    let m = Mocked::new(&[], &[], &[], &[&absent]);
    assert_eq!(m.look("DbSecret").await.unwrap(), Found::Absent);
    let denied = mock!(aws_sdk_secretsmanager::Client::describe_secret)
        .then_error(|| DescribeSecretError::generic(meta("AccessDenied")));
    let m = Mocked::new(&[], &[], &[], &[&denied]);
    let e = m.look("DbSecret").await.unwrap_err();
    assert_one_sentence(&e, "tandem-prod/db", "secretsmanager:DescribeSecret");
}
