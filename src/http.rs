//! The one reqwest client per process, shared by ARM calls, azure_identity and readiness probes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::settings::{Settings, TlsRoots};

pub fn client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("acactl/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(settings.arm.request_timeout)
        .redirect(reqwest::redirect::Policy::none());
    let mut extra = Vec::new();
    if let Some(path) = &settings.ca_bundle {
        let pem = std::fs::read(path).with_context(|| format!("reading CA bundle {}", path.display()))?;
        extra = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("parsing CA bundle {}", path.display()))?;
    }
    b = match settings.tls_roots {
        TlsRoots::Bundled => {
            let mut roots: Vec<_> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok())
                .collect();
            roots.extend(extra);
            b.tls_certs_only(roots)
        }
        TlsRoots::System if extra.is_empty() => b,
        TlsRoots::System => b.tls_certs_merge(extra),
    };
    b.build().context("building the HTTP client")
}

pub fn transport(http: &reqwest::Client) -> azure_core::http::Transport {
    azure_core::http::Transport::new(Arc::new(http.clone()))
}

/// The most acactl reads of any response body (ARM, the hub API, token endpoints, readiness
/// probes). A page of 100 container apps is ~1 MB; anything beyond this is broken or hostile, and
/// reading it whole would grow memory without bound (an endless body).
pub const MAX_BODY: usize = 16 << 20;

#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge => write!(f, "the response body exceeds {} MiB", MAX_BODY >> 20),
            BodyError::Read(e) => write!(f, "{e}"),
        }
    }
}

/// Read a body chunk by chunk, giving up as soon as it passes `cap` bytes.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if out.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
