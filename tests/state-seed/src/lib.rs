//! The state table of the local AWS, for the tests: the one owner of the
//! records the suites write (a release in flight, the roles, no failover
//! locks) and of the reads they assert on. Everything goes through
//! [`tandem_core::state::StateTable`] and its typed records, so a change of
//! `state/records.rs` reaches the tests with no second copy of the item
//! shapes. It is not part of the operator CLI and refuses any endpoint but
//! the local AWS's.
//!
//! The binary (`tandem-state-seed`, src/main.rs) is what the bash suites call;
//! the tests in tests/ use this library directly.

#![warn(missing_docs)]

pub mod json;

use anyhow::{Context, bail};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::Credentials;
use std::time::{SystemTime, UNIX_EPOCH};
use tandem_core::state::{AuditKind, ReleaseRecord, ReleaseState, RolesRecord, StateTable, Written};

/// The environment the local AWS holds.
pub const ENV: &str = "local";
/// The local environment's primary and standby.
pub const REGIONS: [&str; 2] = ["us-east-1", "us-east-2"];

/// The local AWS's endpoint, from `AWS_ENDPOINT_URL`: refused unless it is
/// on this machine, so that nothing here can write to an AWS account.
pub fn local_endpoint() -> anyhow::Result<String> {
    let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if url.is_empty() {
        bail!(
            "AWS_ENDPOINT_URL is not set; run eval \"$(scripts/local-aws.sh env)\" first, as these tools write only to the local AWS"
        );
    }
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split([':', '/'])
        .next()
        .unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost") {
        bail!(
            "AWS_ENDPOINT_URL is {url}, which is not the local AWS on this machine; these tools write only to the local AWS"
        );
    }
    Ok(url)
}

/// The SDK configuration for `region` on the local AWS, signing with the
/// local AWS's fixed test credentials (as the CLI does for ENV=local; the
/// chaos suites' faults match only what the functions sign).
pub async fn local_config(region: &str) -> anyhow::Result<SdkConfig> {
    let url = local_endpoint()?;
    let credentials = Credentials::new("test", "test", None, None, "tandem-state-seed");
    Ok(tandem_core::aws::loader()
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(url)
        .credentials_provider(credentials)
        .load()
        .await)
}

/// `region`'s state table on the local AWS.
pub async fn table(region: &str) -> anyhow::Result<StateTable> {
    let config = local_config(region).await?;
    Ok(StateTable::new(
        aws_sdk_dynamodb::Client::new(&config),
        StateTable::name_for(ENV),
    ))
}

/// Now, in Unix seconds.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Records release `release_id` of `image` in `region` as in progress with
/// `deployment` (a CodeDeploy id, or an ECS service deployment's ARN): the
/// newest there (a second after now and after any release recorded
/// already), so that it is the one the rollback function reads.
pub async fn seed_release(
    table: &StateTable,
    region: &str,
    release_id: &str,
    deployment: &str,
    image: &str,
) -> anyhow::Result<ReleaseRecord> {
    let newest = table.last_release(region).await?.map_or(0, |r| r.started_at);
    let release = ReleaseRecord {
        release_id: release_id.into(),
        region: region.into(),
        image: image.into(),
        task_definition: format!("arn:aws:ecs:{region}:000000000000:task-definition/tandem-local-app:9"),
        previous_task_definition: None,
        deployment_id: Some(deployment.into()),
        state: ReleaseState::InProgress,
        started_at: (now() + 1).max(newest + 1),
        finished_at: None,
        reason: None,
    };
    if table.start_release(&release).await? == Written::AlreadyDone {
        bail!("release {release_id} is recorded in {region} already; seed each release once");
    }
    Ok(release)
}

/// Removes every release of `region` whose id is `release_id` (or starts
/// with it, when it ends in `*`); how many it removed.
pub async fn forget_releases(table: &StateTable, region: &str, release_id: &str) -> anyhow::Result<usize> {
    let matches = |id: &str| match release_id.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => id == release_id,
    };
    let mut removed = 0;
    for release in table.releases(region).await? {
        if matches(&release.release_id) {
            table.remove_release(&release).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Records `primary` and `standby` as the roles, as the failover function
/// does in the region it promotes, at an epoch of now: above any earlier one
/// (epochs only grow). Written over whatever roles the table holds.
pub async fn put_roles(table: &StateTable, primary: &str, standby: &str) -> anyhow::Result<RolesRecord> {
    let read = table.roles().await?;
    let now = now();
    let roles = RolesRecord {
        primary: primary.into(),
        standby: standby.into(),
        updated_at: now,
        epoch: now.max(read.as_ref().map_or(0, |r| r.epoch)),
        reason: Some("e2e: roles written by the test".into()),
    };
    let written = table.put_roles(&roles, read.map(|r| r.updated_at)).await?;
    if written == Written::AlreadyDone {
        bail!(
            "the roles in {} changed while the test wrote them; run it again",
            table.name()
        );
    }
    Ok(roles)
}

/// Removes every failover lock of the table; how many it removed.
pub async fn clear_locks(table: &StateTable) -> anyhow::Result<usize> {
    let locks = table.failover_locks().await?;
    for lock in &locks {
        table.remove_failover_lock(lock.version).await?;
    }
    Ok(locks.len())
}

/// The audit kind named `text`.
pub fn kind(text: &str) -> anyhow::Result<AuditKind> {
    AuditKind::parse(text)
        .with_context(|| format!("{text:?} is not an audit kind; use release, hook, rollback, failover or notify"))
}

/// Whether `region`'s trail holds a decision of `kind` made at or after
/// `since` (Unix seconds): what a suite that reads another's records checks
/// first.
pub async fn has_audit(region: &str, kind: AuditKind, since: u64) -> anyhow::Result<bool> {
    Ok(!table(region).await?.audit_trail(Some(kind), since).await?.is_empty())
}
