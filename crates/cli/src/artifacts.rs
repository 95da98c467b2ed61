//! Building the functions and uploading their zips under content-hash keys,
//! so that an unchanged function is neither re-uploaded nor redeployed.

use crate::config::FunctionBuild;
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use tandem_core::aws::{error_text, is_not_found};

mod zip_files;

/// One function, built and zipped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Artifact {
    /// The function's crate name (the directory under `functions/`).
    pub(crate) function: String,
    /// The S3 key: `<function>/<first 16 hex digits of a SHA-256>.zip`, of
    /// the bootstrap and the zip's other files ([`zip_files::content_key`]).
    pub(crate) key: String,
    /// The zip on disk.
    pub(crate) zip: PathBuf,
}

/// The key for a bootstrap binary's bytes.
pub(crate) fn content_key(function: &str, bootstrap: &[u8]) -> String {
    let digest = Sha256::digest(bootstrap);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{function}/{hex}.zip")
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command.status().with_context(|| format!("could not run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, or `target/` under `root`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Builds every function of [`crate::functions::FUNCTIONS`] as `build` says
/// and zips each as `bootstrap`.
pub(crate) fn build_all(root: &Path, build: FunctionBuild, env: &str) -> anyhow::Result<Vec<Artifact>> {
    let names: Vec<String> = crate::functions::names().map(str::to_owned).collect();
    let target = target_dir(root);
    let mut cargo = Command::new("cargo");
    cargo.current_dir(root);
    // Variables that `cargo run` sets for tandem itself would reach this
    // cargo's build scripts (ring's tracks CARGO_MANIFEST_DIR) and rebuild the
    // whole dependency tree: drop them.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&key.as_ref())
        {
            cargo.env_remove(key.as_ref());
        }
    }
    match build {
        FunctionBuild::HostDev => {
            cargo.args(["build", "--quiet"]);
        }
        FunctionBuild::Arm64Release => {
            cargo.args(["lambda", "build", "--release", "--arm64", "--output-format", "binary"]);
        }
    }
    for name in &names {
        cargo.args(["-p", name]);
    }
    crate::say!("building {} ({build:?})", names.join(", "));
    run(&mut cargo)?;
    let out_dir = root.join(".local").join("dist").join(env);
    names
        .into_iter()
        .map(|function| {
            let binary = match build {
                FunctionBuild::HostDev => target.join("debug").join(&function),
                FunctionBuild::Arm64Release => target.join("lambda").join(&function).join("bootstrap"),
            };
            let bytes = std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
            let files = zip_files::for_build(root, &function, build, &zip_files::Https)?;
            let key = zip_files::content_key(&function, &bytes, &files);
            let dir = out_dir.join(&function);
            std::fs::create_dir_all(&dir)?;
            let zip = dir.join(key.rsplit('/').next().unwrap_or("bootstrap.zip"));
            if !zip.exists() {
                std::fs::write(dir.join("bootstrap"), &bytes)?;
                std::fs::set_permissions(
                    dir.join("bootstrap"),
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )?;
                for file in &files {
                    std::fs::write(dir.join(&file.name), &file.bytes)?;
                }
                run(Command::new("zip")
                    .current_dir(&dir)
                    .args(["-q", "-X", "-j"])
                    .arg(&zip)
                    .args(zip_files::members(&files)))?;
            }
            Ok(Artifact { function, key, zip })
        })
        .collect()
}

/// Uploads `artifact` to `bucket` unless that key is there already. Returns
/// whether it uploaded.
pub(crate) async fn upload(s3: &aws_sdk_s3::Client, bucket: &str, artifact: &Artifact) -> anyhow::Result<bool> {
    let bytes = std::fs::read(&artifact.zip)
        .with_context(|| format!("could not read {} to upload it: build it again", artifact.zip.display()))?;
    upload_bytes(s3, bucket, &artifact.key, bytes, &artifact.zip.display().to_string()).await
}

/// Uploads `bytes` (from `what`, for the errors) to `bucket` under `key`
/// unless that key is there already; keys are content hashes, so a key that
/// is there holds these bytes. Returns whether it uploaded.
pub(crate) async fn upload_bytes(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
    what: &str,
) -> anyhow::Result<bool> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => return Ok(false),
        Err(e) if is_not_found(&e) => {}
        Err(e) => bail!(
            "could not check for s3://{bucket}/{key} ({}): check that the credentials may read the \
             artifact bucket (s3:GetObject and s3:ListBucket), then deploy again",
            error_text(&e)
        ),
    }
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "could not upload {what} to s3://{bucket}/{key} ({}): check the network and that the \
                 credentials may write to the artifact bucket (s3:PutObject), then deploy again",
                error_text(&e)
            )
        })?;
    Ok(true)
}

#[cfg(test)]
mod tests;
