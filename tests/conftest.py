import importlib.resources
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emotion.core.config import compose_config

from helpers.browser import chromium  # noqa: F401 - fixtures for every test module
from helpers.disks import full_disk, read_only_disk  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# The quick-start preset on a few 32 px drawn faces (epochs as configured) ...
SMALL = [
    "experiment=quickstart",
    "data.per_class=8",
    "data.image_size=32",
    "backbone.input_size=32",
    "schedule.batch_size=16",
]
# ... and shrunk to seconds by the debug group: two batches, one epoch per stage.
TINY = [*SMALL, "debug=fast"]


def make_cfg(overrides=(), config_name="train"):
    return compose_config(config_name, overrides)


def options(group: str) -> list[str]:
    """The options of a config group, as the installed package has them."""
    folder = importlib.resources.files("emotion.conf").joinpath(*group.split("/"))
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


@pytest.fixture(autouse=True)
def float32_after_each_test():
    """A training run sets the process's Keras dtype policy (the FER+ recipe: bfloat16); tests share a process."""
    yield
    if "keras" in sys.modules:
        sys.modules["keras"].mixed_precision.set_global_policy("float32")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh directory with its own MLflow store, checkpoints and cache."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def isolated(tmp_path: Path) -> list[str]:
    return [
        f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
        f"paths.checkpoint_dir={tmp_path}/checkpoints",
        f"paths.cache_dir={tmp_path}/cache",
    ]


@pytest.fixture
def tiny_cfg(workdir):
    def make(*extra):
        return make_cfg(TINY + isolated(workdir) + list(extra))

    return make


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """The real quick start, trained once per session into its own MLflow store.

    Tests that need a model that has learned something (the image contract,
    evaluation paths, inference, export) share it. Export adds LiteRT files to
    it, so tests that care which engine runs name it (`engine=keras|litert`).
    """
    from emotion.train import train

    root = tmp_path_factory.mktemp("store")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        train(make_cfg(["experiment=quickstart", *isolated(root)]))
    finally:
        os.chdir(cwd)
    return root


# The store's quick-start model by name: `model=best` skips smoke models for the packaged one.
SMOKE = "tracking.model_name=emotion-synthetic"


def store_uri(store: Path) -> str:
    return f"sqlite:///{store}/mlflow.db"


def run_cli(module: str, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
