"""What a run is: the hash of its training config (where things go left out) and of the code that trains it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

RUN_KEY = "emotion.run_key"
CODE_KEY = "emotion.code_version"
# Config parts that say where things go, not what is trained: they do not
# change a run's identity.
NOT_IDENTITY = ("paths", "tracking")
PACKAGE = Path(__file__).resolve().parents[1]


def identity(cfg: DictConfig) -> dict:
    resolved = OmegaConf.to_container(cfg, resolve=True)
    return {k: v for k, v in resolved.items() if k not in NOT_IDENTITY}


def run_key(cfg: DictConfig) -> str:
    """Same training config -> same key: how a re-run finds the run it continues."""
    text = OmegaConf.to_yaml(OmegaConf.create(identity(cfg)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=PACKAGE)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def code_version() -> str:
    """A hash of this package's Python sources: equal only when the code that trains is equal.

    Unlike the git commit it also exists in a wheel install and changes with
    uncommitted edits.
    """
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_name() -> str | None:
    """The run's name in MLflow: the command line's overrides, without those that say where things go.

    Read unresolved: an override may hold an interpolation of the training config (`${steps:1}`).
    """
    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    overrides = OmegaConf.to_container(hydra.overrides.task, resolve=False)
    excluded = set(hydra.job.config.override_dirname.exclude_keys)
    return ",".join(sorted(o for o in overrides if o.split("=", 1)[0] not in excluded)) or "defaults"
