//! ARM wire types for Microsoft.App (the subset acactl sends and reads). Tolerant on input:
//! every field is optional, explicit nulls are fine, unknown fields are kept in `extra`, and
//! enums are strings because the service returns other casings ("Auto") and undocumented values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerApp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<ManagedServiceIdentity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<AppProperties>,
    #[serde(skip_serializing)]
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemData {
    pub created_at: Option<String>,
    pub last_modified_at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedServiceIdentity {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_assigned_identities: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_profile_name: Option<String>,
    #[serde(skip_serializing)]
    pub provisioning_state: Option<String>,
    #[serde(skip_serializing)]
    pub running_status: Option<String>,
    #[serde(skip_serializing)]
    pub latest_revision_name: Option<String>,
    #[serde(skip_serializing)]
    pub latest_ready_revision_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Configuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_revisions_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<Secret>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registries: Option<Vec<RegistryCredentials>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Ingress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_settings: Option<Vec<IdentitySettings>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_inactive_revisions: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_vault_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryCredentials {
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingress {
    #[serde(skip_serializing)]
    pub fqdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_insecure: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Vec<TrafficWeight>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_security_restrictions: Option<Vec<IpSecurityRestriction>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpSecurityRestriction {
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub ip_address_range: Option<String>,
    /// Allow | Deny (all rules of an app must use the same action).
    pub action: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficWeight {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_revision: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySettings {
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Vec<Container>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<Container>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<Scale>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<Volume>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: Option<String>,
    /// AzureFile | NfsAzureFile | EmptyDir | Secret
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_options: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub volume_name: Option<String>,
    pub mount_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: Option<String>,
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvironmentVar>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ContainerResources>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<Probe>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<VolumeMount>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentVar {
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerResources {
    /// A JSON number; serde_json's arbitrary precision is not needed for 2 decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpGet {
    pub path: Option<String>,
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scale {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i64>,
}

/// `{value: [...], nextLink}` of list operations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    pub value: Vec<T>,
    pub next_link: Option<String>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub properties: Option<RevisionProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionProperties {
    pub provisioning_state: Option<String>,
    pub provisioning_error: Option<String>,
    pub running_state: Option<String>,
    pub running_state_details: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replica {
    pub properties: Option<ReplicaProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaProperties {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub containers: Vec<ReplicaContainer>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub init_containers: Vec<ReplicaContainer>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaContainer {
    pub name: Option<String>,
    pub ready: Option<bool>,
    pub restart_count: Option<i64>,
    pub running_state: Option<String>,
    pub running_state_details: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedEnvironment {
    pub location: Option<String>,
    pub properties: Option<EnvironmentProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentProperties {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub workload_profiles: Vec<WorkloadProfile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadProfile {
    pub name: Option<String>,
    pub workload_profile_type: Option<String>,
}

/// `managedEnvironments/{env}/storages/{name}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentStorage {
    pub properties: Option<EnvironmentStorageProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentStorageProperties {
    pub azure_file: Option<StorageShare>,
    pub nfs_azure_file: Option<StorageShare>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageShare {
    /// ReadOnly | ReadWrite
    pub access_mode: Option<String>,
}

/// Azure-AsyncOperation status resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    pub status: Option<String>,
    pub error: Option<ErrorDetail>,
}

/// `{"error": {...}}`; ACA sometimes uses PascalCase keys.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorResponse {
    #[serde(alias = "Error")]
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorDetail {
    #[serde(alias = "Code")]
    pub code: Option<String>,
    #[serde(alias = "Message")]
    pub message: Option<String>,
}

impl ContainerApp {
    pub fn props(&self) -> &AppProperties {
        static EMPTY: std::sync::OnceLock<AppProperties> = std::sync::OnceLock::new();
        self.properties.as_ref().unwrap_or_else(|| EMPTY.get_or_init(AppProperties::default))
    }
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.as_ref().and_then(|t| t.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))).map(|(_, v)| v.as_str())
    }
    pub fn fqdn(&self) -> Option<&str> {
        self.props().configuration.as_ref()?.ingress.as_ref()?.fqdn.as_deref().filter(|f| !f.is_empty())
    }
    pub fn first_container(&self) -> Option<&Container> {
        self.props().template.as_ref()?.containers.as_ref()?.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    fn data(rel: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/aca-spec").join(rel);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .unwrap()
    }

    #[test]
    fn official_example_bodies_parse() {
        let put = data("2026-07-01/examples/ContainerApps_CreateOrUpdate.json");
        let body: ContainerApp = serde_json::from_value(put["parameters"]["containerAppEnvelope"].clone()).unwrap();
        assert!(body.first_container().and_then(|c| c.image.as_deref()).is_some());
        for code in ["200", "201"] {
            let app: ContainerApp = serde_json::from_value(put["responses"][code]["body"].clone()).unwrap();
            assert!(app.props().provisioning_state.is_some());
        }
        let get = data("2026-07-01/examples/ContainerApps_Get.json");
        let app: ContainerApp = serde_json::from_value(get["responses"]["200"]["body"].clone()).unwrap();
        assert_eq!(app.props().provisioning_state.as_deref(), Some("Succeeded"));
        assert!(app.fqdn().is_some());
        let list = data("2025-07-01/examples/ContainerApps_ListByResourceGroup.json");
        let page: Page<ContainerApp> = serde_json::from_value(list["responses"]["200"]["body"].clone()).unwrap();
        assert!(!page.value.is_empty());
        let rev = data("2026-07-01/examples/Revisions_Get.json");
        let r: Revision = serde_json::from_value(rev["responses"]["200"]["body"].clone()).unwrap();
        assert_eq!(r.properties.unwrap().running_state.as_deref(), Some("Running"));
        let reps = data("2025-07-01/examples/Replicas_Get.json");
        let r: Replica = serde_json::from_value(reps["responses"]["200"]["body"].clone()).unwrap();
        assert!(!r.properties.unwrap().containers.is_empty());
        let env = data("2026-07-01/examples/ManagedEnvironments_Get.json");
        let e: ManagedEnvironment = serde_json::from_value(env["responses"]["200"]["body"].clone()).unwrap();
        assert!(e.location.is_some());
    }

    #[test]
    fn recorded_responses_parse_with_nulls_and_casing_drift() {
        let rec = data("recorded/azure-cli.2023-07-14.containerapp-create.exchange.json");
        let mut bodies = 0;
        fn walk(v: &Value, bodies: &mut usize) {
            match v {
                Value::Object(m) => {
                    if let Some(props) = m.get("properties")
                        && props.get("provisioningState").is_some()
                        && m.get("type").is_some()
                    {
                        let app: ContainerApp = serde_json::from_value(v.clone()).unwrap();
                        assert!(app.props().provisioning_state.is_some());
                        *bodies += 1;
                    }
                    m.values().for_each(|x| walk(x, bodies));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, bodies)),
                _ => {}
            }
        }
        walk(&rec, &mut bodies);
        assert!(bodies >= 2, "found {bodies} app bodies in the recording");
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            "[a-zA-Z ]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("properties".to_string()),
                        Just("configuration".to_string()),
                        Just("ingress".to_string()),
                        Just("provisioningState".to_string()),
                        Just("tags".to_string()),
                        Just("template".to_string()),
                        Just("containers".to_string()),
                        Just("fqdn".to_string()),
                        "[a-z]{1,6}"
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(3), ..ProptestConfig::default() })]
        #[test]
        fn arbitrary_responses_never_panic(v in arb_json()) {
            if let Ok(app) = serde_json::from_value::<ContainerApp>(v.clone()) {
                let _ = (app.fqdn(), app.tag("x"), app.first_container());
                let _ = crate::phase::app_phase(&app);
            }
            let _ = serde_json::from_value::<Page<ContainerApp>>(v.clone());
            let _ = serde_json::from_value::<Replica>(v.clone());
            let _ = serde_json::from_value::<ErrorResponse>(v);
        }
    }
}
