//! PUT-body validation: JSON Schema (derived from the SDK models, `data/aca-spec/derived/` at the repository root, the same file acactl checks bodies with) plus the server-side
//! rules of aca-arm.md §5.

use serde_json::{Value, json};
use std::sync::OnceLock;

/// The derived JSON Schema (2020-12) for Microsoft.App 2026-07-01.
pub const SCHEMA_JSON: &str = include_str!("../../../data/aca-spec/derived/microsoft-app.2026-07-01.schema.json");

/// A validation failure: HTTP status, ARM error code, message.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ArmError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ArmError {
        ArmError { status, code: code.to_string(), message: message.into() }
    }
    pub fn bad(code: &str, message: impl Into<String>) -> ArmError {
        Self::new(400, code, message)
    }
    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

fn schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| serde_json::from_str(SCHEMA_JSON).expect("schema json"))
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let s = schema();
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#/$defs/ContainerApp",
            "$defs": s["$defs"].clone(),
        });
        jsonschema::validator_for(&root).expect("compile schema")
    })
}

fn resolve(node: &Value) -> &Value {
    let mut n = node;
    for _ in 0..8 {
        match n.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/$defs/");
                n = &schema()["$defs"][name];
            }
            None => break,
        }
    }
    n
}

/// Remove explicit nulls and canonicalize enum casing (the service treats enums case-insensitively:
/// "single" is stored and returned as "Single"). Values not in the enum are left as they are.
pub fn normalize(body: &mut Value) {
    let root = &schema()["$defs"]["ContainerApp"];
    let mut ro = Vec::new();
    walk(root, body, "", &mut ro);
}

/// Walk instance with schema: drop nulls, canonicalize enums, collect paths of readOnly values.
fn walk(schema_node: &Value, inst: &mut Value, path: &str, readonly: &mut Vec<String>) {
    let s = resolve(schema_node);
    match inst {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            let props = s.get("properties").and_then(Value::as_object);
            let addl = s.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map.iter_mut() {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if let Some(ps) = props.and_then(|p| p.get(k)) {
                    if ps.get("readOnly").and_then(Value::as_bool) == Some(true) {
                        readonly.push(p.clone());
                    }
                    walk(ps, v, &p, readonly);
                } else if let Some(a) = addl {
                    walk(a, v, &p, readonly);
                } else {
                    strip_nulls(v);
                }
            }
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            if let Some(is) = s.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(is, v, &format!("{path}[{i}]"), readonly);
                }
            }
        }
        Value::String(st) => {
            if let Some(en) = s.get("enum").and_then(Value::as_array)
                && let Some(c) = en.iter().filter_map(Value::as_str).find(|e| e.eq_ignore_ascii_case(st))
            {
                *st = c.to_string();
            }
        }
        _ => {}
    }
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Context the server-side rules need: the fake environment.
pub struct EnvCtx<'a> {
    pub environment_id: &'a str,
    /// (name, workloadProfileType)
    pub workload_profiles: &'a [(String, String)],
    pub storages: Vec<String>,
}

/// Schema validation only (after `normalize`): readOnly properties present, types, enums, required.
pub fn validate_schema(body: &Value) -> Result<(), ArmError> {
    let mut copy = body.clone();
    let mut ro = Vec::new();
    walk(&schema()["$defs"]["ContainerApp"], &mut copy, "", &mut ro);
    if let Some(p) = ro.first() {
        return Err(ArmError::bad(
            "ContainerAppInvalidPropertyValue",
            format!("Property '{p}' is read-only and cannot be specified in a create or update request."),
        ));
    }
    let errs: Vec<String> = validator()
        .iter_errors(&copy)
        .take(5)
        .map(|e| {
            let at = e.instance_path.to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            format!("Invalid value at '{at}': {e}")
        })
        .collect();
    if !errs.is_empty() {
        return Err(ArmError::bad("ContainerAppInvalidPropertyValue", errs.join("; ")));
    }
    Ok(())
}

