//! Files a function ships in its zip beside `bootstrap`, as AWS's own
//! rotation functions ship the RDS certificate bundle. A function declares
//! them in its Cargo.toml:
//!
//! ```toml
//! [package.metadata.tandem]
//! zip-files = [{ name = "rds-global-bundle.pem", url = "https://…/global-bundle.pem" }]
//! ```
//!
//! The AWS build downloads each over HTTPS (certificates checked, through
//! [`tandem_core::download`]), checks that it is a bundle of PEM
//! certificates (the only kind of file declared so far), and puts it at the
//! zip's root (`/var/task/<name>` in Lambda); the artifact key covers it, so
//! a new bundle is a new upload. The local build (`host-dev`) ships none:
//! the local AWS runs no function that reads one.

use crate::config::FunctionBuild;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// One file a function declares for its zip.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ZipFile {
    /// Its name at the zip's root: letters, digits, `.`, `-` and `_`, ending in `.pem`.
    pub(crate) name: String,
    /// Where the build downloads it: an `https://` URL.
    pub(crate) url: String,
}

/// A declared file with the bytes the build downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fetched {
    /// Its name at the zip's root.
    pub(crate) name: String,
    /// Its content.
    pub(crate) bytes: Vec<u8>,
}

/// Downloads a URL's bytes; a trait so that the tests answer in place of the network.
pub(crate) trait Fetch {
    /// The body at `url`, or why there is none (one phrase).
    fn fetch(&self, url: &str) -> Result<Vec<u8>, String>;
}

/// The real download: HTTPS through tandem-core's client, on its own thread
/// and runtime (the build is synchronous, and may run inside the CLI's runtime).
pub(crate) struct Https;

/// How long one download may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The largest file accepted (the RDS global bundle is about 160 KB).
const LIMIT: usize = 8 << 20;

impl Fetch for Https {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| format!("no runtime for the download ({e})"))?
                        .block_on(tandem_core::download::get_https(url, TIMEOUT, LIMIT))
                })
                .join()
                .unwrap_or_else(|_| Err("the download's thread panicked".into()))
        })
    }
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    tandem: Option<Tandem>,
}

#[derive(Deserialize)]
struct Tandem {
    #[serde(rename = "zip-files", default)]
    zip_files: Vec<ZipFile>,
}

/// The files that a function's Cargo.toml (`manifest`, its text) declares
/// under `[package.metadata.tandem]` `zip-files`, checked; none if it declares none.
pub(crate) fn declared(manifest: &str) -> Result<Vec<ZipFile>, String> {
    let parsed: Manifest = toml::from_str(manifest).map_err(|e| e.message().to_owned())?;
    let files = (parsed.package.and_then(|p| p.metadata))
        .and_then(|m| m.tandem)
        .map(|t| t.zip_files)
        .unwrap_or_default();
    for (n, file) in files.iter().enumerate() {
        let plain = !file.name.is_empty()
            && !file.name.starts_with('.')
            && (file.name.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !plain || !file.name.ends_with(".pem") {
            return Err(format!(
                "zip-files name {:?} is not a plain file name ending in .pem (letters, digits, '.', '-', '_'; \
                 a PEM certificate bundle is the only kind of file a zip takes)",
                file.name
            ));
        }
        if !file.url.starts_with("https://") {
            return Err(format!(
                "zip-files {} has URL {:?}, which is not https://",
                file.name, file.url
            ));
        }
        if files[..n].iter().any(|f| f.name == file.name) {
            return Err(format!("zip-files names {} twice", file.name));
        }
    }
    Ok(files)
}

/// The files `function`'s zip takes beside `bootstrap` in a `build`: for
/// the AWS build, each declared file downloaded with `fetcher` and checked;
/// for the local build, none (the declaration is still checked).
pub(crate) fn for_build(
    root: &Path,
    function: &str,
    build: FunctionBuild,
    fetcher: &dyn Fetch,
) -> anyhow::Result<Vec<Fetched>> {
    let path = root.join("functions").join(function).join("Cargo.toml");
    let manifest = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "could not read {} ({e}): build from the repository's root",
            path.display()
        )
    })?;
    let files = declared(&manifest).map_err(|why| {
        anyhow::anyhow!(
            "{}'s [package.metadata.tandem] cannot be used ({why}): correct it, then build again",
            path.display()
        )
    })?;
    if build == FunctionBuild::HostDev {
        return Ok(Vec::new());
    }
    files
        .into_iter()
        .map(|file| fetch_one(function, file, fetcher))
        .collect()
}

/// `file` downloaded for `function`'s zip and checked as a PEM certificate bundle.
fn fetch_one(function: &str, file: ZipFile, fetcher: &dyn Fetch) -> anyhow::Result<Fetched> {
    let host = tandem_core::webhook::host_of(&file.url);
    let bytes = fetcher.fetch(&file.url).map_err(|why| {
        anyhow::anyhow!(
            "could not download {} for {function}'s zip from {} ({why}): check that this machine reaches \
             {host} over HTTPS (the AWS build downloads it there), then build again",
            file.name,
            file.url
        )
    })?;
    tandem_core::download::certificate_bundle(&bytes).map_err(|why| {
        anyhow::anyhow!(
            "{} downloaded for {function}'s zip from {} is not a PEM certificate bundle ({why}): check the \
             URL in functions/{function}/Cargo.toml's zip-files, then build again",
            file.name,
            file.url
        )
    })?;
    Ok(Fetched { name: file.name, bytes })
}

/// What the zip holds, in order: `bootstrap`, then each file by name.
pub(crate) fn members(files: &[Fetched]) -> Vec<&str> {
    std::iter::once("bootstrap")
        .chain(files.iter().map(|f| f.name.as_str()))
        .collect()
}

/// The S3 key of a zip holding `bootstrap` and `files`:
/// `<function>/<first 16 hex digits of a SHA-256>.zip`. With no files, the
/// hash is the bootstrap's (the keys of functions without files stay as
/// they were); with files, it covers the bootstrap and each file's name and
/// bytes, each prefixed with its length.
pub(crate) fn content_key(function: &str, bootstrap: &[u8], files: &[Fetched]) -> String {
    if files.is_empty() {
        return super::content_key(function, bootstrap);
    }
    let mut hasher = Sha256::new();
    for part in std::iter::once(bootstrap).chain(files.iter().flat_map(|f| [f.name.as_bytes(), &f.bytes[..]])) {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{function}/{hex}.zip")
}

#[cfg(test)]
mod tests;
