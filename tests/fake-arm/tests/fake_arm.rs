//! End-to-end tests of the fake over real TLS with reqwest.

use fake_arm::validate::{EnvCtx, validate_put};
use fake_arm::{Behaviour, FakeArm, Fault, InsertApp, Options, RequestKind, Throttle};
use serde_json::{Value, json};

const API: &str = "2026-07-01";

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn client(fake: &FakeArm) -> reqwest::Client {
    let pem = std::fs::read(fake.ca_pem_path()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct T {
    fake: FakeArm,
    c: reqwest::Client,
    tok: String,
}

/// POST an Entra v2 token request (form-encoded) to the fake STS.
async fn token_request(c: &reqwest::Client, base: &str, tenant: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    c.post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await
        .unwrap()
}

impl T {
    async fn new(opts: Options) -> T {
        let fake = FakeArm::start(opts);
        let c = client(&fake);
        let r = token_request(
            &c,
            &fake.base_url(),
            "my-tenant",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "cid"),
                ("client_secret", "good"),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["expires_in"], 3600);
        let tok = v["access_token"].as_str().unwrap().to_string();
        T { fake, c, tok }
    }
    fn app_url(&self, name: &str) -> String {
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/{name}?api-version={API}",
            self.fake.base_url(),
            self.fake.subscription(),
            self.fake.resource_group()
        )
    }
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut rb = self.c.request(method, url).bearer_auth(&self.tok);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status().as_u16();
        let h = r.headers().clone();
        let text = r.text().await.unwrap();
        let v = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (s, h, v)
    }
    async fn get(&self, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        self.send(reqwest::Method::GET, url, None).await
    }
    async fn put(&self, name: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
        self.send(reqwest::Method::PUT, &self.app_url(name), Some(body)).await
    }
    async fn delete(&self, name: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        self.send(reqwest::Method::DELETE, &self.app_url(name), None).await
    }
    /// PUT then poll the Azure-AsyncOperation URL to completion; returns the statuses seen.
    async fn create(&self, name: &str, body: &Value) -> Vec<String> {
        let (s, h, _) = self.put(name, body).await;
        assert!(s == 201 || s == 200, "PUT {name} -> {s}");
        let op = h["azure-asyncoperation"].to_str().unwrap().to_string();
        let mut seen = vec![];
        for _ in 0..200 {
            let (s, _, v) = self.get(&op).await;
            assert_eq!(s, 200);
            let st = v["status"].as_str().unwrap().to_string();
            seen.push(st.clone());
            if st != "InProgress" {
                break;
            }
        }
        seen
    }
}

fn body(fake: &FakeArm, image: &str) -> Value {
    json!({
        "location": fake.location(),
        "tags": {"managed-by": "acactl", "hub": "test"},
        "properties": {
            "environmentId": fake.environment_id(),
            "workloadProfileName": "Consumption",
            "configuration": {
                "activeRevisionsMode": "single",
                "secrets": [{"name": "hub-token", "value": "s3cret-token"}],
                "ingress": {"external": false, "targetPort": 8888, "transport": "auto", "allowInsecure": true}
            },
            "template": {
                "containers": [{
                    "name": "notebook",
                    "image": image,
                    "command": ["jupyterhub-singleuser"],
                    "env": [
                        {"name": "JUPYTERHUB_API_TOKEN", "secretRef": "hub-token"},
                        {"name": "JUPYTERHUB_SERVICE_PREFIX", "value": "/user/alice/"},
                        {"name": "JUPYTERHUB_SERVICE_URL", "value": "http://0.0.0.0:8888/user/alice/"}
                    ],
                    "resources": {"cpu": 1.0, "memory": "2Gi"}
                }],
                "scale": {"minReplicas": 1, "maxReplicas": 1}
            }
        }
    })
}

