//! Readable text for reasons and logs: values quoted short, so that a huge
//! value never pushes the cause and the fix out of a message.

/// Makes a type's `Debug` print its `Display` sentence. The Lambda runtime
/// logs a handler's error, and a function's `main` its start-up error, with
/// `{:?}`: with this, the log reads as the cause and the fix, not as a Rust
/// value (`Action("…")`).
#[macro_export]
macro_rules! debug_as_display {
    ($type:ty) => {
        impl ::std::fmt::Debug for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(self, f)
            }
        }
    };
}

/// Values longer than this are shortened where they are quoted.
pub const MAX_QUOTED_CHARS: usize = 64;

/// `value` in double quotes, as `{:?}` would print it, shortened to its first
/// characters and its length when it is long:
/// `"xxxxxxxx…" (200000 characters)`.
pub fn quote(value: &str) -> String {
    let count = value.chars().count();
    if count <= MAX_QUOTED_CHARS {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(MAX_QUOTED_CHARS / 2).collect();
    format!("{:?} ({count} characters)", format!("{head}…"))
}

/// `text` with every long double-quoted or backquoted span, and every long
/// unbroken run of characters, shortened as [`quote`] does. For messages that
/// quote values they did not build themselves (serde's, AWS's).
pub fn shorten_values(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len().min(4096));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c == '"' || c == '`')
            && let Some(len) = span_len(&chars[i + 1..], c)
        {
            let inner: String = chars[i + 1..i + 1 + len].iter().collect();
            if len > MAX_QUOTED_CHARS {
                out.push_str(&shortened(&inner, c));
            } else {
                out.push(c);
                out.push_str(&inner);
                out.push(c);
            }
            i += len + 2;
            continue;
        }
        let run = (chars[i..].iter())
            .take_while(|c| !c.is_whitespace() && **c != '"' && **c != '`')
            .count()
            .max(1);
        if run > 2 * MAX_QUOTED_CHARS {
            let word: String = chars[i..i + run].iter().collect();
            out.push_str(&shortened(&word, '"'));
            i += run;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The length of the span up to the closing `quote` (a backslash escapes one
/// character), or `None` when it never closes.
fn span_len(rest: &[char], quote: char) -> Option<usize> {
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            '\\' => i += 2,
            c if c == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn shortened(inner: &str, quote: char) -> String {
    let count = inner.chars().count();
    let head: String = inner.chars().take(MAX_QUOTED_CHARS / 2).collect();
    format!("{quote}{head}…{quote} ({count} characters)")
}

/// What kind of JSON value `value` is, as a sentence says it ("an array").
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(thiserror::Error)]
    enum Failed {
        #[error("could not stop {0} (AccessDenied): grant codedeploy:StopDeployment")]
        Action(String),
    }
    crate::debug_as_display!(Failed);

    #[test]
    fn debug_prints_the_sentence_not_the_value() {
        let e = Failed::Action("d-1".into());
        assert_eq!(
            format!("{e:?}"),
            "could not stop d-1 (AccessDenied): grant codedeploy:StopDeployment"
        );
    }

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quote("us-east-2"), "\"us-east-2\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn long_values_keep_their_start_and_say_their_length() {
        let q = quote(&"x".repeat(200_000));
        assert!(q.starts_with("\"xxxx"), "{q}");
        assert!(q.ends_with("…\" (200000 characters)"), "{q}");
        assert!(q.len() < 80, "{q}");
    }

    #[test]
    fn long_spans_inside_a_message_are_shortened_and_the_rest_is_kept() {
        let long = "y".repeat(10_000);
        for message in [
            format!("property `StackName`: {long:?} is not a stack name: use at most 128 characters"),
            format!("invalid value: `{long}`, expected a string: use at most 128 characters"),
            format!("the value {long} is bad: use at most 128 characters"),
        ] {
            let short = shorten_values(&message);
            assert!(short.len() < 250, "{short}");
            assert!(short.contains("(10000 characters)"), "{short}");
            assert!(short.ends_with("use at most 128 characters"), "{short}");
        }
    }

    #[test]
    fn a_long_value_inside_json_is_shortened_alone() {
        let json = format!("{{\"Name\":\"a\",\"Blob\":\"{}\",\"Last\":\"z\"}}", "b".repeat(1000));
        let short = shorten_values(&json);
        assert_eq!(
            short,
            "{\"Name\":\"a\",\"Blob\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb…\" (1000 characters),\"Last\":\"z\"}"
        );
    }

    #[test]
    fn ordinary_messages_pass_unchanged() {
        for message in [
            "property `Region`: \"us-east\" is not an AWS region name; use one such as \"us-east-2\"",
            "an unclosed \" quote stays",
            "",
        ] {
            assert_eq!(shorten_values(message), message);
        }
    }
}
