//! `tandem destroy`: every stack in reverse order, after emptying the
//! buckets and image repositories that would block the deletion.

use super::stacks_for;
use crate::context::Context;
use crate::plan::{Template, destroy_order};
use crate::retained;
use aws_sdk_ecr::types::{ImageFailureCode, ImageIdentifier};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use tandem_core::aws::{error_text, is_not_found};

/// What must be emptied before a stack can be deleted: CloudFormation does
/// not delete a bucket with objects or a repository with images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Emptying {
    /// An S3 bucket: every object version and delete marker.
    Bucket(String),
    /// An ECR repository: every image.
    Repository(String),
}

impl fmt::Display for Emptying {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bucket(bucket) => write!(f, "bucket s3://{bucket}"),
            Self::Repository(repository) => write!(f, "ECR repository {repository}"),
        }
    }
}

/// What to empty before deleting a stack made from `template`, read from
/// the stack's `outputs`: the bootstrap stack's `ArtifactBucketName`, the
/// region stack's `RepositoryName` (or, for a stack deployed before that
/// output existed, the name at the end of its `RepositoryUri`).
pub(crate) fn what_to_empty(template: Template, outputs: &BTreeMap<String, String>) -> Option<Emptying> {
    let output = |key: &str| outputs.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    match template {
        Template::Bootstrap => output("ArtifactBucketName").map(|b| Emptying::Bucket(b.to_owned())),
        Template::Region => output("RepositoryName")
            .or_else(|| {
                let (_, name) = output("RepositoryUri")?.split_once('/')?;
                Some(name).filter(|n| !n.is_empty())
            })
            .map(|r| Emptying::Repository(r.to_owned())),
        Template::Global => None,
    }
}

/// Why a bucket or repository could not be emptied.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} {target} ({reason})")]
pub(crate) struct EmptyError {
    /// What was being emptied.
    pub(crate) target: Emptying,
    /// `list` or `delete from`.
    pub(crate) action: &'static str,
    /// What AWS said.
    pub(crate) reason: String,
}

impl EmptyError {
    fn new(target: &Emptying, action: &'static str, reason: impl Into<String>) -> Self {
        Self {
            target: target.clone(),
            action,
            reason: reason.into(),
        }
    }
}

/// Asks the person at the terminal to type `env`'s name before anything is deleted.
fn confirm(env: &str) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("destroy needs confirmation: run it in a terminal, or pass --yes");
    }
    print!("This deletes every tandem-{env} stack in both regions. Type {env:?} to go on: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != env {
        anyhow::bail!("not confirmed; nothing was deleted");
    }
    Ok(())
}

/// `tandem destroy`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub(crate) yes: bool,
}

impl super::CommandArgs for Args {
    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        crate::config::Config::load(root, &self.env)?;
        if !self.yes {
            confirm(&self.env)?;
        }
        let ctx = crate::context::Context::load(root, &self.env).await?;
        run(&ctx).await.map(|()| true)
    }
}

/// Deletes everything; fails naming each stack that is left.
pub(crate) async fn run(ctx: &Context) -> anyhow::Result<()> {
    let plan = destroy_order(&ctx.config, &ctx.roles);
    let mut errors = Vec::new();
    let mut kept = Vec::new();
    for spec in &plan {
        let stacks = stacks_for(ctx, spec);
        let Some(stack) = stacks.describe(&spec.name).await? else {
            println!("{} ({}): not there", spec.name, spec.region);
            continue;
        };
        // Read before the delete: what it keeps, for the closing list.
        match stacks.resources(&spec.name).await {
            Ok(resources) => kept.extend(retained::kept_by(
                &ctx.config.env,
                spec.template,
                &spec.region,
                &stack.parameters,
                &resources,
            )),
            Err(e) => println!("{e} (the list of what it keeps, at the end, leaves it out)"),
        }
        if let Some(target) = what_to_empty(spec.template, &stack.outputs) {
            let region = ctx.aws.region(&spec.region);
            let emptied = match &target {
                Emptying::Bucket(bucket) => empty_bucket(&region.s3, bucket).await,
                Emptying::Repository(repository) => empty_repository(&region.ecr, repository).await,
            };
            match emptied {
                Ok(0) => {}
                Ok(n) => println!("{} ({}): emptied {n} item(s) from {target}", spec.name, spec.region),
                Err(e) => errors.push(format!(
                    "{} in {}: {e}; fix that cause or empty it by hand",
                    spec.name, spec.region
                )),
            }
        }
        println!("{} ({}): deleting", spec.name, spec.region);
        if let Err(e) = stacks.delete(&spec.name).await {
            errors.push(e.to_string());
        }
    }
    let mut left = Vec::new();
    for spec in &plan {
        if let Some(stack) = stacks_for(ctx, spec).describe(&spec.name).await? {
            left.push(format!("{} in {} ({})", spec.name, spec.region, stack.status));
        }
    }
    if !left.is_empty() {
        anyhow::bail!(
            "destroy left {} behind ({}); fix that and run destroy --env {} again",
            left.join(", "),
            if errors.is_empty() {
                "no error was reported".to_owned()
            } else {
                errors.join("; ")
            },
            ctx.config.env
        );
    }
    let regions = ctx.config.regions.keys().cloned().collect::<Vec<_>>().join(" and ");
    if kept.is_empty() {
        println!("destroyed: nothing of tandem-{} is left in {regions}", ctx.config.env);
    } else {
        println!("destroyed: every stack of tandem-{} in {regions}", ctx.config.env);
    }
    for line in retained::kept_after_destroy(&ctx.config.env, &kept) {
        println!("{line}");
    }
    Ok(())
}

