"""The installed package, and JupyterHub's base Spawner settings: each is honoured or refused at
hub start-up with the acactl setting to use (README: "JupyterHub's Spawner settings")."""

import asyncio
import importlib.metadata
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyterhub.app import JupyterHub
from traitlets.config import Config

import acactl
from acactl.spawner import ExecSpawner, ExecSpawnerError, installed_binary

REPO = Path(__file__).resolve().parents[2]
START_OK = {"stdout": {"name": "app", "url": "http://app", "state": {"id": "x"}}}


# --- the package --------------------------------------------------------------


def test_binary_installed_beside_the_interpreter():
    binary = installed_binary()
    assert binary is not None
    # the environment's scripts directory: where `pip install` put the wheel's binary
    assert Path(binary).parent == Path(sys.executable).resolve().parent or Path(binary).parent == Path(
        sys.prefix, "bin"
    ).resolve()
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["acactl", acactl.__version__]


def test_version_is_the_crates():
    cargo = (REPO / "Cargo.toml").read_text()
    crate_version = re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)
    assert acactl.__version__ == crate_version
    assert importlib.metadata.version("acactl") == crate_version


def test_entry_point_names_the_spawner():
    (ep,) = [e for e in importlib.metadata.entry_points(group="jupyterhub.spawners") if e.name == "acactl"]
    assert ep.load() is ExecSpawner
    hub = JupyterHub(config=Config({"JupyterHub": {"spawner_class": "acactl"}}))
    assert hub.spawner_class is ExecSpawner


def test_default_command_is_the_installed_binary():
    assert ExecSpawner().command == [installed_binary()]
    assert ExecSpawner(command=["/opt/acactl"]).command == ["/opt/acactl"]  # `command` still overrides


def test_no_installed_binary_is_refused_not_searched_on_path(monkeypatch):
    monkeypatch.setattr("acactl.spawner.installed_binary", lambda: None)
    with pytest.raises(ExecSpawnerError, match=r"c\.ExecSpawner\.command"):
        ExecSpawner()
    assert ExecSpawner(command=["/opt/acactl"]).command == ["/opt/acactl"]


# --- the traits table ---------------------------------------------------------

REFUSED = [
    ("cmd", ["jupyter-lab"], "server.command"),
    ("cpu_limit", 2.0, "server.cpu"),
    ("cpu_guarantee", 0.5, "server.cpu"),
    ("mem_limit", "4G", "server.memory"),
    ("mem_guarantee", "1G", "server.memory"),
    ("image", "jupyter/scipy-notebook", "server.image"),
]


@pytest.mark.parametrize("name,value,instead", REFUSED)
def test_refused_traits_name_the_acactl_setting(name, value, instead):
    with pytest.raises(ExecSpawnerError) as e:
        ExecSpawner(config=Config({"Spawner": {name: value}}))
    assert f"c.Spawner.{name}" in str(e.value) and instead in str(e.value)
    # the defaults are fine
    ExecSpawner()


def test_refused_traits_are_all_reported_at_once():
    with pytest.raises(ExecSpawnerError) as e:
        ExecSpawner(config=Config({"Spawner": {"mem_limit": "4G", "cpu_limit": 2.0}}))
    assert "mem_limit" in str(e.value) and "cpu_limit" in str(e.value)



@pytest.mark.asyncio
async def test_args_reach_acactl_as_acactl_args(fake, make_spawner):
    fake.script(start=START_OK)
    sp = make_spawner(args=["--SingleUserNotebookApp.default_url=/lab/tree/x", "--debug"])
    await asyncio.wait_for(sp.start(), 10)
    env = fake.calls()[0]["env"]
    assert json.loads(env["ACACTL_ARGS"]) == ["--SingleUserNotebookApp.default_url=/lab/tree/x", "--debug"]
    assert "ACACTL_ARGS" not in env["ACACTL_FORWARD"].split(",")


@pytest.mark.asyncio
async def test_no_args_no_acactl_args(fake, make_spawner, monkeypatch):
    monkeypatch.setenv("ACACTL_ARGS", '["--from-the-hub-env"]')  # never inherited from the hub
    fake.script(start=START_OK)
    await asyncio.wait_for(make_spawner().start(), 10)
    assert "ACACTL_ARGS" not in fake.calls()[0]["env"]


