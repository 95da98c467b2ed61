//! Every case of each decision, enumerated.

use super::*;

/// Version ids and their stages, as `VersionIdsToStages` lists them.
type Versions<'a> = &'a [(&'a str, &'a [&'a str])];

fn seen(enabled: Option<bool>, versions: Versions) -> Observed {
    Observed {
        rotation_enabled: enabled,
        versions: (versions.iter())
            .map(|(id, stages)| ((*id).to_owned(), stages.iter().map(|s| (*s).to_owned()).collect()))
            .collect(),
    }
}

/// Every subset of the three stages.
fn subsets() -> Vec<Vec<&'static str>> {
    (0..8u8)
        .map(|bits| {
            [PENDING, CURRENT, PREVIOUS]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, s)| s)
                .collect()
        })
        .collect()
}

#[test]
fn the_gate_for_every_flag_and_every_set_of_stages_of_the_token() {
    for enabled in [None, Some(true), Some(false)] {
        // The token absent from the versions, then with each set of stages.
        let mut cases: Vec<Option<Vec<&str>>> = vec![None];
        cases.extend(subsets().into_iter().map(Some));
        for stages in cases {
            let mut versions: Vec<(&str, &[&str])> = vec![("other", &[PREVIOUS])];
            if let Some(stages) = &stages {
                versions.push(("tok", stages.as_slice()));
            }
            let got = gate("s", "tok", &seen(enabled, &versions));
            let has = |stage| stages.as_ref().is_some_and(|s| s.contains(&stage));
            let want = if enabled == Some(false) {
                "off"
            } else if stages.is_none() {
                "unknown"
            } else if has(CURRENT) {
                "current"
            } else if has(PENDING) {
                "run"
            } else {
                "not pending"
            };
            let got_name = match &got {
                Err(Refusal::RotationOff { .. }) => "off",
                Err(Refusal::UnknownVersion { .. }) => "unknown",
                Err(Refusal::NotPending { .. }) => "not pending",
                Ok(Gate::AlreadyCurrent) => "current",
                Ok(Gate::Run) => "run",
            };
            assert_eq!(got_name, want, "enabled {enabled:?}, stages {stages:?}");
            if let Err(refusal) = got {
                let text = refusal.to_string();
                assert!(!text.contains('\n') && text.contains("aws secretsmanager"), "{text}");
            }
        }
    }
}

#[test]
fn a_refusal_names_the_field_and_the_token() {
    let e = gate("arn:s", "tok-9", &seen(Some(true), &[("tok-9", &[PREVIOUS])])).unwrap_err();
    assert!(
        e.to_string().contains("tok-9") && e.to_string().contains("[AWSPREVIOUS]"),
        "{e}"
    );
    let e = gate("arn:s", "tok-9", &seen(None, &[])).unwrap_err();
    assert!(e.to_string().contains("VersionIdsToStages"), "{e}");
    let e = gate("arn:s", "tok-9", &seen(Some(false), &[("tok-9", &[PENDING])])).unwrap_err();
    assert!(e.to_string().contains("RotationEnabled"), "{e}");
}

#[test]
fn create_puts_a_value_only_when_there_is_none() {
    assert_eq!(create_action(true), CreateAction::Nothing);
    assert_eq!(create_action(false), CreateAction::PutPending);
}

/// setSecret run to its end for every answer of each stage's login, with
/// and without an AWSPREVIOUS version: what it ends with, and what it tried.
#[test]
fn set_for_every_answer_of_every_login() {
    let answers = [Login::Works, Login::Refused];
    for pending in answers {
        for current in answers {
            for previous in answers {
                for has_previous in [false, true] {
                    let answer = |stage| match stage {
                        PENDING => pending,
                        CURRENT => current,
                        _ => previous,
                    };
                    let mut tried: Vec<(&str, Login)> = Vec::new();
                    let end = loop {
                        match next_for_set(&tried, has_previous) {
                            SetAction::TryLogin(stage) => {
                                assert!(tried.len() < 3, "a fourth login: {tried:?}");
                                assert!(stage != PREVIOUS || has_previous, "AWSPREVIOUS without one");
                                tried.push((stage, answer(stage)));
                            }
                            other => break other,
                        }
                    };
                    let want = if pending == Login::Works {
                        SetAction::AlreadySet
                    } else if current == Login::Works {
                        SetAction::ChangePassword(CURRENT)
                    } else if has_previous && previous == Login::Works {
                        SetAction::ChangePassword(PREVIOUS)
                    } else {
                        SetAction::NoPasswordWorks
                    };
                    let case = format!("{pending:?} {current:?} {previous:?} previous:{has_previous}");
                    assert_eq!(end, want, "{case}");
                    let order: Vec<&str> = tried.iter().map(|(s, _)| *s).collect();
                    assert_eq!(order, [PENDING, CURRENT, PREVIOUS][..order.len()], "{case}");
                }
            }
        }
    }
}

#[test]
fn finish_moves_current_from_whichever_version_has_it() {
    let cases: [(Versions, FinishAction); 4] = [
        (
            &[("tok", &[CURRENT, PENDING]), ("old", &[PREVIOUS])],
            FinishAction::Nothing,
        ),
        (
            &[("tok", &[PENDING]), ("old", &[CURRENT])],
            FinishAction::MoveCurrent {
                from: Some("old".into()),
            },
        ),
        (
            &[("tok", &[PENDING]), ("old", &[CURRENT]), ("older", &[PREVIOUS])],
            FinishAction::MoveCurrent {
                from: Some("old".into()),
            },
        ),
        (&[("tok", &[PENDING])], FinishAction::MoveCurrent { from: None }),
    ];
    for (versions, want) in cases {
        assert_eq!(finish_action("tok", &seen(Some(true), versions)), want, "{versions:?}");
    }
}

#[test]
fn the_password_statement_for_each_server() {
    let q = "'pw'";
    for (version, want) in [
        ("10.11.19-MariaDB-0+deb12u1", "SET PASSWORD = PASSWORD('pw')"),
        ("11.4.2-MariaDB", "SET PASSWORD = PASSWORD('pw')"),
        ("5.5.5-10.6.16-MariaDB-log", "SET PASSWORD = PASSWORD('pw')"),
        ("8.4.3", "SET PASSWORD = 'pw'"),
        ("8.0.39", "SET PASSWORD = 'pw'"),
        ("9.1.0", "SET PASSWORD = 'pw'"),
        ("5.7.44-log", "SET PASSWORD = PASSWORD('pw')"),
        ("", "SET PASSWORD = PASSWORD('pw')"),
    ] {
        assert_eq!(set_password_statement(version, q), want, "{version}");
    }
}
