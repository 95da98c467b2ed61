//! What the shell reads before deciding: this region's database as RDS
//! reports it, the replica's lag from CloudWatch, and a `/health` probe.
//! Every call is in this region, or a data-plane probe: nothing here needs
//! the primary region's control plane.

use crate::decide::Db;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use tandem_core::aws::{error_code, error_text};
use tandem_core::probe::Prober;

/// `id`'s kind and status, or why RDS could not say.
pub async fn database(rds: &aws_sdk_rds::Client, id: &str) -> Db {
    match rds.describe_db_instances().db_instance_identifier(id).send().await {
        Ok(out) => match out.db_instances().first() {
            None => Db::Missing,
            Some(db) => {
                let status = db.db_instance_status().unwrap_or("unknown").to_owned();
                if db
                    .read_replica_source_db_instance_identifier()
                    .is_some_and(|s| !s.is_empty())
                {
                    Db::Replica { status }
                } else {
                    Db::Writer { status }
                }
            }
        },
        Err(e) if error_code(&e) == Some("DBInstanceNotFound") => Db::Missing,
        Err(e) => Db::Unknown(format!("DescribeDBInstances {id}: {}", error_text(&e))),
    }
}

/// The newest `ReplicaLag` (seconds, the minute's maximum) of `id` over
/// the last five minutes, or `None` when CloudWatch has no datapoint.
pub async fn replica_lag(cw: &aws_sdk_cloudwatch::Client, id: &str, now: u64) -> Result<Option<f64>, String> {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let out = (cw.get_metric_statistics())
        .namespace("AWS/RDS")
        .metric_name("ReplicaLag")
        .dimensions(Dimension::builder().name("DBInstanceIdentifier").value(id).build())
        .start_time(DateTime::from_secs(now - 300))
        .end_time(DateTime::from_secs(now + 60))
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .map_err(|e| format!("GetMetricStatistics ReplicaLag {id}: {}", error_text(&e)))?;
    Ok(out
        .datapoints()
        .iter()
        .filter_map(|d| Some((d.timestamp()?.secs(), d.maximum()?)))
        .max_by_key(|(at, _)| *at)
        .map(|(_, lag)| lag))
}

/// `GET url`: `Ok` on a 2xx answer, otherwise why not.
pub async fn health(prober: &dyn Prober, url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("no /health URL is configured for it yet (deploy again once both regions exist)".into());
    }
    match prober.get(url).await {
        Ok(status) if (200..300).contains(&status) => Ok(()),
        Ok(status) => Err(format!("GET {url} answered {status}")),
        Err(why) => Err(format!("GET {url}: {why}")),
    }
}
