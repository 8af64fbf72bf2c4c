use super::*;
use crate::arm::model::{
    ContainerApp, EnvironmentStorage, ManagedEnvironment, OperationStatus, Page, Replica, Revision,
};
use proptest::prelude::*;

fn response(status: u16, body: Vec<u8>, retry_after: &str) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = reqwest::header::HeaderValue::from_str(retry_after) {
        headers.insert("retry-after", v);
    }
    Response { status: StatusCode::from_u16(status).unwrap(), headers, body }
}

/// Every parser acactl applies to an ARM answer.
fn parse_all(r: &Response) {
    let _ = r.json::<ContainerApp>();
    let _ = r.json::<Page<ContainerApp>>();
    let _ = r.json::<Page<Replica>>();
    let _ = r.json::<Revision>();
    let _ = r.json::<OperationStatus>();
    let _ = r.json::<ManagedEnvironment>();
    let _ = r.json::<EnvironmentStorage>();
    let e = r.error();
    let _ = e.is_not_found();
    let _ = r.retry_after();
    if let Ok(app) = r.json::<ContainerApp>() {
        let _ = crate::phase::app_phase(&app);
        let _ = app.fqdn();
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,20}".prop_map(Value::String),
        prop_oneof![Just("Succeeded"), Just("Failed"), Just("Running"), Just("Deleting"), Just("InProgress")]
            .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        Just("properties".to_string()),
        Just("value".to_string()),
        Just("nextLink".to_string()),
        Just("error".to_string()),
        Just("code".to_string()),
        Just("message".to_string()),
        Just("status".to_string()),
        Just("tags".to_string()),
        Just("provisioningState".to_string()),
        Just("runningStatus".to_string()),
        Just("configuration".to_string()),
        Just("ingress".to_string()),
        Just("template".to_string()),
        "[a-zA-Z]{1,12}",
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(10), ..ProptestConfig::default() })]
    #[test]
    fn arm_parsers_never_panic_on_bytes(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..512), ra in "\\PC{0,30}") {
        parse_all(&response(status, body, &ra));
    }

    #[test]
    fn arm_parsers_never_panic_on_json(status in 100u16..600, v in json_value()) {
        parse_all(&response(status, serde_json::to_vec(&v).unwrap(), "5"));
    }
}
