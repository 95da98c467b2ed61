//! A function's settings from its environment, checked once at start: a
//! missing or malformed variable stops the function with one sentence that
//! names it and the fix.

/// A setting that is missing or malformed.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {reason}")]
pub struct SettingError {
    /// The environment variable.
    pub name: &'static str,
    /// What is wrong, and the fix.
    pub reason: String,
}

// The sentence, not the struct: a function's `main` that stops on a bad
// setting prints `Error: {:?}`, and the log must read as the fix.
crate::debug_as_display!(SettingError);

/// The variable `name` of the process environment, if it is set (and
/// Unicode): the lookup a function reads its settings through at start.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Settings read by `from_lookup` (a function's parser, which tests hand a
/// map) from the process environment.
pub fn from_env<T>(
    from_lookup: impl FnOnce(fn(&str) -> Option<String>) -> Result<T, SettingError>,
) -> Result<T, SettingError> {
    from_lookup(env_var)
}

/// The non-empty value of `name`, which must be `what`.
pub fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    what: &str,
) -> Result<String, SettingError> {
    lookup(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| SettingError {
            name,
            reason: format!("is not set; it must be {what} (the template sets it)"),
        })
}

/// The whole number in `name`, or `default` when it is unset or empty.
pub fn number<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, SettingError> {
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| SettingError {
            name,
            reason: format!(
                "is {}, which is not a whole number; give one, or unset it for the default",
                crate::text::quote(&v)
            ),
        }),
    }
}

/// The yes/no in `name` (`true`/`false`, `1`/`0`, `yes`/`no`); unset is `false`.
pub fn flag(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, SettingError> {
    match lookup(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(SettingError {
            name,
            reason: format!("is {}; use true or false", crate::text::quote(other)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(value: Option<&'static str>) -> impl Fn(&str) -> Option<String> {
        move |_| value.map(str::to_owned)
    }

    #[test]
    fn a_main_that_stops_on_it_prints_the_sentence_not_the_struct() {
        let e = required(&lookup(None), "TANDEM_ENV", "the environment").unwrap_err();
        let shown = format!("Error: {e:?}");
        assert_eq!(
            shown,
            "Error: setting TANDEM_ENV: is not set; it must be the environment (the template sets it)"
        );
    }

    #[test]
    fn a_required_setting_must_have_a_value() {
        assert_eq!(required(&lookup(Some("x")), "A", "a thing").unwrap(), "x");
        for missing in [None, Some(""), Some("  ")] {
            let e = required(&lookup(missing), "A", "a thing").unwrap_err();
            assert_eq!(
                e.to_string(),
                "setting A: is not set; it must be a thing (the template sets it)"
            );
        }
    }

    #[test]
    fn numbers_default_when_unset_and_name_a_bad_value() {
        assert_eq!(number(&lookup(None), "N", 7u64).unwrap(), 7);
        assert_eq!(number(&lookup(Some(" 12 ")), "N", 7u64).unwrap(), 12);
        let e = number(&lookup(Some("ten")), "N", 7u64).unwrap_err();
        assert_eq!(e.name, "N");
        assert!(
            e.reason.contains("\"ten\"") && e.reason.contains("not a whole number"),
            "{e}"
        );
    }

    #[test]
    fn flags_take_the_usual_spellings_and_refuse_others() {
        for (text, expected) in [
            (None, false),
            (Some("TRUE"), true),
            (Some("1"), true),
            (Some("no"), false),
        ] {
            assert_eq!(flag(&lookup(text), "F").unwrap(), expected, "{text:?}");
        }
        assert!(
            flag(&lookup(Some("maybe")), "F")
                .unwrap_err()
                .reason
                .contains("true or false")
        );
    }
}
