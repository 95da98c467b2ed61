//! A region outage on the local AWS: the fault proxy in front of it answers
//! every call signed for the region with 503, as a region that is down
//! does (its rule matches the region in the request's signature, so the
//! Lambdas', the apps' and the CLI's own calls all fail alike).

use super::http::Http;
use serde_json::json;

/// The proxy's control API, beside the local AWS's address.
fn rules_url(endpoint: &str) -> String {
    format!("{}/_microburst/rules", endpoint.trim_end_matches('/'))
}

/// Checks that the fault proxy is in front of the local AWS at `endpoint`.
pub(crate) async fn check_proxy(http: &Http, endpoint: &str) -> anyhow::Result<()> {
    let url = format!("{}/_microburst/health", endpoint.trim_end_matches('/'));
    match http.send(http::Method::GET, &url, String::new()).await {
        Ok((200, _)) => Ok(()),
        other => anyhow::bail!(
            "the drill's outage needs the fault proxy in front of the local AWS, and {url} answered {other:?}: \
             run `make local-down`, then `make drill ENV=local` (it starts both)"
        ),
    }
}

/// The rules that make `region` dark: every service, every call signed for it.
pub(crate) fn dark(region: &str) -> serde_json::Value {
    json!([{"service": "*", "region": region, "error": {"code": "ServiceUnavailable", "status": 503}}])
}

/// Replaces the proxy's rules with `rules` (`[]` lifts every fault).
pub(crate) async fn set_rules(http: &Http, endpoint: &str, rules: &serde_json::Value) -> anyhow::Result<()> {
    match http
        .send(http::Method::POST, &rules_url(endpoint), rules.to_string())
        .await
    {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        other => anyhow::bail!("the fault proxy refused the rules {rules}: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dark_region_matches_by_the_signatures_region_and_nothing_unsigned() {
        let rules = dark("us-east-1");
        assert_eq!(rules[0]["region"], "us-east-1");
        assert_eq!(rules[0]["error"]["status"], 503);
        assert_eq!(
            rules_url("http://127.0.0.1:4566/"),
            "http://127.0.0.1:4566/_microburst/rules"
        );
    }
}