pub const NAME_MESSAGE_TAIL: &str = "A name must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character and cannot have '--'. The length must be between 2 and 32 characters inclusive.";

pub fn valid_app_name(name: &str) -> bool {
    let b = name.as_bytes();
    (2..=32).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
        && !name.contains("--")
}

pub fn check_app_name(name: &str) -> Result<(), ArmError> {
    if valid_app_name(name) {
        Ok(())
    } else {
        Err(ArmError::bad(
            "ContainerAppInvalidName",
            format!("Invalid ContainerApp name '{name}'. {NAME_MESSAGE_TAIL}"),
        ))
    }
}

fn dns_label(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Region short name -> display name.
pub const REGIONS: &[(&str, &str)] = &[
    ("westeurope", "West Europe"),
    ("northeurope", "North Europe"),
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("westus", "West US"),
    ("westus2", "West US 2"),
    ("westus3", "West US 3"),
    ("centralus", "Central US"),
    ("northcentralus", "North Central US"),
    ("southcentralus", "South Central US"),
    ("westcentralus", "West Central US"),
    ("canadacentral", "Canada Central"),
    ("brazilsouth", "Brazil South"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("francecentral", "France Central"),
    ("germanywestcentral", "Germany West Central"),
    ("swedencentral", "Sweden Central"),
    ("switzerlandnorth", "Switzerland North"),
    ("norwayeast", "Norway East"),
    ("polandcentral", "Poland Central"),
    ("italynorth", "Italy North"),
    ("australiaeast", "Australia East"),
    ("japaneast", "Japan East"),
    ("koreacentral", "Korea Central"),
    ("centralindia", "Central India"),
    ("southeastasia", "Southeast Asia"),
    ("eastasia", "East Asia"),
    ("uaenorth", "UAE North"),
    ("southafricanorth", "South Africa North"),
];

/// "West Europe" / "westeurope" -> Some("westeurope")
pub fn region_short(loc: &str) -> Option<&'static str> {
    let n: String = loc.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    REGIONS.iter().find(|(s, _)| *s == n).map(|(s, _)| *s)
}

pub fn region_display(short: &str) -> String {
    REGIONS.iter().find(|(s, _)| *s == short).map(|(_, d)| d.to_string()).unwrap_or_else(|| short.to_string())
}

fn parse_mem_gi(m: &str) -> Option<f64> {
    let m = m.trim();
    if let Some(x) = m.strip_suffix("Gi") {
        x.trim().parse().ok()
    } else if let Some(x) = m.strip_suffix("Mi") {
        x.trim().parse::<f64>().ok().map(|v| v / 1024.0)
    } else {
        None
    }
}

fn has_more_than_2_decimals(x: f64) -> bool {
    ((x * 100.0).round() - x * 100.0).abs() > 1e-6
}

/// Server-side rules (aca-arm.md §5) on a normalized body. `name` is the app name from the URL.
pub fn validate_rules(name: &str, body: &Value, env: &EnvCtx) -> Result<(), ArmError> {
    check_app_name(name)?;
    let bad = |m: String| ArmError::bad("ContainerAppInvalidPropertyValue", m);

    // location
    let loc = body.get("location").and_then(Value::as_str).unwrap_or("");
    if loc.is_empty() {
        return Err(ArmError::bad("LocationRequired", "The location property is required for this definition."));
    }
    if region_short(loc).is_none() {
        return Err(ArmError::bad(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{loc}' is not available for resource type 'Microsoft.App/containerApps'. List of available regions is '{}'.",
                REGIONS.iter().map(|r| r.0).collect::<Vec<_>>().join(",")
            ),
        ));
    }

    // tags
    if let Some(tags) = body.get("tags").and_then(Value::as_object) {
        if tags.len() > 50 {
            return Err(ArmError::bad(
                "InvalidTagCount",
                format!("The number of tags ({}) exceeds the maximum of 50 tags per resource.", tags.len()),
            ));
        }
        for (k, v) in tags {
            if k.chars().any(|c| "<>%&\\?/".contains(c) || c.is_control()) {
                return Err(ArmError::bad(
                    "InvalidTagNameCharacters",
                    format!("The tag names '{k}' have reserved characters '<,>,%,&,\\,?,/' or control characters."),
                ));
            }
            if k.chars().count() > 512 {
                return Err(ArmError::bad(
                    "InvalidTagNameLength",
                    format!("The tag name '{}...' exceeds the maximum length of 512 characters.", &k[..20]),
                ));
            }
            if k.is_empty() {
                return Err(ArmError::bad("InvalidTagName", "Tag names cannot be empty."));
            }
            match v.as_str() {
                Some(s) if s.chars().count() > 256 => {
                    return Err(ArmError::bad(
                        "InvalidTagValueLength",
                        format!("The tag value for tag '{k}' exceeds the maximum length of 256 characters."),
                    ));
                }
                Some(_) => {}
                None => return Err(bad(format!("Tag '{k}' must have a string value."))),
            }
        }
    }

    // identity
    let ident_type = body.pointer("/identity/type").and_then(Value::as_str).unwrap_or("None");
    let uais: Vec<String> = body
        .pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
        .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let system = ident_type.contains("SystemAssigned");
    if ident_type.contains("UserAssigned") && uais.is_empty() {
        return Err(bad(
            "The 'userAssignedIdentities' property must be specified when identity type is 'UserAssigned'.".into(),
        ));
    }
    let identity_known =
        |id: &str| -> bool { (id.eq_ignore_ascii_case("system") && system) || uais.contains(&id.to_ascii_lowercase()) };

    let props = body.get("properties").cloned().unwrap_or(json!({}));
    // environment
    let env_id =
        props.get("environmentId").or_else(|| props.get("managedEnvironmentId")).and_then(Value::as_str).unwrap_or("");
    if env_id.is_empty() {
        return Err(bad("Property 'properties.environmentId' is required.".into()));
    }
    if !env_id.eq_ignore_ascii_case(env.environment_id) {
        return Err(ArmError::new(
            404,
            "ManagedEnvironmentNotFound",
            format!("The environment '{env_id}' was not found."),
        ));
    }
    // workload profile
    let wp_name = props.get("workloadProfileName").and_then(Value::as_str);
    let wp_type = match wp_name {
        None => "Consumption".to_string(),
        Some(n) => match env.workload_profiles.iter().find(|(pn, _)| pn.eq_ignore_ascii_case(n)) {
            Some((_, t)) => t.clone(),
            None => {
                return Err(ArmError::bad(
                    "WorkloadProfileNameNotFound",
                    format!(
                        "Workload profile '{n}' does not exist in managed environment '{env_id}'. Available profiles: {}.",
                        env.workload_profiles.iter().map(|p| p.0.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        },
    };

    // secrets
    let conf = props.get("configuration").cloned().unwrap_or(json!({}));
    let mut secret_names: Vec<String> = vec![];
    for s in conf.get("secrets").and_then(Value::as_array).cloned().unwrap_or_default() {
        let n = s.get("name").and_then(Value::as_str).unwrap_or("");
        let ok = dns_label(n, 253) && !n.contains('.');
        if !ok {
            return Err(ArmError::bad(
                "ContainerAppInvalidSecretName",
                format!(
                    "Invalid Secret name '{n}'. A secret name must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character. The length must not be more than 253 characters."
                ),
            ));
        }
        if secret_names.iter().any(|x| x == n) {
            return Err(ArmError::bad(
                "ContainerAppDuplicateSecretName",
                format!("Secret name '{n}' is defined more than once."),
            ));
        }
        if let Some(id) = s.get("identity").and_then(Value::as_str)
            && !identity_known(id)
        {
            return Err(bad(format!("Identity '{id}' of secret '{n}' is not assigned to the container app.")));
        }
        if s.get("keyVaultUrl").is_some() && s.get("value").is_some() {
            return Err(bad(format!("Secret '{n}' cannot have both 'value' and 'keyVaultUrl'.")));
        }
        secret_names.push(n.to_string());
    }

    // registries
    for r in conf.get("registries").and_then(Value::as_array).cloned().unwrap_or_default() {
        let server = r.get("server").and_then(Value::as_str).unwrap_or("");
        if server.is_empty() {
            return Err(ArmError::bad("ContainerAppInvalidRegistryServerValue", "Registry server must be specified."));
        }
        if let Some(id) = r.get("identity").and_then(Value::as_str) {
            if !identity_known(id) {
                return Err(bad(format!(
                    "The identity '{id}' of registry '{server}' must be one of the identities assigned to the container app (identity.userAssignedIdentities), or 'system' with a system-assigned identity."
                )));
            }
            if r.get("username").is_some() || r.get("passwordSecretRef").is_some() {
                return Err(bad(format!("Registry '{server}' cannot use both identity and username/password.")));
            }
        }
        if let Some(p) = r.get("passwordSecretRef").and_then(Value::as_str)
            && !secret_names.iter().any(|s| s == p)
        {
            return Err(ArmError::bad(
                "ContainerAppSecretRefNotFound",
                format!("Registry password secret reference '{p}' not found in the container app secrets."),
            ));
        }
    }

    // ingress
    if let Some(ing) = conf.get("ingress") {
        let tp = ing.get("targetPort").and_then(Value::as_i64);
        if let Some(p) = tp
            && !(0..=65535).contains(&p)
        {
            return Err(bad(format!("Ingress targetPort {p} is out of range.")));
        }
        if let Some(rules) = ing.get("ipSecurityRestrictions").and_then(Value::as_array) {
            let actions: std::collections::BTreeSet<&str> =
                rules.iter().filter_map(|r| r.get("action").and_then(Value::as_str)).collect();
            if actions.len() > 1 {
                return Err(
                    bad("All ipSecurityRestrictions must have the same action (all Allow or all Deny).".into()),
                );
            }
        }
        if ing.get("stickySessions").and_then(|s| s.get("affinity")).and_then(Value::as_str) == Some("sticky")
            && conf.get("activeRevisionsMode").and_then(Value::as_str) == Some("Multiple")
        {
            return Err(bad("Sticky sessions require activeRevisionsMode 'Single'.".into()));
        }
    }

    // template
    let tmpl = props.get("template").cloned().unwrap_or(json!({}));
    let containers = tmpl.get("containers").and_then(Value::as_array).cloned().unwrap_or_default();
    if containers.is_empty() {
        return Err(bad("Property 'properties.template.containers' must contain at least one container.".into()));
    }
    if let Some(suffix) = tmpl.get("revisionSuffix").and_then(Value::as_str)
        && !suffix.is_empty()
    {
        let ok = dns_label(suffix, 63) && !suffix.contains("--");
        if !ok || name.len() + 2 + suffix.len() > 54 {
            return Err(ArmError::bad(
                "ContainerAppInvalidRevisionName",
                format!(
                    "Invalid revision name '{name}--{suffix}'. A revision name must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character and cannot have '--'. The length must not be more than 54 characters."
                ),
            ));
        }
    }
    let volumes = tmpl.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut volume_names = vec![];
    for v in &volumes {
        let vn = v.get("name").and_then(Value::as_str).unwrap_or("");
        if vn.is_empty() || vn.contains('.') {
            return Err(bad(format!("Invalid volume name '{vn}'.")));
        }
        let st = v.get("storageType").and_then(Value::as_str).unwrap_or("EmptyDir");
        if st == "AzureFile" || st == "NfsAzureFile" {
            let sn = v.get("storageName").and_then(Value::as_str).unwrap_or("");
            if !env.storages.iter().any(|s| s.eq_ignore_ascii_case(sn)) {
                return Err(ArmError::bad(
                    "ManagedEnvironmentStorageNotFound",
                    format!("Storage '{sn}' of volume '{vn}' was not found in managed environment '{env_id}'."),
                ));
            }
        }
        volume_names.push(vn.to_string());
    }
    let mut cpu_total = 0.0f64;
    let mut mem_total = 0.0f64;
    let mut container_names: Vec<String> = vec![];
    let init = tmpl.get("initContainers").and_then(Value::as_array).cloned().unwrap_or_default();
    for (is_init, c) in containers.iter().map(|c| (false, c)).chain(init.iter().map(|c| (true, c))) {
        let cn = c.get("name").and_then(Value::as_str).unwrap_or("");
        if cn.is_empty() {
            return Err(bad("Container name is required.".into()));
        }
        // container names are case-insensitively unique; the service lowercases them internally.
        if !dns_label(&cn.to_ascii_lowercase(), 63) {
            return Err(bad(format!(
                "Invalid container name '{cn}'. A container name must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character."
            )));
        }
        if container_names.iter().any(|x| x.eq_ignore_ascii_case(cn)) {
            return Err(bad(format!("Container name '{cn}' is used more than once.")));
        }
        container_names.push(cn.to_string());
        if c.get("image").and_then(Value::as_str).unwrap_or("").is_empty() {
            return Err(bad(format!("Container '{cn}' must specify an image.")));
        }
        let mut env_names: Vec<String> = vec![];
        for e in c.get("env").and_then(Value::as_array).cloned().unwrap_or_default() {
            let en = e.get("name").and_then(Value::as_str).unwrap_or("");
            let ok = !en.is_empty()
                && (en.as_bytes()[0].is_ascii_alphabetic() || en.as_bytes()[0] == b'_')
                && en.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(ArmError::bad(
                    "ContainerAppInvalidEnvVarName",
                    format!(
                        "Invalid environment variable name '{en}' in container '{cn}'. The allowed characters are 'a-z, A-Z, 0-9 and _', and it must not start with a digit."
                    ),
                ));
            }
            if env_names.iter().any(|x| x == en) {
                return Err(ArmError::bad(
                    "ContainerAppDuplicateEnvVarName",
                    format!("Environment variable '{en}' is defined more than once in container '{cn}'."),
                ));
            }
            env_names.push(en.to_string());
            if e.get("value").is_some() && e.get("secretRef").is_some() {
                return Err(bad(format!("Environment variable '{en}' cannot have both 'value' and 'secretRef'.")));
            }
            if let Some(sr) = e.get("secretRef").and_then(Value::as_str)
                && !secret_names.iter().any(|s| s == sr)
            {
                return Err(ArmError::bad(
                    "ContainerAppSecretRefNotFound",
                    format!("SecretRef '{sr}' defined for container '{cn}' not found."),
                ));
            }
        }
        for m in c.get("volumeMounts").and_then(Value::as_array).cloned().unwrap_or_default() {
            let vn = m.get("volumeName").and_then(Value::as_str).unwrap_or("");
            if !volume_names.iter().any(|x| x == vn) {
                return Err(bad(format!("Volume mount of container '{cn}' references unknown volume '{vn}'.")));
            }
        }
        for p in c.get("probes").and_then(Value::as_array).cloned().unwrap_or_default() {
            for (k, lo, hi) in [
                ("initialDelaySeconds", 0, 60),
                ("periodSeconds", 1, 240),
                ("timeoutSeconds", 1, 240),
                ("failureThreshold", 1, 10),
                ("successThreshold", 1, 10),
            ] {
                if let Some(v) = p.get(k).and_then(Value::as_i64)
                    && (v < lo || v > hi)
                {
                    return Err(bad(format!(
                        "Probe property '{k}' of container '{cn}' must be between {lo} and {hi}."
                    )));
                }
            }
        }
        if !is_init {
            let cpu = c.pointer("/resources/cpu").and_then(Value::as_f64).unwrap_or(0.5);
            let mem_s = c.pointer("/resources/memory").and_then(Value::as_str).unwrap_or("1Gi");
            let Some(mem) = parse_mem_gi(mem_s) else {
                return Err(ArmError::bad(
                    "ContainerAppInvalidResourceTotal",
                    format!("Invalid memory value '{mem_s}' for container '{cn}'."),
                ));
            };
            if has_more_than_2_decimals(cpu) {
                return Err(ArmError::bad(
                    "ContainerAppInvalidResourceTotal",
                    format!("CPU value {cpu} of container '{cn}' must have at most 2 decimal places."),
                ));
            }
            cpu_total += cpu;
            mem_total += mem;
        }
    }
    check_resources(&wp_type, cpu_total, mem_total)?;

    // scale
    if let Some(sc) = tmpl.get("scale") {
        let min = sc.get("minReplicas").and_then(Value::as_i64).unwrap_or(0);
        let max = sc.get("maxReplicas").and_then(Value::as_i64).unwrap_or(10);
        if !(0..=1000).contains(&min) || !(1..=1000).contains(&max) || min > max {
            return Err(bad(format!(
                "Invalid scale range: minReplicas {min}, maxReplicas {max}. minReplicas must be 0-1000, maxReplicas 1-1000 and minReplicas <= maxReplicas."
            )));
        }
    }
    Ok(())
}

fn check_resources(wp_type: &str, cpu: f64, mem: f64) -> Result<(), ArmError> {
    let cpu = (cpu * 100.0).round() / 100.0;
    let mem = (mem * 100.0).round() / 100.0;
    if wp_type.eq_ignore_ascii_case("Consumption") {
        let mut pairs = vec![];
        let mut c = 0.25;
        while c <= 4.0 + 1e-9 {
            pairs.push((c, c * 2.0));
            c += 0.25;
        }
        if pairs.iter().any(|(pc, pm)| (pc - cpu).abs() < 1e-6 && (pm - mem).abs() < 1e-6) {
            return Ok(());
        }
        let list: Vec<String> = pairs.iter().map(|(c, m)| format!("[cpu: {c}, memory: {m:.1}Gi]")).collect();
        return Err(ArmError::bad(
            "ContainerAppInvalidResourceTotal",
            format!(
                "The total requested CPU and memory resources for this application (CPU: {cpu}, memory: {mem}Gi) is invalid. Total CPU and memory for all containers defined in a Container App must add up to one of the following CPU - Memory combinations: {}",
                list.join("; ")
            ),
        ));
    }
    let lim = match wp_type {
        t if t.eq_ignore_ascii_case("Consumption-GPU-NC8as-T4") => Some((8.0, 56.0)),
        t if t.eq_ignore_ascii_case("Consumption-GPU-NC24-A100") => Some((24.0, 220.0)),
        "D4" => Some((4.0, 16.0)),
        "D8" => Some((8.0, 32.0)),
        "D16" => Some((16.0, 64.0)),
        "D32" => Some((32.0, 128.0)),
        "E4" => Some((4.0, 32.0)),
        "E8" => Some((8.0, 64.0)),
        "E16" => Some((16.0, 128.0)),
        "E32" => Some((32.0, 256.0)),
        _ => None,
    };
    if let Some((c, m)) = lim
        && (cpu > c + 1e-9 || mem > m + 1e-9)
    {
        return Err(ArmError::bad(
            "ContainerAppInvalidResourceTotal",
            format!(
                "The total requested CPU and memory resources for this application (CPU: {cpu}, memory: {mem}Gi) exceed the limits of workload profile type '{wp_type}' (CPU: {c}, memory: {m}Gi)."
            ),
        ));
    }
    Ok(())
}

/// Full PUT validation as the fake applies it: normalize (nulls, enum casing), schema, server rules.
/// Returns the normalized body.
pub fn validate_put(name: &str, body: &Value, env: &EnvCtx) -> Result<Value, ArmError> {
    if !body.is_object() {
        return Err(ArmError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the body must be a JSON object.",
        ));
    }
    check_app_name(name)?;
    if body.get("location").is_none_or(Value::is_null) {
        return Err(ArmError::bad("LocationRequired", "The location property is required for this definition."));
    }
    validate_schema(body)?;
    let mut b = body.clone();
    normalize(&mut b);
    validate_rules(name, &b, env)?;
    Ok(b)
}
