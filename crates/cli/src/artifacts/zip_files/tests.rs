//! Tests of the zip-files declaration, the zip's members, the key, and the
//! downloads with an injected fetcher (no network).

use super::*;
use std::cell::RefCell;

const BUNDLE_URL: &str = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/// A certificate that rustls reads (a self-signed test root, made once with openssl).
const CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUENnyZu6lMTrYRV/OrYeMgqgQuhkwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQdGFuZGVtIHRlc3Qgcm9vdDAgFw0yNjEyMDcxMTQ5NTBaGA8y
MTI2MTExMzExNDk1MFowGzEZMBcGA1UEAwwQdGFuZGVtIHRlc3Qgcm9vdDBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABPWsbpngcstRbgn34WOGuW7gYb8zCjHv+xAe
6Eue1FZwYX5obaP8tZtDYwleR9eARUBtrWe/OFr42uCz9ZAJWf2jUzBRMB0GA1Ud
DgQWBBRqdsgDxA4lwPNKsxTQEddABx0XizAfBgNVHSMEGDAWgBRqdsgDxA4lwPNK
sxTQEddABx0XizAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEPW
Y0C1RaOTUP8npy9TC/kWJe4yAi9yBrxeJNoSgCxyAiEAwvZKafV/aLHCPJH/CNlC
p6dVJN88rQUm60Mq9xsbxsA=
-----END CERTIFICATE-----
";

/// The manifest of a function with `metadata` appended.
fn manifest(metadata: &str) -> String {
    format!("[package]\nname = \"db-rotation\"\nversion = \"0.1.0\"\n\n{metadata}")
}

/// Answers every URL with `answer` and records what it was asked.
struct Answers {
    answer: Result<Vec<u8>, String>,
    asked: RefCell<Vec<String>>,
}

impl Answers {
    fn new(answer: Result<&[u8], &str>) -> Self {
        Self {
            answer: answer.map(<[u8]>::to_vec).map_err(str::to_owned),
            asked: RefCell::new(Vec::new()),
        }
    }
}

impl Fetch for Answers {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        self.asked.borrow_mut().push(url.to_owned());
        self.answer.clone()
    }
}

/// A repository root (its own for each `test`) holding
/// `functions/db-rotation/Cargo.toml` with `metadata`.
fn root_with(test: &str, metadata: &str) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("tandem-cli-zip-files-{}-{test}", std::process::id()));
    std::fs::create_dir_all(root.join("functions/db-rotation")).unwrap();
    std::fs::write(root.join("functions/db-rotation/Cargo.toml"), manifest(metadata)).unwrap();
    root
}

const DECLARED: &str = "[package.metadata.tandem]\nzip-files = [{ name = \"rds-global-bundle.pem\", url = \
                        \"https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem\" }]\n";

#[test]
fn a_function_without_metadata_declares_nothing() {
    assert_eq!(declared(&manifest("")), Ok(vec![]));
    assert_eq!(declared(&manifest("[package.metadata.other]\nx = 1\n")), Ok(vec![]));
    assert_eq!(declared(&manifest("[package.metadata.tandem]\n")), Ok(vec![]));
}

#[test]
fn the_declared_files_are_read() {
    assert_eq!(
        declared(&manifest(DECLARED)),
        Ok(vec![ZipFile {
            name: "rds-global-bundle.pem".into(),
            url: BUNDLE_URL.into()
        }])
    );
}

#[test]
fn db_rotation_declares_the_rds_global_bundle() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions/db-rotation/Cargo.toml");
    let files = declared(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        files,
        vec![ZipFile {
            name: "rds-global-bundle.pem".into(),
            url: BUNDLE_URL.into()
        }]
    );
}

#[test]
fn the_other_functions_declare_nothing() {
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions");
    for entry in std::fs::read_dir(functions).unwrap() {
        let dir = entry.unwrap().path();
        if dir.ends_with("db-rotation") || !dir.join("Cargo.toml").exists() {
            continue;
        }
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert_eq!(declared(&text), Ok(vec![]), "{}", dir.display());
    }
}

#[test]
fn a_bad_declaration_is_refused_saying_why() {
    for (metadata, why) in [
        (
            "zip-files = [{ name = \"../etc/x.pem\", url = \"https://a.example/x.pem\" }]",
            "is not a plain file name",
        ),
        (
            "zip-files = [{ name = \"bootstrap\", url = \"https://a.example/x\" }]",
            "is not a plain file name ending in .pem",
        ),
        (
            "zip-files = [{ name = \".pem\", url = \"https://a.example/x\" }]",
            "is not a plain file name",
        ),
        (
            "zip-files = [{ name = \"x.pem\", url = \"http://a.example/x.pem\" }]",
            "which is not https://",
        ),
        (
            "zip-files = [{ name = \"x.pem\", url = \"https://a/x\" }, { name = \"x.pem\", url = \"https://b/x\" }]",
            "names x.pem twice",
        ),
        ("zip-files = [{ name = \"x.pem\" }]", "missing field `url`"),
        (
            "zip-files = [{ name = \"x.pem\", url = \"https://a/x\", mode = 1 }]",
            "unknown field `mode`",
        ),
    ] {
        let error = declared(&manifest(&format!("[package.metadata.tandem]\n{metadata}\n"))).unwrap_err();
        assert!(error.contains(why), "{metadata}: {error}");
    }
}

