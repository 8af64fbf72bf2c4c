//! A small JSON Schema check of a ContainerApp body against the SDK-derived schema of
//! Microsoft.App 2026-07-01 (data/aca-spec/derived): property names, types, enums, required
//! keys and read-only properties. Used on bodies changed by a configured merge patch, so a typo like
//! `terminationGracePeriodSecond` fails before any ARM call instead of being ignored by ARM.

use std::sync::OnceLock;

use serde_json::Value;

const SCHEMA_JSON: &str = include_str!("../../data/aca-spec/derived/microsoft-app.2026-07-01.schema.json");

fn defs() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    &S.get_or_init(|| serde_json::from_str(SCHEMA_JSON).unwrap_or(Value::Null))["$defs"]
}

fn resolve(node: &Value) -> &Value {
    let mut n = node;
    for _ in 0..8 {
        match n.get("$ref").and_then(Value::as_str) {
            Some(r) => n = &defs()[r.trim_start_matches("#/$defs/")],
            None => break,
        }
    }
    n
}

/// Ok, or the first problem with its JSON path.
pub fn validate(body: &Value) -> Result<(), String> {
    let root = &defs()["ContainerApp"];
    if root.is_null() {
        return Err("the built-in ContainerApp schema is missing".into());
    }
    check(root, body, "")
}

fn check(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let s = resolve(schema);
    let here = if at.is_empty() { "/" } else { at };
    if v.is_null() {
        return Ok(());
    }
    let ty = s.get("type").and_then(Value::as_str);
    let ok = match ty {
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("string") => v.is_string(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("boolean") => v.is_boolean(),
        _ => true,
    };
    if !ok {
        return Err(format!("`{here}` must be of type {}", ty.unwrap_or("?")));
    }
    if let (Some(allowed), Some(text)) = (s.get("enum").and_then(Value::as_array), v.as_str())
        && !allowed.iter().filter_map(Value::as_str).any(|a| a.eq_ignore_ascii_case(text))
    {
        let list: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        return Err(format!("`{here}` is `{text}`, not one of {}", list.join(", ")));
    }
    match v {
        Value::Object(map) => {
            let props = s.get("properties").and_then(Value::as_object);
            let extra = s.get("additionalProperties").filter(|a| a.is_object());
            for req in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                if !map.contains_key(req) {
                    return Err(format!("`{here}` needs `{req}`"));
                }
            }
            for (k, x) in map {
                let path = format!("{at}/{k}");
                match (props.and_then(|p| p.get(k)), extra) {
                    (Some(ps), _) => {
                        if ps.get("readOnly").and_then(Value::as_bool) == Some(true) && !x.is_null() {
                            return Err(format!("`{path}` is read-only"));
                        }
                        check(ps, x, &path)?;
                    }
                    (None, Some(a)) => check(a, x, &path)?,
                    (None, None) if props.is_some() => {
                        return Err(format!("`{path}` is not a property of this object (typo?)"));
                    }
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.get("items") {
                for (i, x) in items.iter().enumerate() {
                    check(is, x, &format!("{at}/{i}"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catches_typos_types_enums_and_read_only() {
        let ok = json!({"location": "westeurope", "properties": {"template": {"terminationGracePeriodSeconds": 30,
            "containers": [{"name": "n", "image": "i", "resources": {"cpu": 0.5, "memory": "1Gi"}}]},
            "configuration": {"ingress": {"transport": "http", "stickySessions": {"affinity": "sticky"}}}}});
        assert_eq!(validate(&ok), Ok(()));
        let typo = json!({"location": "x", "properties": {"template": {"terminationGracePeriodSecond": 30}}});
        let e = validate(&typo).unwrap_err();
        assert!(e.contains("terminationGracePeriodSecond"), "{e}");
        let ty = json!({"location": "x", "properties": {"template": {"terminationGracePeriodSeconds": "30"}}});
        assert!(validate(&ty).unwrap_err().contains("integer"));
        let en =
            json!({"location": "x", "properties": {"configuration": {"ingress": {"transport": "carrier-pigeon"}}}});
        assert!(validate(&en).unwrap_err().contains("carrier-pigeon"));
        let ro = json!({"location": "x", "properties": {"provisioningState": "Succeeded"}});
        assert!(validate(&ro).unwrap_err().contains("read-only"));
    }
}
