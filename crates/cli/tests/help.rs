//! The binary as an operator runs it.

use std::process::Command;

#[test]
fn help_names_the_tool_and_what_it_is_for() {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Usage: tandem"), "{text}");
    assert!(text.contains("two AWS regions"), "{text}");
}

#[test]
fn an_unknown_argument_is_refused_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument '--frobnicate'"));
}
