"""contrib/jupyterhub_config.py loads, validates, and derives its values from the environment."""

from pathlib import Path

import pytest
from jupyterhub.app import JupyterHub
from traitlets.config.loader import PyFileConfigLoader

from acactl.spawner import ExecSpawner, installed_binary

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"


def load(monkeypatch, **env):
    for name in ("CONTAINER_APP_NAME", "CONTAINER_APP_ENV_DNS_SUFFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = PyFileConfigLoader("jupyterhub_config.py", path=str(CONTRIB)).load_config()
    return cfg, JupyterHub(config=cfg), ExecSpawner(config=cfg)


def test_defaults_in_aca(monkeypatch):
    cfg, hub, spawner = load(
        monkeypatch,
        CONTAINER_APP_NAME="jhub",
        CONTAINER_APP_ENV_DNS_SUFFIX="kind-1.westeurope.azurecontainerapps.io",
    )
    assert hub.spawner_class is ExecSpawner
    assert hub.public_url == "https://jhub.kind-1.westeurope.azurecontainerapps.io/"
    assert hub.bind_url == "http://0.0.0.0:8000"
    assert hub.hub_bind_url == "http://127.0.0.1:8081"
    assert hub.cleanup_servers is False
    assert hub.tornado_settings["cookie_options"] == {"secure": True}
    assert "--change-origin" in cfg.ConfigurableHTTPProxy.command
    assert "hub_connect_url" not in cfg.JupyterHub  # would loop CHP through the ingress
    assert spawner.hub_connect_url == "http://jhub"
    # the binary installed with the package (the venv's bin/), not a PATH lookup
    assert spawner.command == [installed_binary()]
    assert spawner.config_file == ""
    assert not any("allow_origin" in arg for arg in spawner.args)  # acactl adds it
    # the hub's start_timeout must outlast acactl's own (300) plus the SIGTERM grace
    assert spawner.start_timeout == 360 > 300 + spawner.term_grace
    assert spawner.http_timeout == 60
    assert spawner.poll_interval == 30


def test_env_overrides(monkeypatch):
    _, hub, spawner = load(
        monkeypatch,
        ACACTL_HUB_PUBLIC_URL="https://hub.example.org/",
        ACACTL_HUB_CONNECT_URL="http://hub-app",
        ACACTL_BIN="/opt/acactl",
        ACACTL_CONFIG="/etc/acactl.toml",
        ACACTL_TERM_GRACE="30",
        ACACTL_START_TIMEOUT="300",
        ACACTL_POLL_INTERVAL="300",
    )
    assert hub.public_url == "https://hub.example.org/"
    assert spawner.hub_connect_url == "http://hub-app"
    assert spawner.command == ["/opt/acactl"]
    assert spawner.config_file == "/etc/acactl.toml"
    assert spawner.term_grace == 30
    assert spawner.start_timeout > 300 + 30
    assert spawner.poll_interval == 300


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_env_means_default(monkeypatch, value):
    _, hub, spawner = load(monkeypatch, ACACTL_BIN=value, ACACTL_HUB_PUBLIC_URL=value)
    assert spawner.command == [installed_binary()]
    assert hub.public_url == "http://localhost:8000/"
