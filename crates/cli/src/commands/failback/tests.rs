use super::*;
use aws_sdk_rds::operation::describe_db_instances::{DescribeDBInstancesError, DescribeDbInstancesOutput};
use aws_sdk_rds::operation::modify_db_instance::ModifyDbInstanceOutput;
use aws_sdk_rds::types::DbInstance;
use aws_sdk_rds::types::error::DbInstanceNotFoundFault;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use tandem_testing::mock_client;

fn found(id: &'static str, replica: bool, ours: bool) -> Rule {
    mock!(aws_sdk_rds::Client::describe_db_instances)
        .match_requests(move |i| i.db_instance_identifier() == Some(id))
        .then_output(move || {
            let mut db = DbInstance::builder()
                .db_instance_identifier(id)
                .db_instance_status("available")
                .set_read_replica_source_db_instance_identifier(replica.then(|| "arn:aws:rds:us-east-2:1:db:x".into()));
            if ours {
                db = db.tag_list(Tag::builder().key(FAILBACK_TAG).value("1").build());
            }
            DescribeDbInstancesOutput::builder().db_instances(db.build()).build()
        })
}

fn missing(id: &'static str) -> Rule {
    mock!(aws_sdk_rds::Client::describe_db_instances)
        .match_requests(move |i| i.db_instance_identifier() == Some(id))
        .then_error(|| {
            let meta = ErrorMetadata::builder().code("DBInstanceNotFound").build();
            DescribeDBInstancesError::DbInstanceNotFoundFault(DbInstanceNotFoundFault::builder().meta(meta).build())
        })
}

#[tokio::test]
async fn instances_are_told_apart_by_kind_and_by_the_failback_tag() {
    let rules = [found("a", true, true), found("b", false, false), missing("c")];
    let rds = mock_client!(aws_sdk_rds, rules.iter());
    assert!(matches!(
        instance(&rds, "a").await.unwrap(),
        Instance::Replica { ours: true, .. }
    ));
    assert!(matches!(
        instance(&rds, "b").await.unwrap(),
        Instance::Writer { ours: false, .. }
    ));
    assert_eq!(instance(&rds, "c").await.unwrap(), Instance::Missing);
}

#[tokio::test]
async fn retiring_renames_at_once_and_keeps_the_instance() {
    let renamed = mock!(aws_sdk_rds::Client::modify_db_instance)
        .match_requests(|i| {
            i.db_instance_identifier() == Some("tandem-dev-db")
                && i.new_db_instance_identifier()
                    .is_some_and(|n| n.starts_with("tandem-dev-db-retired-"))
                && i.apply_immediately() == Some(true)
        })
        .then_output(|| ModifyDbInstanceOutput::builder().build());
    let after = mock!(aws_sdk_rds::Client::describe_db_instances)
        .match_requests(|i| {
            i.db_instance_identifier()
                .is_some_and(|n| n.starts_with("tandem-dev-db-retired-"))
        })
        .then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(DbInstance::builder().build())
                .build()
        });
    let rules = [found("tandem-dev-db", false, false), renamed, after];
    let rds = mock_client!(aws_sdk_rds, rules.iter());
    retire(&rds, "tandem-dev-db").await.unwrap();
    assert!(rules.iter().all(|r| r.num_calls() == 1));
}

#[tokio::test]
async fn retiring_what_is_not_there_does_nothing() {
    let rules = [missing("tandem-dev-db")];
    let rds = mock_client!(aws_sdk_rds, rules.iter());
    retire(&rds, "tandem-dev-db").await.unwrap();
}
