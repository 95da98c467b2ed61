//! Container image references, as ECR takes them.

/// The rule an ECR image tag follows, for error messages.
pub const IMAGE_TAG_RULE: &str = "1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'";

/// Whether `tag` is a valid ECR image tag: `^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`.
pub fn is_image_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok && tag.len() <= 128 && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_follow_the_registry_rules() {
        for good in ["v1", "1.2.3", "abc_DEF-9", "_x", &"a".repeat(128)] {
            assert!(is_image_tag(good), "{good}");
        }
        for bad in ["", ".x", "-x", "a/b", "a b", "a:b", "ä", &"a".repeat(129)] {
            assert!(!is_image_tag(bad), "{bad}");
        }
    }
}
