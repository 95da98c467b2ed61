//! What the shell reads before deciding: this region's database as RDS
//! reports it, the replica's lag from CloudWatch, and a `/health` probe.
//! Every call is in this region, or a data-plane probe: nothing here needs
//! the primary region's control plane.

use crate::decide::Db;
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
