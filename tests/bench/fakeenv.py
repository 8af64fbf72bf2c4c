"""Shared by the benchmark drivers: binaries, the fake-arm process, and an acactl config + env for it."""
import json, os, subprocess

TARGET = os.path.join(os.getcwd(), os.environ.get("CARGO_TARGET_DIR", "target"), "release")
ACACTL = os.path.join(TARGET, "acactl")
FAKE = os.path.join(TARGET, "fake-arm")


def start_fake(state_dir, *args):
    """Start `fake-arm` and return (process, its ready line)."""
    fake = subprocess.Popen([FAKE, "--state-dir", state_dir, *args], stdout=subprocess.PIPE, text=True)
    return fake, json.loads(fake.stdout.readline())


def acactl_env(info, tmp, hub_id, extra=""):
    """Write an acactl config pointing at the fake (managed identity) and return the environment to run it with."""
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write(f"""hub_id: {hub_id}
subscription_id: {info['subscription']}
resource_group: {info['resource_group']}
environment: {info['environment']}
location: {info['location']}
cloud: custom
cloud_endpoints:
  resource_manager: {info['base_url']}
  authority_host: {info['base_url']}
  token_scope: https://management.azure.com/.default
ca_bundle: {info['ca_pem']}
cache_dir: {tmp}/cache
credential:
  type: managed-identity
{extra}""")
    return {"PATH": os.environ["PATH"], "HOME": tmp, "ACACTL_CONFIG": cfg,
            "IDENTITY_ENDPOINT": info["identity_endpoint"], "IDENTITY_HEADER": info["identity_header"],
            "NO_PROXY": "127.0.0.1,localhost"}
