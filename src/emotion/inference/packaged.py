"""The emotion model that ships inside the package (`model=packaged`): a LiteRT file, its metadata and model card.

A newcomer gets real emotions right after the install, without training: `model=best` falls back to it when
the MLflow store holds no model trained on real data. It is a LiteRT export of a FER+ model this project
trained (models/MODEL_CARD.md says which run, with which command and code, and how well it does), so it runs
through `ai_edge_litert` alone; it has no Keras model, so what needs one (`emotion.export`, `emotion.evaluate
via=dataset`) asks for a tracked model instead.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from emotion.core.errors import EmotionError

PACKAGED = "packaged"
METADATA = "emotion_model.json"


def _folder() -> Path:
    return Path(str(files("emotion.inference").joinpath("models")))


def packaged_metadata(folder: Path | None = None) -> dict | None:
    """The shipped model's metadata (classes, input size, preprocessing, its file and where it came from), or
    None when this install carries no model."""
    folder = folder or _folder()
    try:
        meta = json.loads((folder / METADATA).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise EmotionError(f"the packaged model's metadata {folder / METADATA} is damaged: {e}") from None
    path = folder / meta["file"]
    if not path.is_file():
        raise EmotionError(f"the packaged model {path} is missing: reinstall emotion")
    return {**meta, "path": str(path)}


def require_packaged() -> dict:
    meta = packaged_metadata()
    if meta is None:
        raise EmotionError("this install of emotion carries no packaged model: pass model=<a trained model>")
    return meta
