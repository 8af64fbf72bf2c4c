//! Where a credential may go. The ARM bearer token is sent only to the configured
//! `cloud.resource_manager` origin over https; the hub service token only to `hub.api_url`'s origin.
//! A URL a server hands us (nextLink, Azure-AsyncOperation, Location, a redirect) that points
//! anywhere else is refused before any request is made: following it would hand the token to
//! whoever controls that URL.

use reqwest::Url;

use crate::error::{Error, ErrorCode};

/// (scheme, host, port) with the scheme's default port filled in; `None` for anything unparsable.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let u = Url::parse(url).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some((u.scheme().to_ascii_lowercase(), host, u.port_or_known_default()?))
}

/// Whether `url` has exactly `base`'s origin (and, when `https_only`, is https).
pub fn same_origin(url: &str, base: &str, https_only: bool) -> bool {
    match (origin(url), origin(base)) {
        (Some(u), Some(b)) => u == b && (!https_only || u.0 == "https"),
        _ => false,
    }
}

/// Refuse to send `who`'s token to `url` unless it is on `base`'s origin.
pub fn require(url: &str, base: &str, https_only: bool, who: &str) -> Result<(), Error> {
    if same_origin(url, base, https_only) {
        return Ok(());
    }
    let shown = url.split(['?', '#']).next().unwrap_or(url);
    let scheme = if https_only { "https " } else { "" };
    Err(Error::new(
        ErrorCode::ForeignUrl,
        format!(
            "refusing to send the {who} token to {shown}: it is not on the configured {scheme}origin {}",
            base.trim_end_matches('/')
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rule() {
        let base = "https://management.azure.com";
        assert!(same_origin("https://management.azure.com/subscriptions/x?api-version=1", base, true));
        assert!(same_origin("https://MANAGEMENT.azure.com:443/x", base, true));
        assert!(same_origin("https://management.azure.com/", "https://management.azure.com/", true));
        for foreign in [
            "http://management.azure.com/x",
            "https://management.azure.com:8443/x",
            "https://management.azure.com.evil.example/x",
            "https://evil.example/x",
            "https://management.azure.com@evil.example/x",
            "//evil.example/x",
            "/relative",
            "",
            "not a url",
        ] {
            assert!(!same_origin(foreign, base, true), "{foreign}");
        }
        // http is refused for ARM even when the base itself is http.
        assert!(!same_origin("http://127.0.0.1:1/x", "http://127.0.0.1:1", true));
        // The hub may be plain http inside the cluster, but only on its own origin.
        assert!(same_origin("http://hub:8081/hub/api/users", "http://hub:8081/hub/api", false));
        assert!(!same_origin("http://hub:8082/hub/api/users", "http://hub:8081/hub/api", false));
        let e = require("https://evil.example/op?sig=secret", base, true, "ARM").unwrap_err();
        assert_eq!(e.code, "ForeignUrl");
        assert!(e.message.contains("https://evil.example/op") && !e.message.contains("sig=secret"), "{}", e.message);
    }
}
