//! The configuration file as written by the operator (every key optional: resolution decides what
//! is required), parsing with its size and depth limits, and errors that point at a file line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{CredentialKind, TlsRoots};
use crate::error::{Error, Result};
use crate::template::{IngressKind, StorageKind, SubPath};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    pub(super) hub_id: Option<String>,
    pub(super) subscription_id: Option<String>,
    pub(super) resource_group: Option<String>,
    pub(super) environment: Option<String>,
    pub(super) location: Option<String>,
    pub(super) cloud: Option<CloudName>,
    pub(super) cloud_endpoints: Option<CloudEndpointsFile>,
    pub(super) ca_bundle: Option<PathBuf>,
    pub(super) tls_roots: Option<TlsRoots>,
    pub(super) api_version: Option<String>,
    pub(super) credential: Option<CredentialFile>,
    pub(super) cache_dir: Option<PathBuf>,
    #[serde(default)]
    pub(super) hub: HubFile,
    pub(super) registry: Option<RegistryFile>,
    #[serde(default)]
    pub(super) server: ServerFile,
    #[serde(default)]
    pub(super) profiles: Vec<ProfileFile>,
    #[serde(default)]
    pub(super) arm: ArmFile,
    #[serde(default)]
    pub(super) gc: GcFile,
    #[serde(default)]
    pub(super) fleet: FleetFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GcFile {
    /// Seconds one gc run may take in total (listing, deletes, waits): it then stops and releases
    /// its lock whatever ARM says (a `Retry-After` of years included).
    pub(super) deadline: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(super) enum CloudName {
    AzureCloud,
    AzureChinaCloud,
    AzureUSGovernment,
    #[serde(rename = "custom")]
    Custom,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CloudEndpointsFile {
    pub(super) resource_manager: Option<String>,
    pub(super) authority_host: Option<String>,
    pub(super) token_scope: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CredentialFile {
    #[serde(rename = "type")]
    pub(super) kind: Option<CredentialKind>,
    pub(super) client_id: Option<String>,
    pub(super) tenant_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HubFile {
    pub(super) public_url: Option<String>,
    pub(super) connect_url: Option<String>,
    pub(super) allow_origin: Option<String>,
    // For `status` and `gc` (the Hub REST API).
    pub(super) api_url: Option<String>,
    pub(super) api_token: Option<String>,
    pub(super) http_timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegistryFile {
    pub(super) server: Option<String>,
    pub(super) identity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServerFile {
    pub(super) image: Option<String>,
    pub(super) cpu: Option<f64>,
    pub(super) memory: Option<String>,
    pub(super) command: Option<Vec<String>>,
    pub(super) args: Option<Vec<String>>,
    pub(super) target_port: Option<u16>,
    pub(super) ingress: Option<IngressKind>,
    pub(super) workload_profile: Option<String>,
    #[serde(default)]
    pub(super) env: BTreeMap<String, EnvValueFile>,
    pub(super) start_timeout: Option<u64>,
    #[serde(default)]
    pub(super) allowed_ip_ranges: Vec<String>,
    #[serde(default)]
    pub(super) volumes: Vec<VolumeFile>,
    #[serde(default)]
    pub(super) init_containers: Vec<InitContainerFile>,
    pub(super) patch: Option<serde_json::Value>,
}

/// What a profile or a profile option's choice changes in the server template.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OverrideFile {
    pub(super) image: Option<String>,
    pub(super) cpu: Option<f64>,
    pub(super) memory: Option<String>,
    pub(super) workload_profile: Option<String>,
    #[serde(default)]
    pub(super) env: BTreeMap<String, EnvValueFile>,
    pub(super) start_timeout: Option<u64>,
    #[serde(default)]
    pub(super) volumes: Vec<VolumeFile>,
    #[serde(default)]
    pub(super) init_containers: Vec<InitContainerFile>,
    pub(super) patch: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileFile {
    pub(super) slug: String,
    pub(super) display_name: Option<String>,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) default: bool,
    #[serde(default)]
    pub(super) groups: Vec<String>,
    #[serde(default)]
    pub(super) users: Vec<String>,
    #[serde(default)]
    pub(super) server: OverrideFile,
    #[serde(default)]
    pub(super) options: Vec<OptionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OptionFile {
    pub(super) name: String,
    pub(super) display_name: Option<String>,
    pub(super) choices: Vec<ChoiceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChoiceFile {
    pub(super) slug: String,
    pub(super) display_name: Option<String>,
    #[serde(default)]
    pub(super) default: bool,
    #[serde(default)]
    pub(super) server: OverrideFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VolumeFile {
    pub(super) name: String,
    pub(super) storage: String,
    #[serde(rename = "type")]
    pub(super) kind: Option<StorageKind>,
    pub(super) mount_path: String,
    pub(super) sub_path: Option<SubPath>,
    #[serde(default)]
    pub(super) read_only: bool,
    pub(super) mount_options: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InitContainerFile {
    pub(super) name: String,
    pub(super) image: String,
    #[serde(default)]
    pub(super) command: Vec<String>,
    #[serde(default)]
    pub(super) args: Vec<String>,
    #[serde(default)]
    pub(super) env: BTreeMap<String, EnvValueFile>,
    #[serde(default)]
    pub(super) volume_mounts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum EnvValueFile {
    Plain(String),
    Secret(SecretValueFile),
    KeyVault(KeyVaultValueFile),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SecretValueFile {
    pub(super) secret: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyVaultValueFile {
    pub(super) key_vault: String,
    pub(super) identity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ArmFile {
    pub(super) request_timeout: Option<u64>,
    pub(super) max_attempts: Option<u32>,
    pub(super) retry_base_ms: Option<u64>,
    pub(super) retry_max_total: Option<u64>,
    pub(super) poll_interval_ms: Option<u64>,
    pub(super) stop_timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FleetFile {
    pub(super) enabled: Option<bool>,
    pub(super) max_age: Option<u64>,
}

// Errors that point at the file.

pub(super) struct Ctx<'a> {
    pub(super) origin: &'a str,
    pub(super) text: &'a str,
}

impl Ctx<'_> {
    /// Like `err`, but points at the first line containing `needle` below `section` (list items
    /// are named by a field, e.g. `slug: gpu`, which `locate` cannot address).
    pub(super) fn err_near(&self, section: &str, needle: &str, key: &str, why: &str) -> Error {
        let from = locate(self.text, section).unwrap_or(1);
        let line = self
            .text
            .lines()
            .enumerate()
            .skip(from - 1)
            .find(|(_, l)| l.trim_start().trim_start_matches("- ").trim() == needle)
            .map(|(i, _)| i + 1)
            .or(locate(self.text, section));
        let at = match line {
            Some(line) => format!("{}:{line}", self.origin),
            None => self.origin.to_string(),
        };
        Error::config(format!("{at}: `{key}` {why}"))
    }

    pub(super) fn err(&self, key: &str, why: &str) -> Error {
        let at = match locate(self.text, key) {
            Some(line) => format!("{}:{line}", self.origin),
            None => self.origin.to_string(),
        };
        Error::config(format!("{at}: `{key}` {why}"))
    }
}

/// Far beyond any real configuration; a bigger file is refused before parsing.
pub(super) const MAX_CONFIG_BYTES: usize = 4 << 20;
/// Nesting levels a configuration may use (a `patch:` needs a dozen).
pub(super) const MAX_CONFIG_DEPTH: usize = 64;

/// An upper estimate of the YAML nesting depth, in one linear pass: block indentation levels,
/// `- ` entries opening on one line, and flow brackets outside quotes. The parser would
/// otherwise spend minutes on a document nested hundreds of thousands of levels deep.
pub(super) fn nesting_depth(text: &str) -> usize {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut max = 0usize;
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if flow == 0 {
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        let mut dashes = 0;
        let mut rest = body;
        while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            dashes += 1;
            rest = r.trim_start_matches(' ');
        }
        let mut quote: Option<char> = None;
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    flow += 1;
                    max = max.max(indents.len() + dashes + flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        max = max.max(indents.len() + dashes + flow);
    }
    max
}

pub(super) fn parse(text: &str, origin: &str) -> Result<ConfigFile> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    if text.len() > MAX_CONFIG_BYTES {
        return Err(Error::config(format!(
            "{origin}: the configuration is {} bytes; at most {} MiB is read",
            text.len(),
            MAX_CONFIG_BYTES >> 20
        )));
    }
    let depth = nesting_depth(text);
    if depth > MAX_CONFIG_DEPTH {
        return Err(Error::config(format!(
            "{origin}: the configuration is nested about {depth} levels deep; at most {MAX_CONFIG_DEPTH} are allowed"
        )));
    }
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.location().map(|l| l.line()).or_else(|| locate(text, &path));
        let at = match line {
            Some(l) => format!("{origin}:{l}"),
            None => origin.to_string(),
        };
        let message = inner.to_string();
        // serde_yaml_ng appends " at line N column M"; we already say where.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        let key = if path == "." { String::new() } else { format!("`{path}`: ") };
        Error::config(format!("{at}: {key}{message}"))
    })
}

/// The 1-based line of a dotted key path in block-style YAML (good enough to point an operator
/// at the right line; flow-style maps fall back to the nearest parent found).
pub(super) fn locate(text: &str, path: &str) -> Option<usize> {
    let want: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut best: Option<(usize, usize)> = None; // (depth matched, line)
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut body = trimmed;
        while let Some(rest) = body.strip_prefix("- ") {
            indent += 2;
            body = rest.trim_start();
        }
        let Some((key, _)) = body.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches('"').trim_matches('\'');
        while stack.last().is_some_and(|(ind, _)| *ind >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_string()));
        let depth = stack.iter().zip(&want).take_while(|((_, k), w)| k == *w).count();
        if depth == stack.len() && best.is_none_or(|(d, _)| depth > d) {
            best = Some((depth, i + 1));
            if depth == want.len() {
                break;
            }
        }
    }
    best.map(|(_, line)| line)
}