/// Deletes every version and delete marker in `bucket`, a page (up to 1000)
/// at a time; returns how many. A bucket that does not exist is empty.
pub(crate) async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<usize, EmptyError> {
    let target = Emptying::Bucket(bucket.to_owned());
    let mut deleted = 0;
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let listed = match s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
        {
            Ok(listed) => listed,
            Err(e) if is_not_found(&e) => return Ok(deleted),
            Err(e) => return Err(EmptyError::new(&target, "list", error_text(&e))),
        };
        let versions = listed.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = listed.delete_markers().iter().map(|m| (m.key(), m.version_id()));
        let ids: Vec<ObjectIdentifier> = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if !ids.is_empty() {
            let n = ids.len();
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| EmptyError::new(&target, "delete from", e.to_string()))?;
            let out = s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| EmptyError::new(&target, "delete from", error_text(&e)))?;
            if let Some(first) = out.errors().first() {
                return Err(EmptyError::new(
                    &target,
                    "delete from",
                    format!(
                        "{} of {n} deletions failed, the first on {}: {}: {}",
                        out.errors().len(),
                        first.key().unwrap_or("?"),
                        first.code().unwrap_or("Error"),
                        first.message().unwrap_or("no message")
                    ),
                ));
            }
            deleted += n;
        }
        key_marker = listed.next_key_marker().map(str::to_owned);
        version_marker = listed.next_version_id_marker().map(str::to_owned);
        if listed.is_truncated() != Some(true) || (key_marker.is_none() && version_marker.is_none()) {
            return Ok(deleted);
        }
    }
}

/// Deletes every image in `repository`, listing all pages first and
/// deleting 100 at a time (the most one call takes); returns how many. A
/// repository that does not exist is empty.
pub(crate) async fn empty_repository(ecr: &aws_sdk_ecr::Client, repository: &str) -> Result<usize, EmptyError> {
    let target = Emptying::Repository(repository.to_owned());
    let mut pages = ecr
        .list_images()
        .repository_name(repository)
        .into_paginator()
        .items()
        .send();
    // One entry per tag: an image with two tags is listed twice. Deleting by
    // digest removes the image with all its tags, once.
    let mut digests = BTreeSet::new();
    let mut ids = Vec::new();
    while let Some(item) = pages.next().await {
        let id = match item {
            Ok(id) => id,
            Err(e) if is_not_found(&e) => return Ok(0),
            Err(e) => return Err(EmptyError::new(&target, "list", error_text(&e))),
        };
        match id.image_digest() {
            Some(digest) if digests.insert(digest.to_owned()) => {
                ids.push(ImageIdentifier::builder().image_digest(digest).build());
            }
            Some(_) => {}
            None => ids.push(id),
        }
    }
    for chunk in ids.chunks(100) {
        let out = ecr
            .batch_delete_image()
            .repository_name(repository)
            .set_image_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| EmptyError::new(&target, "delete from", error_text(&e)))?;
        let failures: Vec<_> = out
            .failures()
            .iter()
            .filter(|f| f.failure_code() != Some(&ImageFailureCode::ImageNotFound))
            .collect();
        if let Some(first) = failures.first() {
            return Err(EmptyError::new(
                &target,
                "delete from",
                format!(
                    "{} of {} deletions failed, the first: {}: {}",
                    failures.len(),
                    chunk.len(),
                    first.failure_code().map_or("Error", |c| c.as_str()),
                    first.failure_reason().unwrap_or("no reason given")
                ),
            ));
        }
    }
    Ok(ids.len())
}

#[cfg(test)]
mod tests;
