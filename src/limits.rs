//! Resource limits: the Consumption CPU/memory pairs and the per-replica limits of workload
//! profile types. Pure; settings check templates with them, start checks the environment's profiles.

/// Consumption CPU/memory pairs: cpu in 0.25 steps with memory = 2 x cpu Gi; up to 2.0/4.0Gi on a
/// Consumption-only environment and 4.0/8.0Gi on a workload-profile environment's Consumption profile.
/// Dedicated and GPU profiles are checked against the environment's profile type at start.
pub fn validate_resources(cpu: f64, memory: &str, workload_profile: Option<&str>) -> Result<(), String> {
    let Some(mem) = parse_gi(memory) else {
        return Err(format!("memory `{memory}` must be a number of Gi, like 1Gi or 2.5Gi"));
    };
    if cpu.is_nan() || cpu <= 0.0 || (cpu * 100.0).fract().abs() > 1e-9 {
        return Err(format!("cpu {cpu} must be a positive number with at most 2 decimals"));
    }
    let consumption = workload_profile.is_none_or(|p| p.eq_ignore_ascii_case("consumption"));
    if consumption {
        let max = if workload_profile.is_some() { 4.0 } else { 2.0 };
        let quarter = (cpu * 4.0).round();
        let pair_ok = (cpu * 4.0 - quarter).abs() < 1e-9 && cpu <= max + 1e-9 && (mem - cpu * 2.0).abs() < 1e-9;
        if !pair_ok {
            return Err(format!(
                "cpu {cpu} with memory {memory} is not a Consumption pair: allowed are 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, ... up to {max}/{}Gi (memory = 2 x cpu, cpu in steps of 0.25)",
                max * 2.0
            ));
        }
    } else if mem.is_nan() || mem <= 0.0 {
        return Err(format!("memory `{memory}` must be positive"));
    }
    Ok(())
}

/// CPU/memory limits (vCPU, GiB) of a workload profile type, when known.
pub fn workload_profile_limits(kind: &str) -> Option<(f64, f64)> {
    const TYPES: &[(&str, f64, f64)] = &[
        ("Consumption-GPU-NC8as-T4", 8.0, 56.0),
        ("Consumption-GPU-NC24-A100", 24.0, 220.0),
        ("NC24-A100", 24.0, 220.0),
        ("NC48-A100", 48.0, 440.0),
        ("NC96-A100", 96.0, 880.0),
        ("D4", 4.0, 16.0),
        ("D8", 8.0, 32.0),
        ("D16", 16.0, 64.0),
        ("D32", 32.0, 128.0),
        ("E4", 4.0, 32.0),
        ("E8", 8.0, 64.0),
        ("E16", 16.0, 128.0),
        ("E32", 32.0, 256.0),
    ];
    TYPES.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(kind)).map(|&(_, c, m)| (c, m))
}

/// Whether cpu/memory fit a workload profile type: `Ok(true)` checked, `Ok(false)` unknown type
/// (ARM decides), `Err` what is wrong. Consumption takes the Consumption pairs up to 4/8Gi.
pub fn check_workload_profile_resources(kind: &str, cpu: f64, memory: &str) -> Result<bool, String> {
    if kind.eq_ignore_ascii_case("Consumption") {
        return validate_resources(cpu, memory, Some("Consumption")).map(|_| true);
    }
    let Some((max_cpu, max_mem)) = workload_profile_limits(kind) else {
        return Ok(false);
    };
    let mem = parse_gi(memory).ok_or_else(|| format!("memory `{memory}` must be a number of Gi"))?;
    if cpu > max_cpu + 1e-9 || mem > max_mem + 1e-9 {
        return Err(format!(
            "cpu {cpu} / memory {memory} exceed the profile type's {max_cpu} vCPU / {max_mem}Gi per replica"
        ));
    }
    Ok(true)
}

pub fn parse_gi(memory: &str) -> Option<f64> {
    let n: f64 = memory.strip_suffix("Gi")?.parse().ok()?;
    (n.is_finite() && n > 0.0).then_some(n)
}

/// The memory of the Consumption pair for `cpu` (2 x cpu Gi), e.g. `1.5Gi` for 0.75.
pub fn consumption_memory(cpu: f64) -> String {
    let s = format!("{:.2}", cpu * 2.0);
    format!("{}Gi", s.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources() {
        assert!(validate_resources(0.5, "1Gi", None).is_ok());
        assert!(validate_resources(2.0, "4Gi", None).is_ok());
        assert!(validate_resources(2.25, "4.5Gi", None).is_err());
        assert!(validate_resources(2.25, "4.5Gi", Some("Consumption")).is_ok());
        assert!(validate_resources(0.5, "2Gi", None).is_err());
        assert!(validate_resources(0.3, "0.6Gi", None).is_err());
        assert!(validate_resources(0.5, "1G", None).is_err());
        assert!(validate_resources(8.0, "56Gi", Some("gpu-t4")).is_ok());
    }

    #[test]
    fn workload_profile_types() {
        assert_eq!(check_workload_profile_resources("Consumption-GPU-NC8as-T4", 8.0, "56Gi"), Ok(true));
        assert!(check_workload_profile_resources("Consumption-GPU-NC8as-T4", 8.0, "64Gi").is_err());
        assert!(check_workload_profile_resources("Consumption-GPU-NC24-A100", 24.0, "220Gi").is_ok());
        assert!(check_workload_profile_resources("D4", 4.0, "16Gi").is_ok());
        assert!(check_workload_profile_resources("D4", 8.0, "16Gi").is_err());
        assert!(check_workload_profile_resources("E4", 4.0, "32Gi").is_ok());
        assert!(check_workload_profile_resources("Consumption", 4.0, "8Gi").is_ok());
        assert!(check_workload_profile_resources("Consumption", 4.0, "16Gi").is_err());
        assert_eq!(check_workload_profile_resources("Flex-Future", 64.0, "512Gi"), Ok(false));
    }

    #[test]
    fn consumption_memory_is_twice_the_cpu() {
        assert_eq!(consumption_memory(0.5), "1Gi");
        assert_eq!(consumption_memory(0.75), "1.5Gi");
        assert_eq!(consumption_memory(1.125), "2.25Gi");
    }
}
