//! proptest strategies for the event parsers: arbitrary JSON values biased
//! toward the fields the functions look at, and sample events mutated as a
//! broken sender or a cut-off stream would.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// The keys the functions' parsers branch on, so that arbitrary objects
/// reach past the first check.
pub const KEYS: &[&str] = &[
    "RequestType",
    "ResponseURL",
    "StackId",
    "RequestId",
    "ResourceType",
    "LogicalResourceId",
    "PhysicalResourceId",
    "ResourceProperties",
    "OldResourceProperties",
    "ServiceTimeout",
    "TandemContinuation",
    "Request",
    "State",
    "StartedAt",
    "Hops",
    "DeploymentId",
    "LifecycleEventHookExecutionId",
    "executionDetails",
    "lifecycleStage",
    "Records",
    "Sns",
    "Message",
    "MessageAttributes",
    "alarmData",
    "state",
    "value",
    "detail-type",
    "detail",
    "alarmName",
    "deploymentId",
    "region",
    "action",
    "reason",
    "force",
    "dry_run",
];

/// Strings the parsers compare with, and others.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "Create", "Update", "Delete", "Custom::CrossRegionOutputs", "Custom::VpcPeering",
            "Custom::BlueGreenDeployment", "http://127.0.0.1:4566/x", "ALARM", "OK", "INSUFFICIENT_DATA",
            "CloudWatch Alarm State Change", "CodeDeploy Deployment State-change Notification",
            "Scheduled Event", "failover", "status", "FAILURE", "us-east-1", "", " ", "{", "[1,",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Any JSON value, up to a few levels deep, with objects keyed mostly by [`KEYS`].
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            4 => prop::sample::select(KEYS).prop_map(str::to_owned),
            1 => any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One of `samples`, mutated: cut short, a byte changed, a span removed or
/// repeated, or a value made deep; sometimes left whole.
pub fn mutated(samples: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let count = samples.len();
    (
        0..count,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..6u8,
    )
        .prop_map(move |(which, at, to, byte, how)| {
            let mut bytes = samples[which].clone();
            if bytes.is_empty() {
                return bytes;
            }
            let i = at.index(bytes.len());
            let j = to.index(bytes.len());
            let (lo, hi) = (i.min(j), i.max(j));
            match how {
                0 => bytes.truncate(i),
                1 => bytes[i] = byte,
                2 => {
                    bytes.drain(lo..hi);
                }
                3 => {
                    let span = bytes[lo..hi].to_vec();
                    bytes.splice(hi..hi, span);
                }
                4 => {
                    let deep = format!(
                        "{}{}",
                        "[".repeat(200 + usize::from(byte)),
                        "]".repeat(200 + usize::from(byte))
                    );
                    bytes.splice(i..i, deep.into_bytes());
                }
                _ => {}
            }
            bytes
        })
}

/// The files of `events/` whose names start with one of `prefixes`.
pub fn samples(prefixes: &[&str]) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            prefixes
                .iter()
                .any(|p| name.starts_with(p))
                .then(|| (name, std::fs::read(&path).unwrap()))
        })
        .collect();
    found.sort();
    assert!(
        !found.is_empty(),
        "no sample in events/ starts with one of {prefixes:?}"
    );
    found.into_iter().map(|(_, bytes)| bytes).collect()
}

/// Reads `bytes` as a function's `main` does (`Payload`) and, when they are
/// JSON, hands them to `parse`: never a panic, and an error is one line of at
/// most 1,000 characters. The check [`parser_properties!`](crate::parser_properties) runs.
pub fn parses_or_says_why_in_one_line<E: std::fmt::Display>(
    bytes: &[u8],
    parse: impl Fn(&Value) -> Result<(), E>,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let payload = tandem_core::payload::Payload::from_slice(bytes);
    if let Ok(value) = payload.to_value()
        && let Err(error) = parse(&value)
    {
        let message = error.to_string();
        proptest::prop_assert!(
            !message.contains('\n') && message.chars().count() <= 1000,
            "{}",
            message
        );
    }
    Ok(())
}

/// The three properties of an event parser, as proptest tests: any JSON
/// value, any bytes, and the samples in `events/` whose names start with one
/// of `$prefixes`, mutated; each goes through `$check` (a
/// `fn(&[u8]) -> Result<(), TestCaseError>`, such as one built on
/// [`parses_or_says_why_in_one_line`]). The caller depends on `proptest`.
#[macro_export]
macro_rules! parser_properties {
    ($check:path, $prefixes:expr) => {
        proptest::proptest! {
            /// Any JSON value, biased to the fields the parsers branch on.
            #[test]
            fn the_parser_takes_any_json_value(value in $crate::arbitrary::json()) {
                $check(value.to_string().as_bytes())?;
            }

            /// Any bytes at all.
            #[test]
            fn the_parser_takes_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
                $check(&bytes)?;
            }

            /// The function's samples, mutated.
            #[test]
            fn the_parser_takes_mutated_samples(bytes in $crate::arbitrary::mutated($crate::arbitrary::samples($prefixes))) {
                $check(&bytes)?;
            }
        }
    };
}
