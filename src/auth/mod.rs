//! Credential selection per cloud (azure_identity 1.x) and the on-disk token cache.

mod cache;

use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use crate::error::{Error, ErrorCode, Result};
use crate::output;
use crate::settings::{Cloud, CredentialKind, CredentialSettings};

pub use cache::TokenCache;

/// Refresh this long before a token expires.
const EARLY: Duration = Duration::from_secs(300);
const IMDS_PROBE: &str = "http://169.254.169.254/metadata/instance?api-version=2021-02-01";

pub struct TokenProvider {
    cloud: Cloud,
    settings: CredentialSettings,
    http: reqwest::Client,
    cache: Option<TokenCache>,
}

impl TokenProvider {
    pub fn new(cloud: Cloud, settings: CredentialSettings, http: reqwest::Client, cache: Option<TokenCache>) -> Self {
        TokenProvider { cloud, settings, http, cache }
    }

    /// Which credential a token would come from, for `doctor`.
    pub fn describe(&self) -> String {
        let kind = self.resolved_kind();
        match (self.settings.kind, kind) {
            (CredentialKind::Auto, CredentialKind::Auto) => "auto: azure-cli, then imds".into(),
            (CredentialKind::Auto, k) => format!("auto: {}", kind_name(k)),
            (_, k) => kind_name(k).into(),
        }
    }

    /// The credential `auto` resolves to from the (resolved) environment alone (CLI and IMDS are tried in order
    /// when nothing else is configured).
    fn resolved_kind(&self) -> CredentialKind {
        match self.settings.kind {
            CredentialKind::Auto if self.settings.federated_token_file.is_some() => CredentialKind::WorkloadIdentity,
            CredentialKind::Auto if self.settings.identity_endpoint.is_some() => CredentialKind::ManagedIdentity,
            CredentialKind::Auto if self.settings.client_secret.is_some() => CredentialKind::ClientSecret,
            // Without the Container Apps endpoint, managed identity means the VM metadata endpoint.
            CredentialKind::ManagedIdentity if self.settings.identity_endpoint.is_none() => CredentialKind::Imds,
            k => k,
        }
    }

    fn tenant(&self) -> Option<String> {
        self.settings.tenant_id.clone()
    }

    fn client_id(&self) -> Option<String> {
        self.settings.client_id.clone()
    }

    fn cache_key(&self, kind: CredentialKind) -> String {
        format!(
            "{}|{}|{}|{:?}|{}|{}|{}",
            self.cloud.name,
            self.cloud.authority_host,
            self.cloud.token_scope,
            kind,
            self.tenant().unwrap_or_default(),
            self.client_id().unwrap_or_default(),
            self.settings.identity_endpoint.as_deref().unwrap_or_default()
        )
    }

    /// A bearer token for ARM: from the disk cache when it is valid for 5 more minutes, else from
    /// the credential (and then cached). `fresh` skips the cache (after a 401).
    pub async fn token(&self, fresh: bool) -> Result<String> {
        let kind = self.resolved_kind();
        let key = self.cache_key(kind);
        if !fresh
            && let Some(cache) = &self.cache
            && let Some(t) = cache.get(&key, EARLY)
        {
            output::register_secret(&t);
            output::debug("using the cached ARM token");
            return Ok(t);
        }
        let scope = self.cloud.token_scope.as_str();
        let token = match kind {
            CredentialKind::Auto => self.auto_chain(scope).await?,
            CredentialKind::Imds => {
                let cred = self.imds_credential().await?;
                fetch(cred.as_ref(), scope, CredentialKind::Imds).await?
            }
            other => {
                let cred = self.credential(other)?;
                fetch(cred.as_ref(), scope, other).await?
            }
        };
        let value = token.token.secret().to_string();
        output::register_secret(&value);
        if let Some(cache) = &self.cache {
            cache.put(&key, &value, token.expires_on.unix_timestamp());
        }
        Ok(value)
    }

    async fn auto_chain(&self, scope: &str) -> Result<azure_core::credentials::AccessToken> {
        let mut tried = Vec::new();
        match self.credential(CredentialKind::AzureCli) {
            Ok(cli) => match fetch(cli.as_ref(), scope, CredentialKind::AzureCli).await {
                Ok(t) => return Ok(t),
                Err(e) => tried.push(format!("azure-cli: {}", e.message)),
            },
            Err(e) => tried.push(format!("azure-cli: {}", e.message)),
        }
        match self.imds_credential().await {
            Ok(mi) => match fetch(mi.as_ref(), scope, CredentialKind::Imds).await {
                Ok(t) => return Ok(t),
                Err(e) => tried.push(format!("imds: {}", e.message)),
            },
            Err(e) => tried.push(format!("imds: {}", e.message)),
        }
        Err(Error::new(
            ErrorCode::CredentialUnavailable,
            format!(
                "no Azure credential found (credential: auto). Tried, in order: workload identity (AZURE_FEDERATED_TOKEN_FILE not set), Container Apps managed identity (IDENTITY_ENDPOINT not set), client secret (AZURE_CLIENT_SECRET not set), {}",
                tried.join("; ")
            ),
        ))
    }

    fn client_options(&self) -> ClientOptions {
        self.client_options_with(&self.http)
    }

