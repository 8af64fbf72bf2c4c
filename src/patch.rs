//! The raw-spec escape hatch: a JSON merge patch (RFC 7386) applied to the generated ContainerApp body.
//! acactl owns identity, secrets, tags, the notebook container, volumes and ingress exposure; a patch
//! touching them is refused at configuration time, and the patched body must still read as a
//! ContainerApp (wire types) before it is sent.

use serde_json::{Map, Value};

/// JSON pointers acactl owns. A patch may not set, replace or delete them or anything inside them.
const OWNED: &[&str] = &[
    "/id",
    "/name",
    "/type",
    "/location",
    "/identity",
    "/tags",
    "/kind",
    "/managedBy",
    "/systemData",
    "/properties/environmentId",
    "/properties/managedEnvironmentId",
    "/properties/workloadProfileName",
    "/properties/provisioningState",
    "/properties/configuration/secrets",
    "/properties/configuration/registries",
    "/properties/configuration/identitySettings",
    "/properties/configuration/activeRevisionsMode",
    "/properties/configuration/ingress/external",
    "/properties/configuration/ingress/targetPort",
    "/properties/configuration/ingress/transport",
    "/properties/configuration/ingress/allowInsecure",
    "/properties/configuration/ingress/ipSecurityRestrictions",
    "/properties/configuration/ingress/traffic",
    "/properties/configuration/ingress/fqdn",
    "/properties/template/containers",
    "/properties/template/initContainers",
    "/properties/template/volumes",
    "/properties/template/revisionSuffix",
    "/properties/template/scale/minReplicas",
    "/properties/template/scale/maxReplicas",
];

/// Check a configured patch: a JSON object that leaves acactl's fields alone. Returns it unchanged.
pub fn check_patch(patch: &Value) -> Result<Value, String> {
    let Some(map) = patch.as_object() else {
        return Err("must be a JSON merge patch: a mapping applied to the ContainerApp body".into());
    };
    walk(map, "")?;
    Ok(patch.clone())
}

fn walk(map: &Map<String, Value>, at: &str) -> Result<(), String> {
    for (k, v) in map {
        let path = format!("{at}/{k}");
        let inside_owned = OWNED.iter().any(|o| path == *o || path.starts_with(&format!("{o}/")));
        let replaces_owned = !v.is_object() && OWNED.iter().any(|o| o.starts_with(&format!("{path}/")));
        if inside_owned || replaces_owned {
            return Err(format!(
                "touches `{path}`, which acactl owns (identity, secrets, tags, containers, volumes, ingress exposure, replicas); configure it through acactl's own keys"
            ));
        }
        if let Some(m) = v.as_object() {
            walk(m, &path)?;
        }
    }
    Ok(())
}

/// RFC 7386 MergePatch(target, patch).
pub fn merge(target: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("object");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Apply `patches` in order and check that the result still reads as a ContainerApp.
pub fn apply_all(body: &mut Value, patches: &[Value]) -> Result<(), String> {
    if patches.is_empty() {
        return Ok(());
    }
    for p in patches {
        merge(body, p);
    }
    serde_json::from_value::<crate::arm::model::ContainerApp>(body.clone())
        .map_err(|e| format!("the patched body is not a valid ContainerApp: {e}"))?;
    crate::arm::schema::validate(body).map_err(|e| format!("the patched body is not a valid ContainerApp: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":{"b":"c"}}), json!({"a":{"b":"d","c":null}}), json!({"a":{"b":"d"}})),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!({}), json!({"a":{"bb":{"ccc":null}}}), json!({"a":{"bb":{}}})),
        ];
        for (mut t, p, want) in cases {
            merge(&mut t, &p);
            assert_eq!(t, want);
        }
    }

    #[test]
    fn owned_paths_are_refused() {
        for bad in [
            json!({"identity": {"type": "SystemAssigned"}}),
            json!({"tags": {"x": "y"}}),
            json!({"properties": {"configuration": {"secrets": []}}}),
            json!({"properties": {"template": {"containers": []}}}),
            json!({"properties": {"configuration": null}}),
            json!({"properties": {"configuration": {"ingress": {"external": true}}}}),
            json!({"properties": null}),
            json!([1]),
        ] {
            assert!(check_patch(&bad).is_err(), "{bad}");
        }
        for good in [
            json!({"properties": {"template": {"terminationGracePeriodSeconds": 60}}}),
            json!({"properties": {"configuration": {"ingress": {"stickySessions": {"affinity": "sticky"}}}}}),
            json!({"properties": {"template": {"scale": {"cooldownPeriod": 600}}}}),
        ] {
            assert!(check_patch(&good).is_ok(), "{good}");
        }
    }
}