#[tokio::test]
async fn create_poll_get_succeeded() {
    let t = T::new(Options::default()).await;
    let b = body(&t.fake, "quay.io/jupyter/base-notebook:latest");
    let (s, h, v) = t.put("jupyter-alice", &b).await;
    assert_eq!(s, 201);
    let op = h["azure-asyncoperation"].to_str().unwrap();
    assert!(op.len() > 2048, "signed op url should be long");
    assert!(op.contains("/providers/Microsoft.App/locations/westeurope/containerappOperationStatuses/"));
    assert!(op.contains("azureAsyncOperation=true"));
    assert_eq!(h["x-ms-async-operation-timeout"], "PT15M");
    assert!(h.contains_key("api-supported-versions"));
    assert!(h.contains_key("x-ms-request-id"));
    assert!(h.contains_key("x-ms-ratelimit-remaining-subscription-writes"));
    assert_eq!(v["properties"]["provisioningState"], "InProgress");
    assert_eq!(v["properties"]["latestRevisionName"], "");
    assert_eq!(v["properties"]["latestReadyRevisionName"], "");
    let fqdn = v["properties"]["configuration"]["ingress"]["fqdn"].as_str().unwrap();
    assert_eq!(fqdn, format!("jupyter-alice.internal.{}", t.fake.default_domain()));
    assert!(v["id"].as_str().unwrap().contains("/providers/Microsoft.App/containerapps/jupyter-alice"));

    // Truncating the opaque query is rejected.
    let cut = op.split("&t=").next().unwrap();
    assert_eq!(t.get(cut).await.0, 400);

    let mut seen = vec![];
    loop {
        let (s, _, v) = t.get(op).await;
        assert_eq!(s, 200);
        assert!(v["startTime"].is_string());
        seen.push(v["status"].as_str().unwrap().to_string());
        if v["status"] != "InProgress" {
            break;
        }
    }
    assert_eq!(seen, ["InProgress", "InProgress", "Succeeded"]);

    let (s, _, v) = t.get(&t.app_url("jupyter-alice")).await;
    assert_eq!(s, 200);
    let p = &v["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["runningStatus"], "Running");
    let rev = p["latestRevisionName"].as_str().unwrap();
    assert!(rev.starts_with("jupyter-alice--") && rev.len() == "jupyter-alice--".len() + 7, "{rev}");
    assert_eq!(p["latestReadyRevisionName"], rev);
    assert_eq!(v["location"], "West Europe");
    assert_eq!(p["configuration"]["ingress"]["transport"], "Auto");
    assert_eq!(p["configuration"]["activeRevisionsMode"], "Single");
    assert_eq!(p["configuration"]["secrets"], json!([{"name": "hub-token"}]));
    assert_eq!(p["configuration"]["ingress"]["traffic"], json!([{"weight": 100, "latestRevision": true}]));
    assert_eq!(p["configuration"]["ingress"]["exposedPort"], 0);
    assert!(p["configuration"]["dapr"].is_null());
    assert_eq!(p["template"]["containers"][0]["resources"]["ephemeralStorage"], "4Gi");
    assert_eq!(v["tags"]["managed-by"], "acactl");
    assert_eq!(t.fake.app_secrets("jupyter-alice"), vec![("hub-token".to_string(), "s3cret-token".to_string())]);

    // revision + replicas
    let base = t.app_url("jupyter-alice");
    let (path, q) = base.split_once('?').unwrap();
    let (s, _, r) = t.get(&format!("{path}/revisions/{rev}?{q}")).await;
    assert_eq!(s, 200);
    assert_eq!(r["properties"]["provisioningState"], "Provisioned");
    assert_eq!(r["properties"]["healthState"], "Healthy");
    assert_eq!(r["properties"]["runningState"], "Running");
    let (s, _, reps) = t.get(&format!("{path}/revisions/{rev}/replicas?{q}")).await;
    assert_eq!(s, 200);
    assert_eq!(reps["value"][0]["properties"]["runningState"], "Running");
    assert_eq!(reps["value"][0]["properties"]["containers"][0]["ready"], true);
    // case-insensitive path
    let lower = t
        .app_url("jupyter-alice")
        .replace("containerApps", "containerapps")
        .replace("resourceGroups", "resourcegroups");
    assert_eq!(t.get(&lower).await.0, 200);
    // environment
    let env_url = format!("{}{}?api-version={API}", t.fake.base_url(), t.fake.environment_id());
    let (s, _, e) = t.get(&env_url).await;
    assert_eq!(s, 200);
    assert_eq!(e["properties"]["workloadProfiles"][0]["name"], "Consumption");
    assert!(e["properties"]["defaultDomain"].as_str().unwrap().ends_with(".westeurope.azurecontainerapps.io"));
}

#[tokio::test]
async fn conflict_while_provisioning_and_update_new_revision() {
    let t = T::new(Options::default()).await;
    let b = body(&t.fake, "img:1");
    assert_eq!(t.put("app-a", &b).await.0, 201);
    let (s, _, v) = t.put("app-a", &b).await;
    assert_eq!(s, 409);
    assert_eq!(v["error"]["code"], "ContainerAppOperationInProgress");
    assert!(v["error"]["message"].as_str().unwrap().contains(
        "Cannot modify a container app 'app-a' because there is an active provisioning operation in progress"
    ));
    t.fake.set_delete_conflicts_while_provisioning(true);
    assert_eq!(t.delete("app-a").await.0, 409);
    t.fake.set_delete_conflicts_while_provisioning(false);
    // finish via GETs (each GET is a tick)
    for _ in 0..3 {
        t.get(&t.app_url("app-a")).await;
    }
    let first = t.fake.app("app-a").unwrap()["properties"]["latestReadyRevisionName"].as_str().unwrap().to_string();
    assert!(!first.is_empty());
    // update: new secret value + revisionSuffix -> new revision, 200
    let mut b2 = b.clone();
    b2["properties"]["configuration"]["secrets"][0]["value"] = json!("new-token");
    b2["properties"]["template"]["revisionSuffix"] = json!("r2");
    let (s, h, v) = t.put("app-a", &b2).await;
    assert_eq!(s, 200);
    assert!(h.contains_key("azure-asyncoperation"));
    assert_eq!(v["properties"]["provisioningState"], "InProgress");
    assert_eq!(t.fake.app_secrets("app-a")[0].1, "new-token");
    let op = h["azure-asyncoperation"].to_str().unwrap().to_string();
    let (_, _, o) = t.get(&op).await;
    assert_eq!(o["status"], "InProgress");
    let a = t.fake.app("app-a").unwrap();
    assert_eq!(a["properties"]["latestRevisionName"], "app-a--r2");
    assert_eq!(a["properties"]["latestReadyRevisionName"], first.as_str());
    while t.get(&op).await.2["status"] == "InProgress" {}
    let a = t.fake.app("app-a").unwrap();
    assert_eq!(a["properties"]["latestReadyRevisionName"], "app-a--r2");
    assert_eq!(t.fake.revisions("app-a").len(), 2);
}

#[tokio::test]
async fn delete_lro_then_404() {
    let t = T::new(Options::default()).await;
    t.create("app-d", &body(&t.fake, "img")).await;
    let (s, h, _) = t.delete("app-d").await;
    assert_eq!(s, 202);
    let loc = h["location"].to_str().unwrap().to_string();
    assert!(loc.contains("/containerappOperationResults/"));
    let (_, _, v) = t.get(&t.app_url("app-d")).await; // tick 1
    assert_eq!(v["properties"]["provisioningState"], "Deleting");
    let (s, _, _) = t.get(&loc).await; // tick 2
    assert_eq!(s, 202);
    let (s, _, _) = t.get(&loc).await; // tick 3 -> done
    assert_eq!(s, 200);
    let (s, _, v) = t.get(&t.app_url("app-d")).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "ResourceNotFound");
    assert_eq!(
        v["error"]["message"],
        "The Resource 'Microsoft.App/containerApps/app-d' under resource group 'rg-jupyter' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    );
    assert_eq!(t.delete("app-d").await.0, 204);
}

#[tokio::test]
#[allow(clippy::type_complexity)]
async fn validation_rejections() {
    let t = T::new(Options::default()).await;
    let good = body(&t.fake, "img");
    let cases: Vec<(&str, Box<dyn Fn(&mut Value)>, u16, &str)> = vec![
        (
            "ok-readonly",
            Box::new(|b: &mut Value| b["properties"]["provisioningState"] = json!("Succeeded")),
            400,
            "ContainerAppInvalidPropertyValue",
        ),
        (
            "ok-enum",
            Box::new(|b: &mut Value| b["properties"]["configuration"]["ingress"]["transport"] = json!("websocket")),
            400,
            "ContainerAppInvalidPropertyValue",
        ),
        (
            "ok-type",
            Box::new(|b: &mut Value| b["properties"]["configuration"]["ingress"]["targetPort"] = json!("8888")),
            400,
            "ContainerAppInvalidPropertyValue",
        ),
        (
            "ok-cpu",
            Box::new(|b: &mut Value| {
                b["properties"]["template"]["containers"][0]["resources"] = json!({"cpu": 1.0, "memory": "3Gi"})
            }),
            400,
            "ContainerAppInvalidResourceTotal",
        ),
        (
            "ok-secretref",
            Box::new(|b: &mut Value| {
                b["properties"]["template"]["containers"][0]["env"][0]["secretRef"] = json!("nope")
            }),
            400,
            "ContainerAppSecretRefNotFound",
        ),
        (
            "ok-secretname",
            Box::new(|b: &mut Value| {
                b["properties"]["configuration"]["secrets"][0]["name"] = json!("Hub_Token");
                b["properties"]["template"]["containers"][0]["env"][0]["secretRef"] = json!("Hub_Token");
            }),
            400,
            "ContainerAppInvalidSecretName",
        ),
        (
            "ok-envname",
            Box::new(|b: &mut Value| b["properties"]["template"]["containers"][0]["env"][1]["name"] = json!("MY.VAR")),
            400,
            "ContainerAppInvalidEnvVarName",
        ),
        (
            "ok-env",
            Box::new(|b: &mut Value| {
                b["properties"]["environmentId"] =
                    json!("/subscriptions/x/resourceGroups/y/providers/Microsoft.App/managedEnvironments/z")
            }),
            404,
            "ManagedEnvironmentNotFound",
        ),
        (
            "ok-wp",
            Box::new(|b: &mut Value| b["properties"]["workloadProfileName"] = json!("gpu-t4")),
            400,
            "WorkloadProfileNameNotFound",
        ),
        (
            "ok-loc",
            Box::new(|b: &mut Value| {
                b.as_object_mut().unwrap().remove("location");
            }),
            400,
            "LocationRequired",
        ),
        ("ok-tag", Box::new(|b: &mut Value| b["tags"]["a/b"] = json!("x")), 400, "InvalidTagNameCharacters"),
        (
            "ok-reg",
            Box::new(
                |b: &mut Value| b["properties"]["configuration"]["registries"] = json!([{"server": "x.azurecr.io", "identity": "/subscriptions/s/resourcegroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u"}]),
            ),
            400,
            "ContainerAppInvalidPropertyValue",
        ),
    ];
    for (name, f, status, code) in cases {
        let mut b = good.clone();
        f(&mut b);
        let (s, _, v) = t.put(name, &b).await;
        assert_eq!((s, v["error"]["code"].as_str().unwrap()), (status, code), "{name}: {v}");
    }
    let (s, _, v) = t.put("Bad--Name", &good).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "ContainerAppInvalidName");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid ContainerApp name 'Bad--Name'. A name must consist of lower case")
    );
    // explicit nulls (as azure-cli sends) are fine, so is a gpu profile once it exists
    let mut b = good.clone();
    b["properties"]["configuration"]["ingress"]["fqdn"] = Value::Null;
    b["properties"]["configuration"]["dapr"] = Value::Null;
    t.fake.add_workload_profile("gpu-t4", "Consumption-GPU-NC8as-T4");
    b["properties"]["workloadProfileName"] = json!("gpu-t4");
    b["properties"]["template"]["containers"][0]["resources"] = json!({"cpu": 8.0, "memory": "56Gi"});
    assert_eq!(t.put("gpu-app", &b).await.0, 201);
    assert!(t.fake.apps().len() == 1);
}

