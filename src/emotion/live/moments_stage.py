"""The moments stage of a screening: `python -m emotion.moments` on the joined recordings, with the screening's
own model, engine, detector, sampling, scoring and tracking passed on (its other options in `moments=[...]`),
so that the live per-frame records are the ones moments would make, and kept.

What moments would make them with is known by composing its config with the same overrides: `settings` is what
the records' sidecars must say for moments to keep them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.resources import files

from omegaconf import DictConfig, OmegaConf

from emotion.core.config import compose_config
from emotion.live.folder import Layout
from emotion.screening.classify import settings as record_settings


def quoted(value) -> str:
    """A value as Hydra's override grammar reads it back unchanged."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(quoted(v) for v in value) + "]"
    # Backslashes count only before a quote (doubled there and at the end, before the closing quote); ${ is literal.
    text = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", str(value).replace("${", "\\${"))
    return "'" + re.sub(r"(\\+)$", lambda m: m.group(1) * 2, text) + "'"


def leaves(prefix: str, node) -> list[str]:
    """`prefix.key=value` for every value of a (resolved) group, lists whole, `_target_` left to the option."""
    if isinstance(node, dict):
        return [o for key, value in node.items() if key != "_target_" for o in leaves(f"{prefix}.{key}", value)]
    return [f"{prefix}={quoted(node)}"]


def option_of(group: str, node: DictConfig) -> str:
    """The name of the `group` option (conf/<group>/<name>.yaml) that builds what `node` builds."""
    for entry in files("emotion.conf").joinpath(group).iterdir():
        if entry.name.endswith(".yaml") and OmegaConf.load(str(entry)).get("_target_") == node.get("_target_"):
            return entry.name.removesuffix(".yaml")
    raise ValueError(f"no {group} option builds {node.get('_target_')}")


def passed_on(uri: str, fps: float, classes: list[str], engine: DictConfig, detector: DictConfig,
              scoring: DictConfig, tracking: DictConfig, paths: DictConfig, episode: str | None) -> list[str]:
    """The screening's settings as overrides of emotion.moments."""
    def resolved(node):
        return OmegaConf.to_container(node, resolve=True)

    return [f"model={quoted(uri)}", f"fps={quoted(float(fps))}", f"classes={quoted(list(classes))}",
            *leaves("engine", resolved(engine)), f"detector={option_of('detector', detector)}",
            *leaves("detector", resolved(detector)), *leaves("scoring", resolved(scoring)),
            f"tracking.uri={quoted(tracking.uri)}", f"tracking.model_name={quoted(tracking.model_name)}",
            *leaves("paths", resolved(paths)), *([f"episode={quoted(episode)}"] if episode else [])]


class MomentsStage:
    def __init__(self, layout: Layout, overrides: list[str], extra: list[str]):
        self.args = [*overrides, *extra, f"manifest={quoted(str(layout.manifest))}",
                     f"output_dir={quoted(str(layout.out))}", f"hydra.run.dir={quoted(str(layout.live / 'moments'))}"]
        self.composed = compose_config("moments", self.args)

    def settings(self, uri: str) -> dict:
        """What moments makes a per-frame record with, and so what a live record's sidecar must say."""
        m = self.composed
        return record_settings(uri, list(m.classes), m.fps, m.decode, m.engine, m.detector)

    def run(self) -> int:
        """emotion.moments in its own process; its exit code."""
        return subprocess.run([sys.executable, "-m", "emotion.moments", *self.args], check=False).returncode