#[test]
fn the_aws_build_downloads_each_file_and_checks_it() {
    let root = root_with("aws", DECLARED);
    let fetcher = Answers::new(Ok(CERTIFICATE.as_bytes()));
    let files = for_build(&root, "db-rotation", FunctionBuild::Arm64Release, &fetcher).unwrap();
    assert_eq!(
        files,
        vec![Fetched {
            name: "rds-global-bundle.pem".into(),
            bytes: CERTIFICATE.as_bytes().to_vec()
        }]
    );
    assert_eq!(*fetcher.asked.borrow(), vec![BUNDLE_URL.to_owned()]);
}

#[test]
fn the_local_build_downloads_nothing() {
    let root = root_with("local", DECLARED);
    let fetcher = Answers::new(Ok(CERTIFICATE.as_bytes()));
    assert_eq!(
        for_build(&root, "db-rotation", FunctionBuild::HostDev, &fetcher).unwrap(),
        vec![]
    );
    assert!(fetcher.asked.borrow().is_empty());
}

#[test]
fn a_failed_download_stops_the_build_naming_the_function_url_and_fix() {
    let root = root_with("failed", DECLARED);
    let fetcher = Answers::new(Err("dns error: failed to lookup address information"));
    let error = for_build(&root, "db-rotation", FunctionBuild::Arm64Release, &fetcher)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "could not download rds-global-bundle.pem for db-rotation's zip from {BUNDLE_URL} (dns error: failed \
             to lookup address information): check that this machine reaches truststore.pki.rds.amazonaws.com \
             over HTTPS (the AWS build downloads it there), then build again"
        )
    );
}

#[test]
fn a_download_that_is_not_a_certificate_bundle_stops_the_build() {
    let root = root_with("not-pem", DECLARED);
    for body in [
        &b""[..],
        b"<html>captive portal</html>",
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n",
    ] {
        let fetcher = Answers::new(Ok(body));
        let error = for_build(&root, "db-rotation", FunctionBuild::Arm64Release, &fetcher)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!(
                "rds-global-bundle.pem downloaded for db-rotation's zip from {BUNDLE_URL} is not a PEM \
                 certificate bundle ("
            )),
            "{error}"
        );
        assert!(error.ends_with("then build again"), "{error}");
    }
}

#[test]
fn a_bad_declaration_stops_even_the_local_build() {
    let root = root_with(
        "bad",
        "[package.metadata.tandem]\nzip-files = [{ name = \"x\", url = \"https://a/x\" }]\n",
    );
    let fetcher = Answers::new(Ok(CERTIFICATE.as_bytes()));
    let error = for_build(&root, "db-rotation", FunctionBuild::HostDev, &fetcher)
        .unwrap_err()
        .to_string();
    assert!(error.contains("[package.metadata.tandem] cannot be used"), "{error}");
}

#[test]
fn the_zip_holds_the_bootstrap_then_each_file() {
    assert_eq!(members(&[]), vec!["bootstrap"]);
    let files = [
        Fetched {
            name: "a.pem".into(),
            bytes: vec![1],
        },
        Fetched {
            name: "b.pem".into(),
            bytes: vec![2],
        },
    ];
    assert_eq!(members(&files), vec!["bootstrap", "a.pem", "b.pem"]);
}

#[test]
fn the_key_covers_the_files() {
    let bundle = |bytes: &[u8]| {
        vec![Fetched {
            name: "rds-global-bundle.pem".into(),
            bytes: bytes.to_vec(),
        }]
    };
    // Without files, the key is the bootstrap's, as before.
    assert_eq!(
        content_key("db-rotation", b"", &[]),
        super::super::content_key("db-rotation", b"")
    );
    let with = content_key("db-rotation", b"binary", &bundle(b"one"));
    assert!(with.starts_with("db-rotation/") && with.ends_with(".zip"));
    assert_eq!(with.len(), "db-rotation/".len() + 16 + ".zip".len());
    assert_eq!(with, content_key("db-rotation", b"binary", &bundle(b"one")));
    assert_ne!(with, content_key("db-rotation", b"binary", &[]));
    assert_ne!(with, content_key("db-rotation", b"binary", &bundle(b"two")));
    assert_ne!(with, content_key("db-rotation", b"other", &bundle(b"one")));
    // The parts are length-prefixed: moving bytes between them is a new key.
    let renamed = vec![Fetched {
        name: "rds-global-bundle.pemo".into(),
        bytes: b"ne".to_vec(),
    }];
    assert_ne!(with, content_key("db-rotation", b"binary", &renamed));
}
