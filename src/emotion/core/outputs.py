"""Outputs: never one of the inputs, written whole or not at all, storage faults reported in one line.

Every file an entry point writes goes through `atomic`: it is written under a temporary name beside its
final one and renamed when complete, so a killed process or a full disk never leaves a partial file under
a final name, and a file that was already there is untouched until the new one is whole.
"""

from __future__ import annotations

import errno
import glob
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from emotion.core.errors import EmotionError

# What a storage fault looks like from the system: these mean "this output cannot be written here".
WRITE_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM,
                errno.EEXIST, errno.EFBIG, errno.ENAMETOOLONG}
STORAGE_ERROR = 1


class StorageError(EmotionError):
    """An output that cannot be written (read-only or full disk, a folder in the way, no permission)."""

    exit_code = STORAGE_ERROR

    def __init__(self, path: str | Path, reason: str | OSError):
        if isinstance(reason, OSError):
            reason = reason.strerror or str(reason)
        super().__init__(f"cannot write {path}: {reason}")


def is_storage_fault(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in WRITE_ERRNOS


def partial_path(path: Path) -> Path:
    """The temporary name beside `path`: hidden, unique to this process, same suffix (writers choose by it)."""
    return path.with_name(f".{path.name}.partial-{os.getpid()}{path.suffix}")


def _remove_stale(path: Path) -> None:
    """Temporary files of `path` left by processes that were killed (their pid is gone)."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.partial-*"):
        pid = stale.name.removeprefix(f".{path.name}.partial-").split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        pass
    return True


def ensure_folder(folder: str | Path) -> Path:
    """`folder` created if need be; a storage fault on the way is a `StorageError` naming it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(folder, e) from e
    if not os.access(folder, os.W_OK):
        raise StorageError(folder, _not_writable(folder))
    return folder


def _not_writable(folder: Path) -> str:
    return "Read-only file system" if os.statvfs(folder).f_flag & os.ST_RDONLY else "Permission denied"


def writable(folder: str | Path) -> None:
    """A `StorageError` unless `folder`, or the nearest existing folder above it, can be written to."""
    existing = Path(folder).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise StorageError(folder, f"{existing} is not a folder")
    if not os.access(existing, os.W_OK):
        raise StorageError(folder, f"{existing}: {_not_writable(existing)}")


@contextmanager
def atomic(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write `path` to; it becomes `path` only when the block completes.

    On any failure the temporary file is removed and `path` keeps what it had; a storage fault becomes a
    `StorageError` naming `path`.
    """
    path = Path(path)
    if path.is_dir():
        raise StorageError(path, "a folder is in the way")
    ensure_folder(path.parent)
    _remove_stale(path)
    partial = partial_path(path)
    try:
        yield partial
        if partial.exists():  # a writer that had nothing to write leaves `path` as it was
            partial.replace(path)
    except BaseException as e:
        partial.unlink(missing_ok=True)
        if is_storage_fault(e):
            raise StorageError(path, e) from e
        raise


def json_text(value, what: str) -> str:
    """`value` as strict JSON (what a browser's JSON.parse and jq read): a NaN or infinity anywhere is an
    `EmotionError` naming `what`, never a file that strict readers refuse."""
    try:
        return json.dumps(value, indent=1, allow_nan=False) + "\n"
    except ValueError as e:
        raise EmotionError(f"{what}: {e} (a NaN or infinite value)") from None


def write_text(path: str | Path, text: str) -> Path:
    with atomic(path) as partial:
        partial.write_text(text)
    return Path(path)


def same_file(a: str | Path, b: str | Path) -> bool:
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def refuse_inputs(outputs: Mapping[str, str | Path | None], inputs: Mapping[str, str | Path | None]) -> None:
    """An `EmotionError` when an output is, or would replace, one of the inputs; checked before anything is written.

    An output inside an input folder (a folder of images, a data root) is refused too: the next run would read it.
    """
    given = {name: Path(p) for name, p in inputs.items() if p and "://" not in str(p)}
    seen: dict[Path, str] = {}
    for key, out in outputs.items():
        if not out:
            continue
        resolved = Path(out).resolve()
        if resolved in seen:
            raise EmotionError(f"{key} and {seen[resolved]} are one file, {out}: give each its own path")
        seen[resolved] = key
        for name, source in given.items():
            if same_file(out, source) or (source.is_dir() and resolved.is_relative_to(source.resolve())):
                raise EmotionError(f"{key} {out} would replace the input {name} {source}: choose another output path")
