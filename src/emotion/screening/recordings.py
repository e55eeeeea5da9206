"""The test group's recordings: plain paths and manifest rows, each with a viewer name safe for file names."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from emotion.core.errors import EmotionError


@dataclass
class Recording:
    """A camera's recording: the viewer name it gives, its file, and its place on the episode's timeline
    (`offset_s`, the episode time at the recording's start: None until given or found; how, in `offset_from`)."""

    viewer: str
    path: Path
    offset_s: float | None = None
    offset_from: str = "manifest"
    confidence: float | None = None


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
    """Plain paths and/or a manifest CSV `viewer,path,offset_s` (paths relative to it; offset_s may be empty)."""
    found = [Recording(Path(p).stem, Path(p).expanduser()) for p in paths]
    if manifest:
        table = Path(manifest).expanduser()
        if not table.is_file():
            raise EmotionError(f"manifest not found: {table}")
        with open(table, newline="") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                try:
                    path = Path(row["path"]).expanduser()
                    offset = (row.get("offset_s") or "").strip()
                    seconds = float(offset) if offset else None
                    if seconds is not None and not math.isfinite(seconds):
                        raise ValueError(f"offset_s {offset!r} is not a number of seconds; leave it empty to "
                                         "place the recording by its sound")
                    found.append(Recording(row["viewer"], path if path.is_absolute() else table.parent / path,
                                           seconds))
                except (KeyError, ValueError, TypeError) as e:
                    raise EmotionError(f"{table}:{n}: expected viewer,path,offset_s ({e})") from None
    for r, name in zip(found, unique_names([safe_name(r.viewer) for r in found])):
        r.viewer = name
    return found


def unique_names(names: list[str]) -> list[str]:
    """The names in order, a repeated one numbered (`cam`, `cam_2`, ...) past every name already in the list,
    so two recordings never write one per-frame file (`cam`, `cam`, `cam_1` gives `cam`, `cam_2`, `cam_1`)."""
    given, taken, out = set(names), set(), []
    for name in names:
        candidate, n = name, 1
        while candidate in taken or (candidate != name and candidate in given):
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        out.append(candidate)
    return out


def same_classes(meta: dict, classes: list[str]) -> None:
    if list(meta["classes"]) != list(classes):
        raise EmotionError(f"model {meta['uri']} predicts {meta['classes']}, moments expects {list(classes)}")


def records_given(frames_csv: list[str], frames_dir: str | None,
                  offsets: dict[str, float]) -> list[tuple[str, Path, float]]:
    """(viewer, per-frame CSV, offset) of CSVs given directly, listed or every one in a folder: offsets of the
    recordings placed under the same viewer name, else 0."""
    paths = [Path(p).expanduser() for p in frames_csv]
    paths += sorted(Path(frames_dir).expanduser().glob("*.csv")) if frames_dir else []
    names = unique_names([safe_name(p.stem) for p in paths])
    return [(name, p, offsets.get(name, 0.0)) for name, p in zip(names, paths)]
