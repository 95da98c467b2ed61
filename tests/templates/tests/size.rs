//! Every template fits CloudFormation's inline limit as the CLI sends it
//! (without comment lines), and means exactly the same as the file.

use tandem_core::template::{MAX_TEMPLATE_BODY, strip_comments};
use template_tests::{Template, repo_root};

#[test]
fn every_template_as_sent_fits_inline_and_means_the_same() {
    for name in ["bootstrap.yaml", "region.yaml", "global.yaml"] {
        let text = std::fs::read_to_string(repo_root().join("cfn").join(name)).unwrap();
        let sent = strip_comments(&text);
        assert!(
            sent.len() <= MAX_TEMPLATE_BODY,
            "{name} is {} bytes as sent, over CloudFormation's {MAX_TEMPLATE_BODY}",
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
