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

/// The transport azure_identity uses for token endpoints: the shared client, with answers capped
/// at [`MAX_TOKEN_BODY`] (an endless body from a token endpoint must not grow memory either).
pub fn transport(http: &reqwest::Client) -> azure_core::http::Transport {
    azure_core::http::Transport::new(Arc::new(CappedClient(http.clone())))
}

/// A token answer is a few KB.
pub const MAX_TOKEN_BODY: usize = 1 << 20;

#[derive(Debug)]
struct CappedClient(reqwest::Client);

#[async_trait::async_trait]
impl azure_core::http::HttpClient for CappedClient {
    async fn execute_request(
        &self,
        request: &azure_core::http::Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        let raw = azure_core::http::HttpClient::execute_request(&self.0, request).await?;
        let (status, headers, body) = raw.deconstruct();
        let mut buf = vec![0u8; MAX_TOKEN_BODY];
        // Fails as soon as a chunk would pass the buffer: the rest is never read.
        let n = body.collect_into(&mut buf).await.map_err(|e| {
            azure_core::Error::with_message(
                azure_core::error::ErrorKind::Io,
                format!(
                    "reading the token endpoint's answer failed (at most {} MiB is read): {e}",
                    MAX_TOKEN_BODY >> 20
                ),
            )
        })?;
        buf.truncate(n);
        Ok(azure_core::http::AsyncRawResponse::from_bytes(status, headers, buf))
    }
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
