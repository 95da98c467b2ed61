//! Matching parameter values against a CloudFormation `AllowedPattern`,
//! with the `regex-lite` crate.

use regex_lite::Regex;

use crate::TemplateError;

/// Whether `input` matches a CloudFormation `AllowedPattern`.
///
/// CloudFormation matches the pattern against the whole value (as Java's
/// `String.matches` does), so the pattern is anchored at both ends whether
/// or not it starts with `^` and ends with `$`: `a|b` accepts `a` and `b`
/// but not `ab`. The syntax is `regex-lite`'s, which covers what parameter
/// patterns use (literals, `.`, `\d`/`\w`/`\s` and their negations, classes,
/// groups, alternation, and the quantifiers `?`, `*`, `+`, `{n}`, `{n,}`,
/// `{n,m}`); its `\d`, `\w` and `\s` are ASCII-only, as Java's are by default.
///
/// A pattern that does not compile (or that only compiles once anchored,
/// such as `a)|(b`) is an error naming the pattern, not a silent mismatch.
pub fn pattern_matches(pattern: &str, input: &str) -> Result<bool, TemplateError> {
    let invalid = |e: regex_lite::Error| TemplateError(format!("pattern {pattern}: {e}"));
    // Compiled on its own first, so that wrapping it in a group cannot make
    // an unbalanced pattern such as `a)|(b` valid.
    Regex::new(pattern).map_err(invalid)?;
    let whole = Regex::new(&format!("^(?:{pattern})$")).map_err(invalid)?;
    Ok(whole.is_match(input))
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    fn matches(pattern: &str, input: &str) -> bool {
        pattern_matches(pattern, input).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_vpc_cidr_pattern_matches_whole_values() {
        let p = r"^10\.\d{1,3}\.0\.0/16$";
        assert!(matches(p, "10.0.0.0/16"));
        assert!(matches(p, "10.123.0.0/16"));
        assert!(!matches(p, "10.0.0.0/24"));
        assert!(!matches(p, "10.1234.0.0/16"));
        assert!(!matches(p, "110.0.0.0/16"));
        assert!(!matches(p, "10.0.0.0/16\n"), "no trailing newline");
        assert!(!matches(p, "10x0.0.0/16"), "`\\.` is a literal dot");
    }

    #[test]
    fn unanchored_patterns_still_match_the_whole_value() {
        assert!(matches("[a-z][a-z0-9-]*", "tandem-dev"));
        assert!(!matches("[a-z][a-z0-9-]*", "Tandem"));
        assert!(!matches("[a-z]+", "abc1"), "a match of a prefix is not enough");
        assert!(!matches("[0-9]+", "x1"), "a match of a suffix is not enough");
        assert!(!matches(r"\d+", ""));
        assert!(matches(r"\d*", ""));
        assert!(matches(r"[^\s]+x?", "abc"));
        assert!(!matches(r"[^\s]+", "a b"));
        assert!(matches("a.c", "abc"));
        assert!(!matches("a.c", "a\nc"), "`.` does not match a newline");
        assert!(!matches(r"\d{2,}", "1"));
        assert!(matches(r"\d{2,}", "12345"));
        assert!(matches(r"^\d{2,5}$", "8080"));
        assert!(!matches(r"^\d{2,5}$", "808080"));
    }

    #[test]
    fn groups_and_alternation_are_anchored_as_a_whole() {
        assert!(matches("(a|b)", "a"));
        assert!(matches("a|b", "b"));
        assert!(
            !matches("a|b", "ab"),
            "`^a|b$` would accept this; the whole value must match"
        );
        assert!(!matches("^a|b$", "ab"));
        assert!(matches("(dev|prod)-[0-9]+", "prod-12"));
        assert!(!matches("(dev|prod)-[0-9]+", "stage-12"));
    }

    #[test]
    fn an_invalid_pattern_is_an_error_that_names_it() {
        for bad in ["(a", "[a-", r"a\", "a{2,1}", "*a", "a)|(b"] {
            let e = pattern_matches(bad, "a").expect_err(bad);
            assert!(
                e.to_string().starts_with(&format!("pattern {bad}: ")),
                "the error names the pattern: {e}"
            );
        }
    }
}
