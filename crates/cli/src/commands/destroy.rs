//! `tandem destroy`: every stack in reverse order, after emptying the
//! buckets and image repositories that would block the deletion.

use super::stacks_for;
use crate::context::Context;
use crate::plan::{Template, destroy_order};
use aws_sdk_ecr::types::ImageIdentifier;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use tandem_core::aws::error_text;

/// Deletes everything; fails naming each stack that is left.
pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    let plan = destroy_order(&ctx.config, &ctx.roles);
    let mut errors = Vec::new();
    for spec in &plan {
        let stacks = stacks_for(ctx, spec);
        let Some((_, outputs)) = stacks.describe(&spec.name).await? else {
            println!("{} ({}): not there", spec.name, spec.region);
            continue;
        };
        let region = ctx.aws.region(&spec.region);
        let emptied = match spec.template {
            Template::Region => empty_repository(&region.ecr, &format!("tandem-{}-app", ctx.config.env)).await,
            Template::Bootstrap => match outputs.get("ArtifactBucketName") {
                Some(bucket) => empty_bucket(&region.s3, bucket).await,
                None => Ok(0),
            },
            Template::Global => Ok(0),
        };
        match emptied {
            Ok(0) => {}
            Ok(n) => println!("{} ({}): emptied {n} object(s)", spec.name, spec.region),
            Err(e) => errors.push(format!("{} in {}: {e}", spec.name, spec.region)),
        }
        println!("{} ({}): deleting", spec.name, spec.region);
        if let Err(e) = stacks.delete(&spec.name).await {
            errors.push(e.to_string());
        }
    }
    let mut left = Vec::new();
    for spec in &plan {
        if let Some((status, _)) = stacks_for(ctx, spec).describe(&spec.name).await? {
            left.push(format!("{} in {} ({status})", spec.name, spec.region));
        }
    }
    if !left.is_empty() {
        anyhow::bail!("left behind: {}; first errors: {}", left.join(", "), errors.join("; "));
    }
    println!(
        "destroyed: nothing of tandem-{} is left in {}",
        ctx.config.env,
        ctx.config.regions.keys().cloned().collect::<Vec<_>>().join(" or ")
    );
    Ok(())
}

/// Deletes every version of every object; returns how many.
async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        let listed = match s3.list_object_versions().bucket(bucket).send().await {
            Ok(listed) => listed,
            Err(e) if error_text(&e).contains("NoSuchBucket") => return Ok(deleted),
            Err(e) => anyhow::bail!("listing s3://{bucket}: {}", error_text(&e)),
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
        if ids.is_empty() {
            return Ok(deleted);
        }
        deleted += ids.len();
        let delete = Delete::builder().set_objects(Some(ids)).quiet(true).build()?;
        s3.delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("emptying s3://{bucket}: {}", error_text(&e)))?;
    }
}

/// Deletes every image; returns how many.
async fn empty_repository(ecr: &aws_sdk_ecr::Client, repository: &str) -> anyhow::Result<usize> {
    let listed = match ecr.list_images().repository_name(repository).send().await {
        Ok(listed) => listed,
        Err(e) if error_text(&e).contains("RepositoryNotFound") => return Ok(0),
        Err(e) => anyhow::bail!("listing {repository}: {}", error_text(&e)),
    };
    let ids: Vec<ImageIdentifier> = listed.image_ids().to_vec();
    if ids.is_empty() {
        return Ok(0);
    }
    let n = ids.len();
    ecr.batch_delete_image()
        .repository_name(repository)
        .set_image_ids(Some(ids))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("emptying {repository}: {}", error_text(&e)))?;
    Ok(n)
}
