//! `fake-arm` binary: runs the fake standalone (for the real-JupyterHub e2e test and benchmarks).
//!
//! ```text
//! fake-arm [--listen 127.0.0.1:0] [--ingress-listen 127.0.0.1:0] [--state-dir DIR] [--launch]
//!          [--provision-polls N] [--provision-secs S] [--delete-secs S] [--retry-after S]
//!          [--failure-polls N] [--page-size N] [--throttle arm|reads=B/R,writes=B/R,deletes=B/R]
//!          [--subscription ID] [--resource-group RG] [--environment NAME] [--location LOC]
//!          [--identity-header SECRET] [--workload-profile NAME=TYPE]... [--route-by-prefix]
//!          [--hub [ADDR]]
//! ```
//! `--hub` also starts the fake JupyterHub REST API (plain HTTP; `hub_api_url`, `hub_admin_url` in the
//! startup JSON).
//! Prints one JSON line when ready, then runs until SIGTERM/SIGINT (launched processes are killed).

use fake_arm::{FakeArm, Options};
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!(
        "usage: fake-arm [--listen ADDR] [--ingress-listen ADDR] [--state-dir DIR] [--launch] [--route-by-prefix] [--provision-polls N] \
         [--provision-secs S] [--delete-secs S] [--throttle arm|reads=B/R,writes=B/R,deletes=B/R] [--retry-after S] [--failure-polls N] [--page-size N] [--subscription ID] [--resource-group RG] \
         [--environment NAME] [--location LOC] [--identity-header SECRET] [--workload-profile NAME=TYPE]... [--hub]"
    );
    std::process::exit(2)
}

/// `arm` = ARM's per-principal buckets (reads 250 + 25/s, writes and deletes 200 + 10/s), or
/// `reads=B/R,writes=B/R,deletes=B/R` (any subset; absent classes are unlimited).
fn parse_throttle(spec: &str) -> Option<fake_arm::Throttle> {
    if spec == "arm" {
        return Some(fake_arm::Throttle {
            reads: Some((250, 25.0)),
            writes: Some((200, 10.0)),
            deletes: Some((200, 10.0)),
        });
    }
    let mut t = fake_arm::Throttle::default();
    for part in spec.split(',') {
        let (class, v) = part.split_once('=')?;
        let (b, r) = v.split_once('/')?;
        let bucket = Some((b.parse().ok()?, r.parse().ok()?));
        match class {
            "reads" => t.reads = bucket,
            "writes" => t.writes = bucket,
            "deletes" => t.deletes = bucket,
            _ => return None,
        }
    }
    Some(t)
}

fn main() -> anyhow::Result<()> {
    let mut o = Options { retry_after: 1, ..Options::default() };
    let mut hub = false;
    let mut throttle: Option<fake_arm::Throttle> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (k, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut val = || inline.clone().or_else(|| args.next()).unwrap_or_else(|| usage());
        match k.as_str() {
            "--listen" => o.listen = val().parse()?,
            "--ingress-listen" => o.ingress_listen = val().parse()?,
            "--state-dir" => o.state_dir = Some(PathBuf::from(val())),
            "--launch" => o.launch = true,
            "--route-by-prefix" => o.ingress_route_by_prefix = true,
            "--hub" => hub = true,
            "--provision-polls" => o.provision_polls = val().parse()?,
            "--retry-after" => o.retry_after = val().parse()?,
            "--provision-secs" => o.provision_secs = val().parse()?,
            "--delete-secs" => o.delete_secs = val().parse()?,
            "--throttle" => throttle = Some(parse_throttle(&val()).unwrap_or_else(|| usage())),
            "--failure-polls" => o.failure_polls = val().parse()?,
            "--page-size" => o.page_size = val().parse()?,
            "--subscription" => o.subscription = val(),
            "--resource-group" => o.resource_group = val(),
            "--environment" => o.environment_name = val(),
            "--location" => o.location = val(),
            "--identity-header" => o.identity_header = val(),
            "--workload-profile" => {
                let v = val();
                let (n, t) = v.split_once('=').unwrap_or_else(|| usage());
                o.workload_profiles.push((n.to_string(), t.to_string()));
            }
            "-h" | "--help" => usage(),
            _ => {
                eprintln!("fake-arm: unknown argument {a}");
                usage()
            }
        }
    }
    let fake = FakeArm::try_start(o)?;
    if let Some(t) = throttle {
        fake.set_throttle(t);
    }
    let fake_hub = if hub { Some(fake_arm::FakeHub::start_on("127.0.0.1:0".parse()?)?) } else { None };
    let mut info = fake.info_json();
    if let Some(h) = &fake_hub {
        info["hub_api_url"] = serde_json::json!(h.api_url());
        info["hub_admin_url"] = serde_json::json!(h.admin_url());
    }
    println!("{}", serde_json::to_string(&info)?);
    use std::io::Write;
    std::io::stdout().flush()?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        anyhow::Ok(())
    })?;
    drop(fake_hub);
    drop(fake);
    Ok(())
}
