"""The test group's recordings: plain paths and manifest rows, each with a viewer name safe for file names."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from emotion.core.errors import EmotionError


@dataclass
class Recording:
    viewer: str
    path: Path
    offset_s: float = 0.0


def safe_name(name: str) -> str:
    """A viewer name usable as a file name: no path separators, no '..', no leading dot."""
    return re.sub(r"[^\w.#-]+", "_", str(name)).replace("..", "_").strip("._") or "viewer"


def inside(folder: Path, name: str) -> Path:
    """`folder/name`, refused when it would land outside `folder`."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise EmotionError(f"refusing to write {path}: outside {folder}")
    return path


def recordings_from(paths: list[str], manifest: str | None) -> list[Recording]:
    """Plain paths (offset 0) and/or a manifest CSV `viewer,path,offset_s` (paths relative to it)."""
    found = [Recording(Path(p).stem, Path(p).expanduser()) for p in paths]
    if manifest:
        table = Path(manifest).expanduser()
        if not table.is_file():
            raise EmotionError(f"manifest not found: {table}")
        with open(table, newline="") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                try:
                    path = Path(row["path"]).expanduser()
                    found.append(Recording(row["viewer"], path if path.is_absolute() else table.parent / path,
                                           float(row.get("offset_s") or 0)))
                except (KeyError, ValueError, TypeError) as e:
                    raise EmotionError(f"{table}:{n}: expected viewer,path,offset_s ({e})") from None
    for r in found:
        r.viewer = safe_name(r.viewer)
    names = [r.viewer for r in found]
    for i, r in enumerate(found):
        if names.count(r.viewer) > 1:
            r.viewer = f"{r.viewer}_{i}"
    return found


def same_classes(meta: dict, classes: list[str]) -> None:
    if list(meta["classes"]) != list(classes):
        raise EmotionError(f"model {meta['uri']} predicts {meta['classes']}, moments expects {list(classes)}")
