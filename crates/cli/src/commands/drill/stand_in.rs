//! The drill's stand-in database in the standby region. The local AWS can
//! make no cross-region replica and refuses `PromoteReadReplica`, so the
//! drill makes `tandem-local-db-replica` a replica of a source in the same
//! region (for the promotion the function attempts), and later, as "what a
//! completed promotion leaves", a standalone writer at the local MariaDB's
//! port, whose endpoint the function then records.

use anyhow::anyhow;
use tandem_core::aws::error_text;

/// The stand-in replica's source (the local AWS cannot make a cross-region replica).
const STAND_IN_SOURCE: &str = "drill-source";

fn source_id(env: &str) -> String {
    format!("tandem-{env}-{STAND_IN_SOURCE}")
}

/// The standby's database instance.
pub(crate) fn replica_id(env: &str) -> String {
    format!("tandem-{env}-db-replica")
}

async fn exists(rds: &aws_sdk_rds::Client, id: &str) -> bool {
    rds.describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .is_ok()
}

async fn delete(rds: &aws_sdk_rds::Client, id: &str) {
    let _ = rds
        .delete_db_instance()
        .db_instance_identifier(id)
        .skip_final_snapshot(true)
        .send()
        .await;
}

/// Makes the standby's instance a read replica of a stand-in source in the
/// same region, unless it is one already.
pub(crate) async fn replica(rds: &aws_sdk_rds::Client, env: &str, region: &str) -> anyhow::Result<String> {
    let (replica, source) = (replica_id(env), source_id(env));
    if !exists(rds, &source).await {
        standalone(rds, &source, None)
            .await
            .map_err(|why| anyhow!("could not make the drill's stand-in source {source} in {region} ({why})"))?;
    }
    if !exists(rds, &replica).await {
        (rds.create_db_instance_read_replica())
            .db_instance_identifier(&replica)
            .source_db_instance_identifier(&source)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "could not make the drill's stand-in replica {replica} in {region} ({})",
                    error_text(&e)
                )
            })?;
    }
    Ok(replica)
}

/// What a completed `PromoteReadReplica` leaves: the standby's instance a
/// standalone writer, here at the local MariaDB's `port` (the writer the
/// standby's app then writes to).
pub(crate) async fn promoted(rds: &aws_sdk_rds::Client, env: &str, region: &str, port: u16) -> anyhow::Result<()> {
    let replica = replica_id(env);
    delete(rds, &replica).await;
    delete(rds, &source_id(env)).await;
    standalone(rds, &replica, Some(port))
        .await
        .map_err(|why| anyhow!("could not make the promoted stand-in {replica} in {region} ({why})"))
}

/// A standalone MySQL instance `id` (metadata only, on the local AWS), at `port` if given.
async fn standalone(rds: &aws_sdk_rds::Client, id: &str, port: Option<u16>) -> Result<(), String> {
    (rds.create_db_instance())
        .db_instance_identifier(id)
        .engine("mysql")
        .db_instance_class("db.t4g.micro")
        .allocated_storage(20)
        .set_port(port.map(i32::from))
        .master_username("drill")
        .master_user_password("drill-only-password")
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_text(&e))
}

/// Removes whatever the drill made in `region`.
pub(crate) async fn remove(rds: &aws_sdk_rds::Client, env: &str) {
    delete(rds, &replica_id(env)).await;
    delete(rds, &source_id(env)).await;
}

/// Publishes `seconds` as `replica`'s `ReplicaLag` (the local AWS has no RDS
/// metrics of its own, and accepts the `AWS/RDS` namespace, which AWS does not).
pub(crate) async fn publish_lag(cw: &aws_sdk_cloudwatch::Client, replica: &str, seconds: f64) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let datum = MetricDatum::builder()
        .metric_name("ReplicaLag")
        .dimensions(Dimension::builder().name("DBInstanceIdentifier").value(replica).build())
        .value(seconds)
        .unit(StandardUnit::Seconds)
        .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            tandem_core::clock::unix_now() as i64,
        ))
        .build();
    (cw.put_metric_data().namespace("AWS/RDS").metric_data(datum).send())
        .await
        .map_err(|e| anyhow!("could not publish the stand-in's ReplicaLag ({})", error_text(&e)))?;
    Ok(())
}
