//! The fake's token endpoints speak exactly what azure_identity 1.0 sends/parses.
//! (Own test binary: it sets IDENTITY_ENDPOINT/IDENTITY_HEADER in the process env.)

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_identity::{
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};
use fake_arm::{FakeArm, Options};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn azure_identity_1_0_against_fake() {
    let fake = FakeArm::start(Options::default());
    let pem = std::fs::read(fake.ca_pem_path()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let mut custom = CustomConfiguration::default();
    custom.authority_host = fake.base_url();
    let opts = |cloud: bool| ClientOptions {
        transport: Some(Transport::new(Arc::new(http.clone()))),
        cloud: if cloud { Some(Arc::new(CloudConfiguration::Custom(custom.clone()))) } else { None },
        retry: RetryOptions::none(),
        ..Default::default()
    };
    let scope = "https://management.azure.com/.default";

    // service principal
    let sp = ClientSecretCredential::new(
        "my-tenant",
        "my-client".into(),
        Secret::new("good"),
        Some(ClientSecretCredentialOptions { client_options: opts(true) }),
    )
    .unwrap();
    let tok = sp.get_token(&[scope], None).await.unwrap();
    let env_url = format!("{}{}?api-version=2026-07-01", fake.base_url(), fake.environment_id());
    let r = http.get(&env_url).bearer_auth(tok.token.secret()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let req = fake.token_requests().pop().unwrap();
    assert_eq!(req.path, "/my-tenant/oauth2/v2.0/token");
    assert_eq!(req.detail["client_id"], "my-client");
    assert_eq!(req.detail["scope"], scope);

    let bad = ClientSecretCredential::new(
        "my-tenant",
        "my-client".into(),
        Secret::new("bad-secret"),
        Some(ClientSecretCredentialOptions { client_options: opts(true) }),
    )
    .unwrap();
    let e = bad.get_token(&[scope], None).await.unwrap_err();
    assert!(format!("{e}").contains("AADSTS7000215"), "{e}");

    // managed identity (Container Apps = App Service protocol)
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", fake.identity_endpoint());
        std::env::set_var("IDENTITY_HEADER", fake.identity_header());
    }
    let mi = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
        user_assigned_id: Some(UserAssignedId::ClientId("11111111-2222-3333-4444-555555555555".into())),
        client_options: opts(false),
    }))
    .unwrap();
    let tok = mi.get_token(&[scope], None).await.unwrap();
    assert!(tok.expires_on > azure_core::time::OffsetDateTime::now_utc());
    let r = http.get(&env_url).bearer_auth(tok.token.secret()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let req = fake.token_requests().pop().unwrap();
    assert_eq!(req.method, "GET");
    assert_eq!(req.detail["endpoint"], "msi");
    assert_eq!(req.detail["resource"], "https://management.azure.com");
    assert_eq!(req.detail["api_version"], "2019-08-01");
    assert_eq!(req.detail["client_id"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(req.detail["identity_header_ok"], true);
    assert_eq!(req.detail["metadata_header"], "true");
    eprintln!("MI request as sent by azure_identity: {}", req.path);

    unsafe {
        std::env::set_var("IDENTITY_HEADER", "wrong");
    }
    let mi = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
        client_options: opts(false),
        ..Default::default()
    }))
    .unwrap();
    assert!(mi.get_token(&[scope], None).await.is_err());
}
