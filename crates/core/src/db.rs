//! The database calls a failover and a failback share, each safe to repeat:
//! promote a replica, find the writer's address, read a replica's lag,
//! point a region's secret at a writer. All in one region; the caller picks it.

use crate::aws::{error_code, error_text};
use aws_sdk_rds::types::DbInstance;
use serde_json::Value;

/// How a `PromoteReadReplica` call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Promoted {
    /// RDS accepted it.
    Accepted,
    /// RDS says the instance is not in a state to promote (already
    /// promoting, or promoted): the caller checks which.
    NotNow(String),
}

/// `PromoteReadReplica` on `id`, keeping 7 days of automated backups.
pub async fn promote(rds: &aws_sdk_rds::Client, id: &str) -> Result<Promoted, String> {
    match (rds.promote_read_replica())
        .db_instance_identifier(id)
        .backup_retention_period(7)
        .send()
        .await
    {
        Ok(_) => Ok(Promoted::Accepted),
        Err(e) if error_code(&e) == Some("InvalidDBInstanceState") => Ok(Promoted::NotNow(error_text(&e))),
        Err(e) => Err(format!("PromoteReadReplica {id}: {}", error_text(&e))),
    }
}

/// `id` as RDS describes it, or `None` when there is no such instance.
pub async fn describe(rds: &aws_sdk_rds::Client, id: &str) -> Result<Option<DbInstance>, String> {
    match rds.describe_db_instances().db_instance_identifier(id).send().await {
        Ok(out) => Ok(out.db_instances().first().cloned()),
        Err(e) if error_code(&e) == Some("DBInstanceNotFound") => Ok(None),
        Err(e) => Err(format!("DescribeDBInstances {id}: {}", error_text(&e))),
    }
}

/// Whether `db` is a read replica (it names a source).
pub fn is_replica(db: &DbInstance) -> bool {
    db.read_replica_source_db_instance_identifier()
        .is_some_and(|s| !s.is_empty())
}

/// `db`'s status, such as `available`.
pub fn status(db: &DbInstance) -> String {
    db.db_instance_status().unwrap_or("unknown").to_owned()
}

/// The writer's address, once `id` is a standalone instance and available:
/// `Ok(None)` while it is still a replica or busy.
pub async fn writer_endpoint(rds: &aws_sdk_rds::Client, id: &str) -> Result<Option<(String, i32)>, String> {
    let Some(db) = describe(rds, id).await? else {
        return Err(format!("{id} is gone"));
    };
    if is_replica(&db) || db.db_instance_status() != Some("available") {
        return Ok(None);
    }
    let endpoint = db
        .endpoint()
        .ok_or_else(|| format!("{id} is available but has no endpoint"))?;
    let host = endpoint.address().unwrap_or_default().to_owned();
    if host.is_empty() {
        return Err(format!("{id} is available but its endpoint has no address"));
    }
    Ok(Some((host, endpoint.port().unwrap_or(3306))))
}

/// The newest `ReplicaLag` (seconds, the minute's maximum) of `id` over
/// the last five minutes, or `None` when CloudWatch has no datapoint.
pub async fn replica_lag(cw: &aws_sdk_cloudwatch::Client, id: &str, now: u64) -> Result<Option<f64>, String> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
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

/// Points secret `secret_id` at `host`:`port`, keeping its credentials. A
/// secret that is a replica of the old primary's is made standalone first
/// (a replica cannot be written, and its primary may be down). Never logs
/// the secret's value.
pub async fn repoint_secret(
    sm: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    host: &str,
    port: i32,
) -> Result<(), String> {
    let described = (sm.describe_secret().secret_id(secret_id).send())
        .await
        .map_err(|e| format!("DescribeSecret {secret_id}: {}", error_text(&e)))?;
    if described.primary_region().is_some_and(|r| !r.is_empty()) {
        (sm.stop_replication_to_replica().secret_id(secret_id).send())
            .await
            .map_err(|e| format!("StopReplicationToReplica {secret_id}: {}", error_text(&e)))?;
    }
    let current = (sm.get_secret_value().secret_id(secret_id).send())
        .await
        .map_err(|e| format!("GetSecretValue {secret_id}: {}", error_text(&e)))?;
    let text = current.secret_string().unwrap_or("{}");
    let updated = match with_writer(text, host, port) {
        None => {
            return Err(format!(
                "the secret {secret_id} is not a JSON object: restore its username and password fields, then retry"
            ));
        }
        Some(None) => return Ok(()),
        Some(Some(updated)) => updated,
    };
    (sm.put_secret_value().secret_id(secret_id).secret_string(updated).send())
        .await
        .map_err(|e| format!("PutSecretValue {secret_id}: {}", error_text(&e)))?;
    Ok(())
}

/// `secret` (a JSON object) with `host` and `port` set: `Some(None)` when it
/// names them already, `None` when it is not a JSON object.
pub fn with_writer(secret: &str, host: &str, port: i32) -> Option<Option<String>> {
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(secret) else {
        return None;
    };
    if fields.get("host").and_then(Value::as_str) == Some(host)
        && fields.get("port").and_then(Value::as_i64) == Some(i64::from(port))
    {
        return Some(None);
    }
    fields.insert("host".into(), Value::from(host));
    fields.insert("port".into(), Value::from(port));
    Some(Some(Value::Object(fields).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_replaces_host_and_port_and_keeps_the_credentials() {
        let secret = r#"{"username":"tandem_admin","password":"p","host":"old.example","port":3306}"#;
        let updated = with_writer(secret, "new.example", 3307).unwrap().unwrap();
        let v: Value = serde_json::from_str(&updated).unwrap();
        assert_eq!(v["host"], "new.example");
        assert_eq!(v["port"], 3307);
        assert_eq!(
            (v["username"].as_str(), v["password"].as_str()),
            (Some("tandem_admin"), Some("p"))
        );
    }

    #[test]
    fn a_secret_that_names_the_writer_already_is_left_alone() {
        let secret = r#"{"username":"u","password":"p","host":"new.example","port":3306}"#;
        assert_eq!(with_writer(secret, "new.example", 3306), Some(None));
    }

    #[test]
    fn a_secret_that_is_not_an_object_is_refused() {
        assert_eq!(with_writer("hunter2", "h", 1), None);
        assert_eq!(with_writer("[1]", "h", 1), None);
    }
}
