//! What the shell reads before deciding: this region's database as RDS
//! reports it, the replica's lag from CloudWatch, and a `/health` probe.
//! Every call is in this region, or a data-plane probe: nothing here needs
//! the primary region's control plane.

use crate::decide::Db;
use tandem_core::db;
use tandem_core::probe::Prober;

/// `id`'s kind and status, or why RDS could not say.
pub async fn database(rds: &aws_sdk_rds::Client, id: &str) -> Db {
    match db::describe(rds, id).await {
        Ok(None) => Db::Missing,
        Ok(Some(instance)) if db::is_replica(&instance) => Db::Replica {
            status: db::status(&instance),
        },
        Ok(Some(instance)) => Db::Writer {
            status: db::status(&instance),
        },
        Err(why) => Db::Unknown(why),
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