#[tokio::test]
async fn throttling_429() {
    let t = T::new(Options::default()).await;
    t.fake.set_throttle(Throttle { reads: Some((3, 0.5)), ..Default::default() });
    let url = t.app_url("nothing");
    let mut statuses = vec![];
    let mut last = None;
    for _ in 0..5 {
        let (s, h, v) = t.get(&url).await;
        statuses.push(s);
        assert!(h.contains_key("x-ms-ratelimit-remaining-subscription-reads"));
        if s == 429 {
            last = Some((h, v));
        }
    }
    assert_eq!(statuses, [404, 404, 404, 429, 429]);
    let (h, v) = last.unwrap();
    assert_eq!(v["error"]["code"], "SubscriptionRequestsThrottled");
    assert!(h["retry-after"].to_str().unwrap().parse::<u32>().unwrap() >= 1);
    // writes are not limited
    assert_eq!(t.delete("nothing").await.0, 204);
}

#[tokio::test]
async fn paging_lists() {
    let t = T::new(Options::default()).await;
    for i in 0..7 {
        t.fake
            .insert_app(
                InsertApp::new(&format!("app-{i}"))
                    .tag("hub", if i % 2 == 0 { "a" } else { "b" })
                    .created_at("2025-01-01T00:00:00Z"),
            )
            .unwrap();
    }
    t.fake.set_page_size(3);
    let mut url = format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps?api-version={API}",
        t.fake.base_url(),
        t.fake.subscription(),
        t.fake.resource_group()
    );
    let mut names = vec![];
    let mut pages = 0;
    loop {
        let (s, _, v) = t.get(&url).await;
        assert_eq!(s, 200);
        pages += 1;
        for a in v["value"].as_array().unwrap() {
            names.push(a["name"].as_str().unwrap().to_string());
            assert!(a["tags"]["hub"].is_string());
        }
        match v["nextLink"].as_str() {
            Some(n) => {
                assert!(n.starts_with("https://") && n.contains("skiptoken"));
                url = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 7);
    let sub_url = format!(
        "{}/subscriptions/{}/providers/Microsoft.App/containerApps?api-version={API}",
        t.fake.base_url(),
        t.fake.subscription()
    );
    let (s, _, v) = t.get(&sub_url).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn auth_and_api_version() {
    let t = T::new(Options::default()).await;
    let url = t.app_url("x");
    let r = t.c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = t.c.get(&url).bearer_auth("not-issued").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    let (s, _, v) = t.get(&url.replace(API, "2023-05-01")).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "InvalidApiVersionParameter");
    let (s, _, v) = t.get(&url.replace("rg-jupyter", "other-rg")).await;
    assert_eq!((s, v["error"]["code"].as_str().unwrap()), (404, "ResourceGroupNotFound"));
    t.fake.expire_tokens();
    let (s, _, v) = t.get(&url).await;
    assert_eq!((s, v["error"]["code"].as_str().unwrap()), (401, "ExpiredAuthenticationToken"));
}

#[tokio::test]
async fn token_endpoints() {
    let t = T::new(Options::default()).await;
    let r = token_request(
        &t.c,
        &t.fake.base_url(),
        "tenant-x",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "c1"),
            ("client_secret", "bad-secret"),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"], json!([7000215]));
    assert!(v["error_description"].as_str().unwrap().starts_with("AADSTS7000215"));
    // workload identity style
    let r = token_request(
        &t.c,
        &t.fake.base_url(),
        "tenant-x",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "c2"),
            ("client_assertion", "eyJ.fake.jwt"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    // managed identity, exactly as azure_identity 1.0 sends it
    let mi = format!(
        "{}?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com&client_id=abc",
        t.fake.identity_endpoint()
    );
    let r =
        t.c.get(&mi)
            .header("metadata", "true")
            .header("x-identity-header", t.fake.identity_header())
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["resource"], "https://management.azure.com");
    assert_eq!(v["client_id"], "abc");
    let exp: u64 = v["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(exp > 1_700_000_000);
    let mi_tok = v["access_token"].as_str().unwrap().to_string();
    let r = t.c.get(t.app_url("zz")).bearer_auth(&mi_tok).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = t.c.get(&mi).header("x-identity-header", "wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let toks = t.fake.token_requests();
    assert_eq!(toks.len(), 5);
    assert_eq!(toks[1].detail["tenant"], "tenant-x");
    assert_eq!(toks[3].detail["endpoint"], "msi");
    assert_eq!(t.fake.count(RequestKind::Token), 5);
}

#[tokio::test]
async fn faults_and_behaviours() {
    let t = T::new(Options::default()).await;
    t.fake.inject(Fault::status("GET", "/containerApps/f1", 1, 503, "ServiceUnavailable", Some(2)));
    let (s, h, v) = t.get(&t.app_url("f1")).await;
    assert_eq!((s, v["error"]["code"].as_str().unwrap()), (503, "ServiceUnavailable"));
    assert_eq!(h["retry-after"], "2");
    assert_eq!(t.get(&t.app_url("f1")).await.0, 404);
    t.fake.inject(Fault::drop_conn("GET", "/containerApps/f2", 1));
    assert!(t.c.get(t.app_url("f2")).bearer_auth(&t.tok).send().await.is_err());
    assert_eq!(t.get(&t.app_url("f2")).await.0, 404);

    t.fake.set_failure_polls(4);
    t.fake.set_behaviour("broken", Behaviour::ImagePullFailure);
    let (s, h, _) = t.put("bad-img", &body(&t.fake, "registry.example/broken:1")).await;
    assert_eq!(s, 201);
    let op = h["azure-asyncoperation"].to_str().unwrap().to_string();
    assert_eq!(t.get(&op).await.2["status"], "InProgress");
    let rev = t.fake.app("bad-img").unwrap()["properties"]["latestRevisionName"].as_str().unwrap().to_string();
    assert!(!rev.is_empty());
    let base = t.app_url("bad-img");
    let (path, q) = base.split_once('?').unwrap();
    let (_, _, r) = t.get(&format!("{path}/revisions/{rev}?{q}")).await;
    assert_eq!(r["properties"]["healthState"], "Unhealthy");
    assert_eq!(r["properties"]["runningState"], "Activating");
    let (_, _, reps) = t.get(&format!("{path}/revisions/{rev}/replicas?{q}")).await;
    let c0 = &reps["value"][0]["properties"]["containers"][0];
    assert_eq!(c0["ready"], false);
    assert_eq!(c0["runningState"], "Waiting");
    assert_eq!(c0["runningStateDetails"], "ImagePullBackOff: Back-off pulling image \"registry.example/broken:1\"");
    let mut last = Value::Null;
    for _ in 0..10 {
        last = t.get(&op).await.2;
        if last["status"] != "InProgress" {
            break;
        }
    }
    assert_eq!(last["status"], "Failed");
    assert_eq!(last["error"]["code"], "ContainerAppOperationError");
    assert_eq!(t.fake.app("bad-img").unwrap()["properties"]["provisioningState"], "Failed");

    t.fake.set_behaviour("prov-fail", Behaviour::ProvisionFailed);
    let seen = t.create("prov-fail", &body(&t.fake, "img")).await;
    assert_eq!(seen.last().unwrap(), "Failed");

    // DELETE during a provisioning cancels it
    let (_, h, _) = t.put("cancel-me", &body(&t.fake, "registry.example/broken:2")).await;
    let op = h["azure-asyncoperation"].to_str().unwrap().to_string();
    let (s, h, _) = t.delete("cancel-me").await;
    assert_eq!(s, 202);
    let v = t.get(&op).await.2;
    assert_eq!(v["status"], "Canceled");
    assert_eq!(v["error"]["code"], "OperationCanceled");
    let loc = h["location"].to_str().unwrap().to_string();
    while t.get(&loc).await.0 == 202 {}
    assert_eq!(t.get(&t.app_url("cancel-me")).await.0, 404);

    t.fake.set_behaviour("slow", Behaviour::SlowProvision { polls: 3 });
    let seen = t.create("slow", &body(&t.fake, "img")).await;
    assert_eq!(seen.len(), 6);
    t.fake.set_behaviour("slow", Behaviour::Healthy);
}

#[tokio::test]
async fn ingress_routing() {
    let t = T::new(Options::default()).await;
    t.create("jupyter-alice", &body(&t.fake, "img")).await;
    let mut b = body(&t.fake, "img");
    b["properties"]["configuration"]["ingress"]["allowInsecure"] = json!(false);
    t.create("secure-app", &b).await;
    let p = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(t.fake.ingress_proxy_url()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = p.get("http://jupyter-alice/user/alice/api").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, json!({"version": "2.21.1"}));
    let fq = format!("http://jupyter-alice.internal.{}/user/alice/api", t.fake.default_domain());
    assert_eq!(p.get(&fq).send().await.unwrap().status(), 200);
    assert_eq!(p.get("http://jupyter-alice/user/alice/nope").send().await.unwrap().status(), 404);
    let r = p.get("http://unknown-app/user/alice/api").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Error 404 - This Container App is stopped or does not exist."));
    let r = p.get("http://secure-app/user/alice/api").send().await.unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "https://secure-app/user/alice/api");
    // origin-form with Host header
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = plain
        .get(format!("{}/user/alice/api", t.fake.ingress_proxy_url()))
        .header("host", "jupyter-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    t.fake.set_app_behaviour("jupyter-alice", Behaviour::NotServing);
    assert_eq!(p.get("http://jupyter-alice/user/alice/api").send().await.unwrap().status(), 503);
    assert!(t.fake.ingress_requests().len() >= 6);
    // provisioning app: not reachable yet
    t.put("new-one", &body(&t.fake, "img")).await;
    assert_eq!(p.get("http://new-one/user/alice/api").send().await.unwrap().status(), 404);
}

#[test]
fn create_or_update_examples_pass_validation() {
    let ex: Value = serde_json::from_str(include_str!(
        "../../../data/aca-spec/2026-07-01/examples/ContainerApps_CreateOrUpdate.json"
    ))
    .unwrap();
    let params = &ex["parameters"];
    let mut n = 0;
    for (k, v) in params.as_object().unwrap() {
        if !v.is_object() {
            continue;
        }
        let env_id = v["properties"]["environmentId"].as_str().unwrap().to_string();
        let wps: Vec<(String, String)> =
            vec![("Consumption".into(), "Consumption".into()), ("My-GP-01".into(), "GeneralPurpose".into())];
        let ctx = EnvCtx {
            environment_id: &env_id,
            workload_profiles: &wps,
            storages: vec!["storage".into(), "nfsStorage".into()],
        };
        // the example's name "testcontainerApp0" has an uppercase letter, which the service's name rule rejects
        let r = validate_put("testcontainerapp0", v, &ctx);
        assert!(r.is_ok(), "{k}: {r:?}");
        n += 1;
    }
    assert!(n >= 1);
    // The recorded azure-cli request body (explicit nulls, lowercase enums) passes too.
    let body = json!({
      "location": "East US", "identity": {"type": "None", "userAssignedIdentities": null},
      "properties": {"environmentId": "/e", "configuration": {"secrets": null, "activeRevisionsMode": "single",
        "ingress": {"fqdn": null, "external": true, "targetPort": 80, "transport": "auto", "exposedPort": null, "traffic": null}},
        "template": {"revisionSuffix": null, "containers": [{"image": "mcr.microsoft.com/k8se/quickstart:latest", "name": "aca000003", "command": null, "resources": null}]},
        "workloadProfileName": null}, "tags": null});
    let wps = vec![("Consumption".to_string(), "Consumption".to_string())];
    let ctx = EnvCtx { environment_id: "/e", workload_profiles: &wps, storages: vec![] };
    assert!(validate_put("aca000003", &body, &ctx).is_ok());
}

#[tokio::test]
async fn launch_mode_proxies_to_local_process() {
    if std::process::Command::new("python3").arg("-c").arg("1").status().map(|s| !s.success()).unwrap_or(true) {
        eprintln!("python3 not available; skipping");
        return;
    }
    let t = T::new(Options { launch: true, provision_polls: 0, ..Default::default() }).await;
    let mut b = body(&t.fake, "img");
    b["properties"]["template"]["containers"][0]["command"] = json!(["sh"]);
    b["properties"]["template"]["containers"][0]["args"] = json!([
        "-c",
        "mkdir -p user/alice/api && echo '{\"version\":\"x\"}' > user/alice/api/index.html && exec python3 -m http.server --bind 127.0.0.1 \"${JUPYTERHUB_SERVICE_URL##*:}\""
    ]);
    b["properties"]["template"]["containers"][0]["env"][2]["value"] = json!("http://0.0.0.0:8888");
    t.create("launched", &b).await;
    let mut up = false;
    for _ in 0..100 {
        if let Some((_, true)) = t.fake.launched("launched") {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "process never listened");
    let p =
        reqwest::Client::builder().proxy(reqwest::Proxy::http(t.fake.ingress_proxy_url()).unwrap()).build().unwrap();
    let r = p.get("http://launched/user/alice/api/").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("version"));

    // a service URL bound to localhost is refused
    let mut b2 = b.clone();
    b2["properties"]["template"]["containers"][0]["env"][2]["value"] = json!("http://127.0.0.1:8888");
    t.create("refused", &b2).await;
    let revs = t.fake.revisions("refused");
    assert_eq!(revs[0]["properties"]["runningState"], "Failed");
    assert_eq!(revs[0]["properties"]["runningStateDetails"], "ContainerCrashing: server not listening on 0.0.0.0:8888");
    assert!(t.fake.remove_app("launched"));
}

const WS_ECHO: &str = r#"
import os, socket
port = int(os.environ['JUPYTERHUB_SERVICE_URL'].rsplit(':', 1)[1].split('/')[0])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen(16)
while True:
    c, _ = s.accept()
    data = b''
    while b'\r\n\r\n' not in data:
        d = c.recv(4096)
        if not d:
            break
        data += d
    if b'\r\n\r\n' not in data:
        c.close()
        continue
    c.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
    c.close()
"#;

async fn ws_roundtrip(ingress: &str, host: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = ingress.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET http://{host}/user/alice/api/kernels/k1/channels HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).await.unwrap() == 0 {
            break;
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    if !head.starts_with("HTTP/1.1 101") {
        return head;
    }
    s.write_all(b"hello over ws").await.unwrap();
    let mut buf = [0u8; 13];
    s.read_exact(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf).to_string()
}

#[tokio::test]
async fn launch_mode_websocket_upgrade() {
    if std::process::Command::new("python3").arg("-c").arg("1").status().map(|s| !s.success()).unwrap_or(true) {
        eprintln!("python3 not available; skipping");
        return;
    }
    let t = T::new(Options { launch: true, provision_polls: 0, ..Default::default() }).await;
    for (name, transport) in [("ws-http", "http"), ("ws-auto", "auto")] {
        let mut b = body(&t.fake, "img");
        b["properties"]["configuration"]["ingress"]["transport"] = json!(transport);
        b["properties"]["template"]["containers"][0]["command"] = json!(["python3", "-c", WS_ECHO]);
        t.create(name, &b).await;
        let mut up = false;
        for _ in 0..100 {
            if let Some((_, true)) = t.fake.launched(name) {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(up, "{name} never listened");
    }
    assert_eq!(ws_roundtrip(&t.fake.ingress_proxy_url(), "ws-http").await, "hello over ws");
    let head = ws_roundtrip(&t.fake.ingress_proxy_url(), "ws-auto").await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    // delete kills the process
    let port = t.fake.launched("ws-http").unwrap().0;
    let (s, h, _) = t.delete("ws-http").await;
    assert_eq!(s, 202);
    let loc = h["location"].to_str().unwrap().to_string();
    while t.get(&loc).await.0 == 202 {}
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "process still listening after delete");
}

#[tokio::test]
async fn more_behaviours() {
    let t = T::new(Options::default()).await;
    t.fake.set_behaviour("stuck-app", Behaviour::StuckDeleting { polls: 3 });
    t.fake.set_behaviour("zero-app", Behaviour::ScaledToZero);
    t.fake.set_behaviour("crash", Behaviour::CrashLoop);
    t.fake.set_failure_polls(6);
    t.create("stuck-app", &body(&t.fake, "img")).await;
    let (_, h, _) = t.delete("stuck-app").await;
    let loc = h["location"].to_str().unwrap().to_string();
    let mut n202 = 0;
    while t.get(&loc).await.0 == 202 {
        n202 += 1;
    }
    assert_eq!(n202, 5);
    // DELETE while deleting hands out the operation again; PUT while deleting is a conflict
    t.create("stuck-app", &body(&t.fake, "img")).await;
    let (_, h1, _) = t.delete("stuck-app").await;
    let (s2, h2, _) = t.delete("stuck-app").await;
    assert_eq!(s2, 202);
    assert_eq!(h1["location"], h2["location"]);
    assert_eq!(t.put("stuck-app", &body(&t.fake, "img")).await.0, 409);

    t.create("zero-app", &body(&t.fake, "img")).await;
    let revs = t.fake.revisions("zero-app");
    assert_eq!(revs[0]["properties"]["runningState"], "ScaledToZero");
    assert_eq!(revs[0]["properties"]["replicas"], 0);

    let (_, h, _) = t.put("crash-app", &body(&t.fake, "crash-image")).await;
    let op = h["azure-asyncoperation"].to_str().unwrap().to_string();
    let mut restarts = vec![];
    let base = t.app_url("crash-app");
    let (path, q) = base.split_once('?').unwrap();
    for _ in 0..4 {
        assert_eq!(t.get(&op).await.2["status"], "InProgress");
        let rev = t.fake.app("crash-app").unwrap()["properties"]["latestRevisionName"].as_str().unwrap().to_string();
        let (_, _, reps) = t.get(&format!("{path}/revisions/{rev}/replicas?{q}")).await;
        let c = reps["value"][0]["properties"]["containers"][0].clone();
        assert_eq!(c["ready"], false);
        restarts.push(c["restartCount"].as_u64().unwrap());
        let st = c["runningState"].as_str().unwrap().to_string();
        assert!(st == "Waiting" || st == "Terminated");
        if st == "Waiting" {
            assert_eq!(c["runningStateDetails"], "CrashLoopBackOff: back-off restarting failed container");
        }
    }
    assert!(restarts.windows(2).all(|w| w[0] <= w[1]) && restarts.last() > restarts.first(), "{restarts:?}");

    // delay fault + random faults are reproducible
    t.fake.inject(Fault::delay("GET", "/containerApps/slowpoke", 1, 300));
    let start = std::time::Instant::now();
    assert_eq!(t.get(&t.app_url("slowpoke")).await.0, 404);
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
    let run = |seed| {
        let t = &t;
        async move {
            t.fake.inject_random(0.5, seed);
            let mut v = vec![];
            for _ in 0..20 {
                let r = t.c.get(t.app_url("rnd")).bearer_auth(&t.tok).send().await;
                v.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            t.fake.clear_faults();
            v
        }
    };
    let a = run(7).await;
    let b = run(7).await;
    assert_eq!(a, b);
    assert!(a.iter().any(|s| *s != 404) && a.contains(&404));
}

#[tokio::test]
async fn audience_and_delete_async_header() {
    let t = T::new(Options::default()).await;
    // a token for Key Vault is not accepted by ARM
    let r = token_request(
        &t.c,
        &t.fake.base_url(),
        "tn",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "c"),
            ("client_secret", "s"),
            ("scope", "https://vault.azure.net/.default"),
        ],
    )
    .await;
    let kv: Value = r.json().await.unwrap();
    let r = t.c.get(t.app_url("x")).bearer_auth(kv["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "InvalidAuthenticationTokenAudience");
    // core.windows.net audience (az-style resource) is fine
    let r =
        t.c.get(format!(
            "{}?api-version=2019-08-01&resource=https://management.core.windows.net/",
            t.fake.identity_endpoint()
        ))
        .header("x-identity-header", t.fake.identity_header())
        .send()
        .await
        .unwrap();
    let mi: Value = r.json().await.unwrap();
    let r = t.c.get(t.app_url("x")).bearer_auth(mi["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 404);

    t.fake.set_delete_async_header(true);
    t.create("del-async", &body(&t.fake, "img")).await;
    let (s, h, _) = t.delete("del-async").await;
    assert_eq!(s, 202);
    let st = h["azure-asyncoperation"].to_str().unwrap().to_string();
    assert!(st.contains("/containerappOperationStatuses/") && h.contains_key("location"));
    let mut seen = vec![];
    loop {
        let (s, _, v) = t.get(&st).await;
        assert_eq!(s, 200);
        seen.push(v["status"].as_str().unwrap().to_string());
        if v["status"] != "InProgress" {
            break;
        }
    }
    assert_eq!(seen, ["InProgress", "InProgress", "Succeeded"]);
    assert_eq!(t.get(&t.app_url("del-async")).await.0, 404);
    let ua = t.fake.arm_requests().last().unwrap().detail["user_agent"].clone();
    assert!(ua.is_null() || ua.is_string());
}

#[tokio::test]
async fn storages_secrets_and_plain_msi() {
    let t = T::new(Options::default()).await;
    t.fake.insert_storage(
        "homes",
        json!({"azureFile": {"accountName": "acct", "accountKey": "SUPERSECRETKEY", "shareName": "homes", "accessMode": "ReadWrite"}}),
    );
    let env = format!("{}{}", t.fake.base_url(), t.fake.environment_id());
    let (s, _, v) = t.get(&format!("{env}/storages?api-version={API}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["name"], "homes");
    assert!(v["value"][0]["properties"]["azureFile"]["accountKey"].is_null());
    assert!(!v.to_string().contains("SUPERSECRETKEY"));
    let (s, _, v) = t.get(&format!("{env}/storages/homes?api-version={API}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["properties"]["azureFile"]["shareName"], "homes");
    assert_eq!(t.get(&format!("{env}/storages/nope?api-version={API}")).await.0, 404);

    // an AzureFile volume must name an existing storage
    let mut b = body(&t.fake, "img");
    b["properties"]["template"]["volumes"] =
        json!([{"name": "home", "storageType": "AzureFile", "storageName": "homes"}]);
    b["properties"]["template"]["containers"][0]["volumeMounts"] =
        json!([{"volumeName": "home", "mountPath": "/home/jovyan", "subPath": "alice"}]);
    t.create("with-vol", &b).await;
    b["properties"]["template"]["volumes"][0]["storageName"] = json!("missing");
    assert_eq!(t.put("with-vol2", &b).await.2["error"]["code"], "ManagedEnvironmentStorageNotFound");

    // listSecrets returns values
    let url = t.app_url("with-vol");
    let (path, q) = url.split_once('?').unwrap();
    let (s, _, v) = t.send(reqwest::Method::POST, &format!("{path}/listSecrets?{q}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["value"], "s3cret-token");

    // MI endpoint over plain HTTP on the ingress listener (like the real localhost one)
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = plain
        .get(format!(
            "{}/msi/token?api-version=2019-08-01&resource=https://management.azure.com",
            t.fake.ingress_proxy_url()
        ))
        .header("x-identity-header", t.fake.identity_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v["access_token"].is_string());
    assert!(v["expires_on"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_parallel_lifecycles() {
    let t = std::sync::Arc::new(T::new(Options { provision_polls: 1, ..Default::default() }).await);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..40 {
        let t = t.clone();
        set.spawn(async move {
            let name = format!("par-{i}");
            let seen = t.create(&name, &body(&t.fake, "img")).await;
            assert_eq!(seen.last().unwrap(), "Succeeded");
            let (s, h, _) = t.delete(&name).await;
            assert_eq!(s, 202);
            let loc = h["location"].to_str().unwrap().to_string();
            while t.get(&loc).await.0 == 202 {}
            assert_eq!(t.get(&t.app_url(&name)).await.0, 404);
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    assert!(t.fake.apps().is_empty());
    assert!(t.fake.arm_requests().len() >= 40 * 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_actions() {
    use fake_arm::FaultAction;
    let t = T::new(Options::default()).await;
    let url = t.app_url("h1");
    t.fake.inject(Fault::action(
        "GET",
        "/containerApps/h1",
        1,
        FaultAction::Redirect { status: 307, location: "http://elsewhere.test/x".into() },
    ));
    let (s, h, _) = t.get(&url).await;
    assert_eq!((s, h["location"].to_str().unwrap()), (307, "http://elsewhere.test/x"));
    t.fake.inject(Fault::action("GET", "/containerApps/h1", 1, FaultAction::Huge { bytes: 3 << 20 }));
    let r = t.c.get(&url).bearer_auth(&t.tok).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), 3 << 20);
    // Endless: keeps sending well past any sane size.
    t.fake.inject(Fault::action("GET", "/containerApps/h1", 1, FaultAction::Endless));
    let mut r = t.c.get(&url).bearer_auth(&t.tok).send().await.unwrap();
    let mut n = 0usize;
    while n < (64 << 20) {
        n += r.chunk().await.unwrap().expect("the endless body ended").len();
    }
    drop(r);
    // Echo: a 400 quoting the request body.
    t.fake.inject(Fault::action("PUT", "/containerApps/h2", 1, FaultAction::EchoBody));
    let (s, _, v) = t.put("h2", &json!({"secret": "echo-me-123"})).await;
    assert_eq!(s, 400);
    assert!(v["error"]["message"].as_str().unwrap().contains("echo-me-123"), "{v}");
    // Rewrite: the operation URL (a header) now points elsewhere; Header: an absurd Retry-After.
    t.fake.inject(Fault::action(
        "PUT",
        "/containerApps/h3",
        1,
        FaultAction::Rewrite { from: t.fake.base_url(), to: "https://evil.test".into() },
    ));
    let (s, h, _) = t.put("h3", &body(&t.fake, "registry.example/ok:1")).await;
    assert_eq!(s, 201);
    assert!(h["azure-asyncoperation"].to_str().unwrap().starts_with("https://evil.test/"));
    t.fake.inject(Fault::action(
        "GET",
        "/containerApps/h3",
        1,
        FaultAction::Header { name: "retry-after".into(), value: "18446744073709551615".into() },
    ));
    let (s, h, _) = t.get(&t.app_url("h3")).await;
    assert_eq!((s, h["retry-after"].to_str().unwrap()), (200, "18446744073709551615"));
    // The soak's mix counts what it injected, by kind.
    t.fake.inject_random_extended(1.0, 7, 10);
    for _ in 0..20 {
        let _ = t.c.get(t.app_url("h3")).bearer_auth(&t.tok).send().await;
    }
    let counts = t.fake.random_fault_counts();
    assert_eq!(counts.values().sum::<u64>(), 20, "{counts:?}");
    assert!(counts.contains_key("429-no-retry-after") && counts.contains_key("delay"), "{counts:?}");
    t.fake.clear_faults();
}

#[tokio::test]
async fn wall_clock_provisioning_ignores_poll_counts_and_create_has_no_retry_after() {
    let t = T::new(Options { provision_secs: 1.0, delete_secs: 0.5, retry_after: 1, ..Options::default() }).await;
    let b = body(&t.fake, "quay.io/jupyter/base-notebook:latest");
    let (s, h, _) = t.put("wall", &b).await;
    assert_eq!(s, 201);
    assert!(!h.contains_key("retry-after"), "real ARM sends no Retry-After with a create's 201");
    let op = h["azure-asyncoperation"].to_str().unwrap().to_string();
    // Many polls do not make it faster.
    for _ in 0..10 {
        let (_, h, v) = t.get(&op).await;
        assert_eq!(v["status"], "InProgress");
        assert_eq!(h["retry-after"], "1", "operation polls keep Retry-After");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // Any request (here a list) completes what is due.
    let list = format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps?api-version={API}",
        t.fake.base_url(),
        t.fake.subscription(),
        t.fake.resource_group()
    );
    let (_, _, v) = t.get(&list).await;
    assert_eq!(v["value"][0]["properties"]["provisioningState"], "Succeeded");
    assert_eq!(t.get(&op).await.2["status"], "Succeeded");
    // Deletion by wall clock too.
    assert_eq!(t.delete("wall").await.0, 202);
    assert_eq!(t.get(&t.app_url("wall")).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(t.get(&t.app_url("wall")).await.0, 404);
}

#[tokio::test]
async fn respond_fault_sends_exactly_what_it_says() {
    let t = T::new(Options::default()).await;
    t.fake.inject(fake_arm::Fault::respond(
        "GET",
        "/containerApps/x",
        2,
        429,
        &[("retry-after", "18446744073709551615")],
        json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "m"}}),
    ));
    for _ in 0..2 {
        let (s, h, v) = t.get(&t.app_url("x")).await;
        assert_eq!(s, 429);
        assert_eq!(h["retry-after"], "18446744073709551615");
        assert_eq!(v["error"]["code"], "SubscriptionRequestsThrottled");
    }
    assert_eq!(t.get(&t.app_url("x")).await.0, 404, "only `times` requests");
}
