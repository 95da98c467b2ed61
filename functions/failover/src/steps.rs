//! The promotion, one recorded step at a time, under the failover lock:
//! fence the old primary (its fence record here, then the traffic fence's
//! metric), promote the replica, wait until it is a writer, point the
//! endpoint secret at it, record the roles at the new epoch. Each step is
//! done, then recorded; a holder that stops (a crash, the end of its time)
//! leaves the step it reached for the next.

use crate::observe;
use crate::shell::{Failover, FailoverError, answer};
use serde_json::Value;
use std::time::Duration;
use tandem_core::clock::unix_now;
use tandem_core::db::{self, Promoted};
use tandem_core::state::{AuditKind, FailoverStep, FenceRecord, RolesRecord, Written};
use tokio::time::Instant;

/// How often the wait for the promoted writer looks.
pub const WAIT_POLL: Duration = Duration::from_secs(10);

/// One holder's run of the promotion.
pub(crate) struct Steps<'a> {
    pub(crate) failover: &'a Failover,
    pub(crate) version: u64,
    /// The epoch this promotion makes this region primary at.
    pub(crate) epoch: u64,
    pub(crate) holder: &'a str,
    pub(crate) until: Instant,
    pub(crate) audit_key: &'a str,
}

impl Steps<'_> {
    /// Runs from `step` to the end, or until time runs out.
    pub(crate) async fn run(&self, mut step: FailoverStep, reason: &str) -> Result<Value, FailoverError> {
        let s = &self.failover.settings;
        let rds = &self.failover.rds;
        loop {
            step = match step {
                FailoverStep::Claimed | FailoverStep::Failed => {
                    let fence = FenceRecord {
                        region: s.peer_region.clone(),
                        epoch: self.epoch,
                        by: s.region.clone(),
                        reason: reason.chars().take(500).collect(),
                        at: unix_now(),
                    };
                    self.failover.table.put_fence(&fence).await?;
                    if let Err(why) = self.failover.publish_fence(true).await {
                        return Err(self
                            .fail(&format!("could not fence {}'s traffic ({why})", s.peer_region))
                            .await);
                    }
                    self.advance(FailoverStep::Fenced).await?
                }
                FailoverStep::Fenced => match db::promote(rds, &s.db_instance).await {
                    Ok(Promoted::Accepted) => self.advance(FailoverStep::PromoteRequested).await?,
                    // Already promoting or promoted (an earlier holder's call went through).
                    Ok(Promoted::NotNow(why)) => match observe::database(rds, &s.db_instance).await {
                        crate::decide::Db::Writer { .. } => self.advance(FailoverStep::PromoteRequested).await?,
                        crate::decide::Db::Replica { status } if status == "modifying" => {
                            self.advance(FailoverStep::PromoteRequested).await?
                        }
                        _ => return Err(self.fail(&format!("could not promote {} ({why})", s.db_instance)).await),
                    },
                    Err(why) => return Err(self.fail(&format!("could not promote {} ({why})", s.db_instance)).await),
                },
                FailoverStep::PromoteRequested => loop {
                    match db::writer_endpoint(rds, &s.db_instance).await {
                        Ok(Some(_)) => break self.advance(FailoverStep::Promoted).await?,
                        Ok(None) if Instant::now() + WAIT_POLL < self.until => tokio::time::sleep(WAIT_POLL).await,
                        Ok(None) => return self.leave("the replica is still being promoted").await,
                        Err(why) => return Err(self.fail(&format!("could not follow the promotion ({why})")).await),
                    }
                },
                FailoverStep::Promoted => {
                    let endpoint = match db::writer_endpoint(rds, &s.db_instance).await {
                        Ok(Some(endpoint)) => endpoint,
                        Ok(None) => {
                            return Err(self
                                .fail(&format!("{} is no longer an available writer", s.db_instance))
                                .await);
                        }
                        Err(why) => return Err(self.fail(&why).await),
                    };
                    let (host, port) = endpoint;
                    if let Err(why) =
                        db::point_endpoint(&self.failover.secrets, &s.db_endpoint_secret, &host, port).await
                    {
                        return Err(self
                            .fail(&format!(
                                "could not point the endpoint secret at the new writer ({why})"
                            ))
                            .await);
                    }
                    self.advance(FailoverStep::SecretUpdated).await?
                }
                FailoverStep::SecretUpdated => {
                    self.record_roles(reason).await?;
                    self.advance(FailoverStep::Done).await?
                }
                FailoverStep::Done => {
                    let outcome = format!(
                        "done: {} is the primary at epoch {}; {} is fenced; {} is its writer and {} names it",
                        s.region, self.epoch, s.peer_region, s.db_instance, s.db_endpoint_secret
                    );
                    self.finish(&outcome).await?;
                    return Ok(answer("Promote", reason, &outcome));
                }
            };
        }
    }

    /// Records `step` as done; a lock lost to a takeover stops this holder.
    async fn advance(&self, step: FailoverStep) -> Result<FailoverStep, FailoverError> {
        let written = (self.failover.table)
            .advance_failover(self.version, self.holder, step, None, unix_now())
            .await?;
        if written == Written::AlreadyDone {
            return Err(FailoverError::Step(format!(
                "the failover lock passed to another invocation before step {} was recorded; it carries on",
                step.as_str()
            )));
        }
        tracing::info!(step = step.as_str(), "failover step done");
        Ok(step)
    }

    /// The roles name this region primary, unless they changed since the
    /// promotion started (then that is a failure a person must look at).
    async fn record_roles(&self, reason: &str) -> Result<(), FailoverError> {
        let s = &self.failover.settings;
        let roles = RolesRecord {
            primary: s.region.clone(),
            standby: s.peer_region.clone(),
            updated_at: unix_now().max(self.version + 1),
            epoch: self.epoch,
            reason: Some(format!("failover: {reason}")),
        };
        let read = (self.version > 0).then_some(self.version);
        if self.failover.table.put_roles(&roles, read).await? == Written::AlreadyDone {
            let now = self.failover.table.roles().await?;
            if now.as_ref().map(|r| r.primary.as_str()) != Some(s.region.as_str()) {
                return Err(self
                    .fail("the roles changed while the promotion ran: check them with `tandem status`")
                    .await);
            }
        }
        Ok(())
    }

    /// Ends the promotion as failed: recorded on the lock, audited,
    /// notified. Returns the error the invocation ends with.
    async fn fail(&self, why: &str) -> FailoverError {
        let s = &self.failover.settings;
        let text = format!("the failover to {} stopped: {why}; the roles are unchanged", s.region);
        tracing::error!(reason = %text, "failover failed");
        let recorded = (self.failover.table)
            .advance_failover(self.version, self.holder, FailoverStep::Failed, Some(why), unix_now())
            .await;
        if let Err(e) = recorded {
            return e.into();
        }
        if let Err(e) = self.finish(&format!("failed: {why}")).await {
            return e;
        }
        FailoverError::Step(text)
    }

    /// Leaves the rest to the next invocation, giving the lock back now.
    async fn leave(&self, why: &str) -> Result<Value, FailoverError> {
        (self.failover.table)
            .release_failover(self.version, self.holder, unix_now())
            .await?;
        Ok(answer("Promote", why, "in progress: the next invocation carries on"))
    }

    async fn finish(&self, outcome: &str) -> Result<(), FailoverError> {
        (self.failover.table)
            .set_audit_outcome(AuditKind::Failover, self.audit_key, outcome)
            .await?;
        self.failover.notify("Promote", self.audit_key, outcome).await;
        Ok(())
    }
}