@pytest.mark.asyncio
async def test_environment_default_url_notebook_dir_are_forwarded(fake, make_spawner):
    fake.script(start=START_OK)
    sp = make_spawner(
        environment={"COURSE": "physics-101"},
        default_url="/lab/tree/{username}",
        notebook_dir="/home/jovyan/{username}",
    )
    await asyncio.wait_for(sp.start(), 10)
    env = fake.calls()[0]["env"]
    forward = env["ACACTL_FORWARD"].split(",")
    # jupyterhub-singleuser reads JUPYTERHUB_DEFAULT_URL and JUPYTERHUB_ROOT_DIR
    for key, value in [
        ("COURSE", "physics-101"),
        ("JUPYTERHUB_DEFAULT_URL", "/lab/tree/marcus"),
        ("JUPYTERHUB_ROOT_DIR", "/home/jovyan/marcus"),
    ]:
        assert env[key] == value and key in forward


# --- refused at hub start-up ----------------------------------------------------

MEMORY_PROXY = '''
from jupyterhub.proxy import Proxy

class MemoryProxy(Proxy):
    routes = {}
    async def start(self):
        pass
    async def stop(self):
        pass
    async def add_route(self, routespec, target, data):
        self.routes[routespec] = dict(routespec=routespec, target=target, data=data)
    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)
    async def get_all_routes(self):
        return dict(self.routes)

c.JupyterHub.proxy_class = MemoryProxy
c.JupyterHub.spawner_class = "acactl"
c.JupyterHub.authenticator_class = "dummy"
'''


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_hub(tmp_path, extra, wait_for_line, timeout=30):
    port = _free_port()
    (tmp_path / "jupyterhub_config.py").write_text(
        MEMORY_PROXY
        + f'c.JupyterHub.hub_bind_url = "http://127.0.0.1:{port}"\n'
        + extra
        + "from acactl.spawner import check_config\ncheck_config(c)\n"
    )
    log = tmp_path / "hub.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                if wait_for_line in log.read_text(errors="replace"):
                    break
                time.sleep(0.1)
            return proc.poll(), log.read_text(errors="replace")
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)


def test_hub_refuses_to_start_with_a_refused_trait(tmp_path):
    code, log = _run_hub(tmp_path, 'c.Spawner.mem_limit = "4G"\nc.Spawner.cmd = ["jupyter-lab"]\n', "never")
    assert code not in (None, 0), log
    assert "acactl spawner: c.Spawner.mem_limit = 4294967296 is not used by the acactl spawner: set acactl's `server.memory`" in log
    assert "c.Spawner.cmd = ['jupyter-lab'] is not used by the acactl spawner" in log
    assert "JupyterHub is now running" not in log


def test_hub_starts_with_supported_traits(tmp_path):
    extra = 'c.Spawner.args = ["--debug"]\nc.Spawner.default_url = "/lab"\nc.Spawner.environment = {"A": "b"}\n'
    code, log = _run_hub(tmp_path, extra, "JupyterHub is now running")
    assert code is None, log  # still running when we stopped it
    assert "JupyterHub is now running" in log
    assert f"Using Spawner: acactl.spawner.ExecSpawner-{acactl.__version__}" in log


def test_batch_extra_brings_batchspawner():
    """`pip install 'acactl[batch]'` (README, "batchspawner") installs batchspawner beside acactl."""
    requires = importlib.metadata.metadata("acactl").get_all("Requires-Dist") or []
    batch = [r for r in requires if "extra" in r and "batch" in r.split("extra", 1)[1]]
    assert [r.split(";")[0].replace(" ", "") for r in batch] == ["batchspawner>=1.3"], requires
    # and nothing else is required for the plain install than JupyterHub itself
    plain = sorted(r.split(";")[0].split(">")[0].split("=")[0].strip() for r in requires if "extra" not in r)
    assert plain == ["jupyterhub", "traitlets"], requires
