"""acactl: run each JupyterHub user's notebook server as an Azure Container App.

The wheel carries the ``acactl`` binary (installed beside the Python interpreter, in the
environment's scripts directory) and the JupyterHub spawner, ``acactl.spawner.ExecSpawner``,
registered as the ``jupyterhub.spawners`` entry point ``acactl``:
``c.JupyterHub.spawner_class = "acactl"``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("acactl")  # the crate's version (maturin copies it from Cargo.toml)
except PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = ""
