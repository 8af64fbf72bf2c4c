//! `--launch` mode: run a local process standing in for the app's container.

use crate::state::{App, Shared};
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Passed through from the fake's own environment so interpreters (Python) work.
const PASS_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "LD_LIBRARY_PATH",
    "TMPDIR",
    "USER",
    "SSL_CERT_FILE",
];

/// host:port of a URL like `http://0.0.0.0:8888/user/x/`.
pub fn url_host_port(url: &str) -> Option<(String, Option<u16>)> {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    let auth = rest.split(['/', '?']).next().unwrap_or("");
    let auth = auth.rsplit_once('@').map(|x| x.1).unwrap_or(auth);
    if let Some(r) = auth.strip_prefix('[') {
        let (h, p) = r.split_once(']')?;
        let port = p.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((format!("[{h}]"), port));
    }
    match auth.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok())),
        None => Some((auth.to_string(), None)),
    }
}

fn replace_port(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let idx = rest.find(['/', '?']).unwrap_or(rest.len());
    let (auth, tail) = rest.split_at(idx);
    let host = match auth.strip_prefix('[') {
        Some(r) => format!("[{}]", r.split_once(']').map(|x| x.0).unwrap_or(r)),
        None => auth.rsplit_once(':').map(|x| x.0.to_string()).unwrap_or(auth.to_string()),
    };
    format!("{scheme}://{host}:{port}{tail}")
}

fn fail_revision(app: &mut App, details: String) {
    let latest = app.latest_revision.clone();
    if let Some(r) = app.revisions.iter_mut().find(|r| r.name == latest) {
        r.running_state = "Failed".into();
        r.health_state = "Unhealthy".into();
        r.container_waiting = Some(details);
    }
    app.latest_ready = String::new();
    app.listening = false;
}

/// The app finished provisioning: (re)start its process.
pub fn on_provisioned(sh: &Arc<Shared>, key: &str) {
    if !sh.opts.launch {
        return;
    }
    let mut old: Option<Child> = None;
    let spawn_result = {
        let mut st = sh.lock();
        let Some(app) = st.apps.get_mut(key) else {
            return;
        };
        old = app.child.take().or(old);
        app.local_port = None;
        app.listening = false;
        prepare_and_spawn(sh, app)
    };
    if let Some(c) = old {
        kill_child(c);
    }
    if let Some(port) = spawn_result {
        let key = key.to_string();
        tokio::spawn(watch(sh.clone(), key, port));
    }
}

