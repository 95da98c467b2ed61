//! CloudFormation templates as the CLI sends them.
//!
//! CloudFormation takes at most [`MAX_TEMPLATE_BODY`] bytes inline (and
//! [`MAX_TEMPLATE_URL_BODY`] from S3). The
//! templates carry one comment per non-obvious choice for their readers;
//! [`strip_comments`] drops the comment-only lines before sending, which
//! changes no value (the template tests prove that each template means the
//! same with and without them, and fits).

/// The most `TemplateBody` may hold, in bytes (larger needs `TemplateURL`).
pub const MAX_TEMPLATE_BODY: usize = 51_200;
/// The most a template behind `TemplateURL` may hold, in bytes.
pub const MAX_TEMPLATE_URL_BODY: usize = 1_000_000;

/// `yaml` without its comment-only lines. Lines inside block scalars (`|`,
/// `>`), where a `#` is text, are kept as they are.
pub fn strip_comments(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    // The indentation of the key that opened the block scalar we are in.
    let mut block: Option<usize> = None;
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(opener) = block {
            if trimmed.is_empty() || indent > opener {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            block = None;
        }
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if opens_block_scalar(trimmed) {
            block = Some(indent);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Whether a line ends by opening a block scalar (`key: |`, `- >-`, `!Sub |`).
fn opens_block_scalar(trimmed: &str) -> bool {
    // A trailing comment after the indicator does not count as content.
    let code = match trimmed.find(" #") {
        Some(at) => &trimmed[..at],
        None => trimmed,
    };
    let last = code.trim_end().rsplit([' ', '\t']).next().unwrap_or_default();
    matches!(last, "|" | ">" | "|-" | ">-" | "|+" | ">+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_go_and_everything_else_stays() {
        let yaml = "# top\nA:\n  # why\n  B: 1   # kept: a trailing comment is part of its line\n\n  C: \"#not\"\n";
        assert_eq!(
            strip_comments(yaml),
            "A:\n  B: 1   # kept: a trailing comment is part of its line\n  C: \"#not\"\n"
        );
    }

    #[test]
    fn block_scalars_keep_their_hash_lines() {
        let yaml = "Body: !Sub |\n  line one\n  # a hash inside the text\n\n  last\nNext: 2\n# gone\n";
        assert_eq!(
            strip_comments(yaml),
            "Body: !Sub |\n  line one\n  # a hash inside the text\n\n  last\nNext: 2\n"
        );
        let folded = "- >-\n  # text\nx: 1\n";
        assert_eq!(strip_comments(folded), folded);
        assert!(!opens_block_scalar("Key: value # | not a block"));
        assert!(opens_block_scalar("Description: > # a note"));
    }
}
