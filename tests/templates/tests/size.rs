//! Every template can be sent as the CLI sends it (without comment lines)
//! and means exactly the same as the file. The bootstrap stack makes the
//! artifact bucket, so it must fit inline; the others may go through that
//! bucket (`TemplateURL`), up to CloudFormation's 1,000,000 bytes.

use tandem_core::template::{MAX_TEMPLATE_BODY, MAX_TEMPLATE_URL_BODY, strip_comments};
use template_tests::{Template, repo_root};

#[test]
fn every_template_as_sent_fits_and_means_the_same() {
    for (name, limit) in [
        ("bootstrap.yaml", MAX_TEMPLATE_BODY),
        ("region.yaml", MAX_TEMPLATE_URL_BODY),
        ("global.yaml", MAX_TEMPLATE_URL_BODY),
        ("github-oidc.yaml", MAX_TEMPLATE_BODY),
    ] {
        let text = std::fs::read_to_string(repo_root().join("cfn").join(name)).unwrap();
        let sent = strip_comments(&text);
        assert!(
            sent.len() <= limit,
            "{name} is {} bytes as sent, over CloudFormation's {limit}",
            sent.len()
        );
        let original = Template::from_yaml_str(name, &text).unwrap();
        let stripped = Template::from_yaml_str(name, &sent).unwrap();
        assert_eq!(
            original.json(),
            stripped.json(),
            "{name}: stripping comments changed a value"
        );
        assert!(
            sent.len() < text.len() || !text.contains("\n#"),
            "{name}: nothing was stripped"
        );
    }
}

/// A person deploys cfn/github-oidc.yaml once with `aws cloudformation
/// deploy`, which sends the file as it is, comments and all, inline.
#[test]
fn the_ci_template_fits_inline_as_it_is() {
    let text = std::fs::read_to_string(repo_root().join("cfn/github-oidc.yaml")).unwrap();
    assert!(
        text.len() <= MAX_TEMPLATE_BODY,
        "github-oidc.yaml is {} bytes, over CloudFormation's {MAX_TEMPLATE_BODY} inline",
        text.len()
    );
}