fn prepare_and_spawn(sh: &Shared, app: &mut App) -> Option<u16> {
    let c0 = app.spec.pointer("/properties/template/containers/0").cloned().unwrap_or(Value::Null);
    let target_port =
        app.spec.pointer("/properties/configuration/ingress/targetPort").and_then(Value::as_u64).unwrap_or(80) as u16;
    let mut env: Vec<(String, String)> = vec![];
    for e in c0.get("env").and_then(Value::as_array).cloned().unwrap_or_default() {
        let n = e["name"].as_str().unwrap_or("").to_string();
        let v = if let Some(v) = e.get("value").and_then(Value::as_str) {
            v.to_string()
        } else if let Some(sr) = e.get("secretRef").and_then(Value::as_str) {
            app.secrets.iter().find(|(k, _)| k == sr).map(|x| x.1.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        env.push((n, v));
    }
    let svc = env.iter().find(|(k, _)| k == "JUPYTERHUB_SERVICE_URL").map(|x| x.1.clone());
    let bind_ok = svc.as_deref().and_then(url_host_port).is_some_and(|(h, p)| {
        let all = h.is_empty() || h == "0.0.0.0" || h == "[::]";
        all && p == Some(target_port)
    });
    if !bind_ok {
        fail_revision(app, format!("ContainerCrashing: server not listening on 0.0.0.0:{target_port}"));
        return None;
    }
    let mut argv: Vec<String> = vec![];
    for k in ["command", "args"] {
        for a in c0.get(k).and_then(Value::as_array).cloned().unwrap_or_default() {
            argv.push(a.as_str().unwrap_or("").to_string());
        }
    }
    if argv.is_empty() {
        fail_revision(app, "ContainerCrashing: no command/args to run (fake-arm cannot run image entrypoints)".into());
        return None;
    }
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(_) => return None,
    };
    for (k, v) in env.iter_mut() {
        if k == "JUPYTERHUB_SERVICE_URL" {
            *v = replace_port(v, port);
        }
    }
    let dir = sh.state_dir.join("apps").join(&app.name);
    let _ = std::fs::create_dir_all(&dir);
    let out = std::fs::File::create(dir.join("output.log"));
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(&dir).env_clear().process_group(0).stdin(Stdio::null());
    for k in PASS_ENV {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    for (k, v) in &env {
        cmd.env(k, v);
    }
    if let Ok(f) = out
        && let Ok(f2) = f.try_clone()
    {
        cmd.stdout(f).stderr(f2);
    }
    match cmd.spawn() {
        Ok(child) => {
            app.child = Some(child);
            app.local_port = Some(port);
            Some(port)
        }
        Err(e) => {
            fail_revision(app, format!("ContainerCrashing: failed to start '{}': {e}", argv[0]));
            None
        }
    }
}

async fn watch(sh: Arc<Shared>, key: String, port: u16) {
    let mut listening = false;
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        // Probe until the server listens once; afterwards only watch for the process exiting
        // (no need to keep opening connections to it).
        if !listening {
            listening = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok();
        }
        let mut st = sh.lock();
        let Some(app) = st.apps.get_mut(&key) else {
            return;
        };
        if app.local_port != Some(port) {
            return;
        }
        let exited = match app.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(Some(status))) => Some(status),
            _ => None,
        };
        if let Some(status) = exited {
            app.child = None;
            let latest = app.latest_revision.clone();
            if let Some(r) = app.revisions.iter_mut().find(|r| r.name == latest) {
                r.restart_count += 1;
                r.health_state = "Unhealthy".into();
                r.running_state = "Failed".into();
                r.container_waiting =
                    Some(format!("CrashLoopBackOff: back-off restarting failed container (exited: {status})"));
            }
            app.listening = false;
            return;
        }
        app.listening = listening;
    }
}

fn kill_child(mut c: Child) {
    let pid = c.id() as i32;
    unsafe {
        libc::kill(-pid, libc::SIGTERM);
    }
    std::thread::spawn(move || {
        for _ in 0..30 {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = c.wait();
    });
}

/// Kill an app's process group (delete finished / app removed).
pub fn kill_app(app: &mut App) {
    if let Some(c) = app.child.take() {
        kill_child(c);
    }
    app.local_port = None;
    app.listening = false;
}

/// Kill every launched process (shutdown). Waits briefly for them to exit.
pub fn kill_all(sh: &Shared) {
    let children: Vec<Child> = {
        let mut st = sh.lock();
        st.apps.values_mut().filter_map(|a| a.child.take()).collect()
    };
    for mut c in children {
        let pid = c.id() as i32;
        unsafe {
            libc::kill(-pid, libc::SIGTERM);
        }
        let mut done = false;
        for _ in 0..20 {
            if let Ok(Some(_)) = c.try_wait() {
                done = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !done {
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn urls() {
        assert_eq!(url_host_port("http://0.0.0.0:8888/user/a/"), Some(("0.0.0.0".into(), Some(8888))));
        assert_eq!(url_host_port("http://:8888"), Some(("".into(), Some(8888))));
        assert_eq!(url_host_port("http://[::]:8888/x"), Some(("[::]".into(), Some(8888))));
        assert_eq!(replace_port("http://0.0.0.0:8888/user/a/", 1234), "http://0.0.0.0:1234/user/a/");
        assert_eq!(replace_port("http://[::]:8888", 1234), "http://[::]:1234");
        assert_eq!(replace_port("http://:8888/", 99), "http://:99/");
    }
}
