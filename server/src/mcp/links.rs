//! Which resource links a tool may put in its result. A link is sent to the client, which may open
//! it; a tool must not be able to point the client at anything it likes (`file:///etc/passwd`, a
//! `javascript:` URI). Allowed: our own resources (`ide-agents:`), `http(s)` URLs whose origin the
//! tool's HTTP allow-list permits, and the schemes its configuration lists (`link_schemes`).
//! Anything else makes the result an error naming the URI's scheme.

use crate::bindings::{CallResult, Content};
use crate::host::ToolPolicy;

/// The scheme of our own resources.
const OWN_SCHEME: &str = super::resources::SCHEME;

/// Checks every resource link of `result` against `policy`; `Err` says which link and why.
pub fn check(result: &CallResult, policy: &ToolPolicy) -> Result<(), String> {
    for content in &result.content {
        let Content::ResourceLink(link) = content else { continue };
        let uri =
            url::Url::parse(&link.uri).map_err(|e| format!("returned a resource link that is not a URI ({e})"))?;
        let scheme = uri.scheme();
        let allowed = scheme == OWN_SCHEME
            || policy.link_schemes.iter().any(|s| s == scheme)
            || (matches!(scheme, "http" | "https") && policy.http_allow.check(&uri).is_some());
        if !allowed {
            return Err(format!(
                "returned a resource link with the scheme `{scheme}:`, which it may not produce (allowed: \
                 `{OWN_SCHEME}:`, http(s) origins it may reach, and its `link_schemes`)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ResourceLink;

    fn with_link(uri: &str) -> CallResult {
        let link = ResourceLink { uri: uri.into(), name: "n".into(), description: None, mime_type: None };
        CallResult { content: vec![Content::ResourceLink(link)], structured: None, is_error: false }
    }

    #[test]
    fn links_follow_the_tools_grants() {
        let mut policy = ToolPolicy::default();
        policy.http_allow.add("https://docs.rs").unwrap();
        assert!(check(&with_link("ide-agents://kb/snippet?query=x"), &policy).is_ok());
        assert!(check(&with_link("https://docs.rs/serde"), &policy).is_ok());
        for bad in ["file:///etc/passwd", "https://evil.example/x", "javascript:alert(1)", "vscode://x", "not a uri"] {
            assert!(check(&with_link(bad), &policy).is_err(), "{bad} must be refused");
        }
        policy.link_schemes.push("vscode".into());
        assert!(check(&with_link("vscode://file/x"), &policy).is_ok());
    }
}