    fn client_options_with(&self, http: &reqwest::Client) -> ClientOptions {
        let cloud = match self.cloud.name.as_str() {
            "AzureChinaCloud" => CloudConfiguration::AzureChina,
            "AzureUSGovernment" => CloudConfiguration::AzureGovernment,
            "AzureCloud" => CloudConfiguration::AzurePublic,
            _ => {
                let mut c = CustomConfiguration::default();
                c.authority_host = self.cloud.authority_host.clone();
                CloudConfiguration::Custom(c)
            }
        };
        ClientOptions {
            transport: Some(crate::http::transport(http)),
            cloud: Some(Arc::new(cloud)),
            // Bounded: a poll must not hang on a flapping token endpoint.
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                max_retries: 2,
                initial_delay: azure_core::time::Duration::milliseconds(200),
                max_total_elapsed: azure_core::time::Duration::seconds(10),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn credential(&self, kind: CredentialKind) -> Result<Arc<dyn TokenCredential>> {
        let unavailable =
            |what: &str, e: azure_core::Error| Error::new(ErrorCode::CredentialUnavailable, format!("{what}: {e}"));
        Ok(match kind {
            CredentialKind::WorkloadIdentity => {
                WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                    credential_options: ClientAssertionCredentialOptions { client_options: self.client_options() },
                    client_id: self.client_id(),
                    tenant_id: self.tenant(),
                    token_file_path: self.settings.federated_token_file.clone().map(Into::into),
                }))
                .map_err(|e| {
                    unavailable(
                        "workload identity (needs AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID)",
                        e,
                    )
                })?
            }
            CredentialKind::ManagedIdentity => ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: self.client_id().map(UserAssignedId::ClientId),
                client_options: self.client_options(),
            }))
            .map_err(|e| unavailable("managed identity", e))?,
            CredentialKind::Imds => {
                // Link-local: never through an HTTP proxy.
                let direct = reqwest::Client::builder()
                    .no_proxy()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .map_err(|e| Error::new(ErrorCode::CredentialUnavailable, format!("imds client: {e}")))?;
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id: self.client_id().map(UserAssignedId::ClientId),
                    client_options: self.client_options_with(&direct),
                }))
                .map_err(|e| unavailable("imds", e))?
            }
            CredentialKind::ClientSecret => {
                let tenant = self.tenant().ok_or_else(|| {
                    Error::config(
                        "credential client-secret needs a tenant: set credential.tenant_id or AZURE_TENANT_ID",
                    )
                })?;
                let client = self.client_id().ok_or_else(|| {
                    Error::config(
                        "credential client-secret needs a client id: set credential.client_id or AZURE_CLIENT_ID",
                    )
                })?;
                let secret = self.settings.client_secret.clone().ok_or_else(|| Error::config("credential client-secret needs AZURE_CLIENT_SECRET in the environment (never in the config file)"))?;
                output::register_secret(&secret);
                ClientSecretCredential::new(
                    &tenant,
                    client,
                    Secret::new(secret),
                    Some(ClientSecretCredentialOptions { client_options: self.client_options() }),
                )
                .map_err(|e| unavailable("client secret", e))?
            }
            CredentialKind::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
                tenant_id: self.tenant(),
                ..Default::default()
            }))
            .map_err(|e| unavailable("azure cli", e))?,
            CredentialKind::Auto => unreachable!("auto is resolved by the chain"),
        })
    }

    /// IMDS only after one short probe: off Azure, azure_identity retries IMDS for over a minute.
    async fn imds_credential(&self) -> Result<Arc<dyn TokenCredential>> {
        let probe = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(800))
            .build()
            .map_err(|e| Error::new(ErrorCode::CredentialUnavailable, format!("imds probe: {e}")))?;
        match probe.get(IMDS_PROBE).header("Metadata", "true").send().await {
            Ok(_) => self.credential(CredentialKind::Imds),
            Err(_) => Err(Error::new(
                ErrorCode::CredentialUnavailable,
                "the instance metadata endpoint (169.254.169.254) did not answer within 0.8 s",
            )),
        }
    }
}

async fn fetch(
    cred: &dyn TokenCredential,
    scope: &str,
    kind: CredentialKind,
) -> Result<azure_core::credentials::AccessToken> {
    // Bounded whatever the credential does internally.
    // IMDS retries for over a minute by itself when it answers with errors.
    let limit = if kind == CredentialKind::Imds { Duration::from_secs(10) } else { Duration::from_secs(30) };
    match tokio::time::timeout(limit, cred.get_token(&[scope], None)).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(Error::new(
            ErrorCode::AuthenticationFailed,
            format!("could not get an ARM token ({}): {}", kind_name(kind), first_line(&e.to_string())),
        )
        .with_source(anyhow::Error::new(e))),
        Err(_) => Err(Error::new(
            ErrorCode::AuthenticationFailed,
            format!("getting an ARM token ({}) took over {} s", kind_name(kind), limit.as_secs()),
        )),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

pub fn kind_name(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Auto => "auto",
        CredentialKind::WorkloadIdentity => "workload-identity",
        CredentialKind::ManagedIdentity => "managed-identity",
        CredentialKind::ClientSecret => "client-secret",
        CredentialKind::AzureCli => "azure-cli",
        CredentialKind::Imds => "imds",
    }
}
