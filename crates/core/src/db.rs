//! The database calls a failover and a failback share, each safe to repeat:
//! promote a replica, find the writer's address, read a replica's lag,
//! point a region's endpoint secret at a writer. All in one region; the caller picks it.

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
    endpoint_when(rds, id, |db| !is_replica(db)).await
}

/// `id`'s address once it is available, replica or writer (a region's
/// endpoint secret names its own instance, which a replica is until a
/// promotion makes it the writer): `Ok(None)` while it is busy.
pub async fn instance_endpoint(rds: &aws_sdk_rds::Client, id: &str) -> Result<Option<(String, i32)>, String> {
    endpoint_when(rds, id, |_| true).await
}

async fn endpoint_when(
    rds: &aws_sdk_rds::Client,
    id: &str,
    wanted: impl Fn(&DbInstance) -> bool,
) -> Result<Option<(String, i32)>, String> {
    let Some(db) = describe(rds, id).await? else {
        return Err(format!("{id} is gone"));
    };
    if !wanted(&db) || db.db_instance_status() != Some("available") {
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

/// One minute of a replica's `ReplicaLag`, as CloudWatch aggregates it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LagReading {
    /// The minute's highest lag (seconds): the budget is checked against it.
    pub max_secs: f64,
    /// The minute's lowest value. RDS reports -1 while replication is not
    /// running, and -1 is below any real lag, so the Minimum is the one
    /// statistic that shows a stop within the minute (the Maximum of a
    /// minute that held 5 and then -1 is 5, which hides it).
    pub min_secs: f64,
    /// The end of that minute (Unix seconds): how fresh the reading is.
    pub at: u64,
}

/// How far behind a replica is, as a promotion must judge it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lag {
    /// Replication ran for the whole newest minute, which ended `age_secs` ago.
    Known {
        /// The minute's highest lag, in seconds.
        secs: f64,
        /// Seconds since the end of that minute.
        age_secs: u64,
    },
    /// No fresh reading, or replication stopped: the data a promotion would
    /// lose is unknown.
    Unknown(&'static str),
}

/// The most a lag reading may age (from the end of its minute) and still count.
pub const MAX_LAG_AGE_SECS: u64 = 120;

impl Lag {
    /// Judges `reading` at `now`: unknown when there is none, when it is older
    /// than [`MAX_LAG_AGE_SECS`], or when replication stopped within it (-1).
    pub fn judge(reading: Option<LagReading>, now: u64) -> Self {
        let Some(r) = reading else {
            return Self::Unknown("the replica reports no ReplicaLag in the last five minutes");
        };
        if r.min_secs < 0.0 || r.max_secs < 0.0 {
            return Self::Unknown("RDS reports ReplicaLag -1: replication is not running");
        }
        let age_secs = now.saturating_sub(r.at);
        if age_secs > MAX_LAG_AGE_SECS {
            return Self::Unknown("the newest ReplicaLag is more than two minutes old");
        }
        Self::Known {
            secs: r.max_secs,
            age_secs,
        }
    }
}

/// The newest minute of `id`'s `ReplicaLag` over the last five minutes
/// (its Minimum and Maximum), or `None` when CloudWatch has no datapoint.
pub async fn replica_lag(cw: &aws_sdk_cloudwatch::Client, id: &str, now: u64) -> Result<Option<LagReading>, String> {
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
        .statistics(Statistic::Minimum)
        .send()
        .await
        .map_err(|e| format!("GetMetricStatistics ReplicaLag {id}: {}", error_text(&e)))?;
    Ok(out
        .datapoints()
        .iter()
        .filter_map(|d| {
            let start = u64::try_from(d.timestamp()?.secs()).ok()?;
            let max_secs = d.maximum()?;
            Some(LagReading {
                max_secs,
                min_secs: d.minimum().unwrap_or(max_secs),
                at: start + 60,
            })
        })
        .max_by_key(|r| r.at))
}

/// Points a region's endpoint secret (`tandem-<env>/db-endpoint`, which
/// overrides the host and port of the credentials secret the app reads) at
/// `host`:`port`. The credentials secret is never written: on AWS it is a
/// replica of the writer region's and stays one, so the stack that declares
/// the replica can always update, and be made again. Safe to repeat; never
/// logs a secret's value.
pub async fn point_endpoint(
    sm: &aws_sdk_secretsmanager::Client,
    endpoint_secret: &str,
    host: &str,
    port: i32,
) -> Result<(), String> {
    let current = match sm.get_secret_value().secret_id(endpoint_secret).send().await {
        Ok(out) => out.secret_string().unwrap_or("{}").to_owned(),
        Err(e) if crate::aws::is_not_found(&e) => {
            return Err(format!(
                "the endpoint secret {endpoint_secret} does not exist: deploy the region stack, which makes it, then retry"
            ));
        }
        Err(e) => return Err(format!("GetSecretValue {endpoint_secret}: {}", error_text(&e))),
    };
    let updated = match with_writer(&current, host, port) {
        None => {
            return Err(format!(
                "the endpoint secret {endpoint_secret} is not a JSON object: set it to {{}}, then retry"
            ));
        }
        Some(None) => return Ok(()),
        Some(Some(updated)) => updated,
    };
    (sm.put_secret_value()
        .secret_id(endpoint_secret)
        .secret_string(updated)
        .send())
    .await
    .map_err(|e| format!("PutSecretValue {endpoint_secret}: {}", error_text(&e)))?;
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
