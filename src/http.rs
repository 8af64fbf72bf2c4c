//! The one reqwest client per process, shared by ARM calls, azure_identity and readiness probes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::settings::Settings;

pub fn client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("acactl/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(settings.arm.request_timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &settings.ca_bundle {
        let pem =
            std::fs::read(path).with_context(|| format!("reading CA bundle {}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("parsing CA bundle {}", path.display()))?;
        b = b.tls_certs_merge(certs);
    }
    b.build().context("building the HTTP client")
}

pub fn transport(http: &reqwest::Client) -> azure_core::http::Transport {
    azure_core::http::Transport::new(Arc::new(http.clone()))
}
