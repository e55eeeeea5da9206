"""Remote files (weights, datasets, detector models): a local path, or Drive ids and URLs fetched once into a
cache, checked by sha256.

Every such file is configured by the one spec of `emotion.schema.base.RemoteFile`:
`filename`, `path`, `urls`, `gdrive_ids`, `sha256`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import gdown
from tqdm import tqdm

from emotion.core.errors import EmotionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    path: Path
    sha256: str


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, expected: str | None) -> Fetched:
    actual = sha256_of(path)
    if expected and actual.lower() != expected.lower():
        raise EmotionError(
            f"{path}: sha256 is {actual}, expected {expected} (corrupt or wrong file)"
        )
    return Fetched(path, actual)


def _http(url: str, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, leave=False) as bar:
            while block := response.read(1 << 20):
                out.write(block)
                bar.update(len(block))


def _gdrive(file_id: str, target: Path) -> None:
    if gdown.download(id=file_id, output=str(target), quiet=False) is None:
        raise OSError(f"Google Drive gave nothing for id {file_id}")


def packaged(package) -> Path | None:
    """The file that an installed package carries (a `PackageFile` config), or None when it is not installed.

    The package is found, not imported: its own imports may not hold where it is only a file's carrier.
    """
    found = importlib.util.find_spec(package.module)
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(next(iter(found.submodule_search_locations))) / package.file
    if not path.is_file():
        raise EmotionError(f"{package.module} is installed but has no {package.file}: reinstall {package.install}")
    return path


def fetch(spec, cache_dir: str | Path, override_hint: str) -> Fetched:
    """A verified local copy of the file that `spec` (a `RemoteFile` config) describes.

    A given `path` wins and is never copied. Then the file of an installed
    package (`package`, backbone weights only). Otherwise the cached copy is used
    when present, else each Drive id and URL is tried in turn; a partial
    download never takes the cached name, so an interrupted fetch cannot leave a
    truncated file that looks complete. `override_hint` tells the user which
    key takes a local copy.
    """
    filename, path, sha256 = spec.filename, spec.get("path"), spec.get("sha256")
    gdrive_ids, urls = list(spec.get("gdrive_ids") or []), list(spec.get("urls") or [])
    if path:
        local = Path(path).expanduser()
        if not local.is_file():
            raise EmotionError(f"file not found: {local}")
        return _verified(local, sha256)
    package = spec.get("package")
    if package and (carried := packaged(package)):
        return _verified(carried, sha256)

    target = Path(cache_dir).expanduser() / filename
    if target.is_file():
        return _verified(target, sha256)

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    attempts = [(f"Google Drive id {i}", _gdrive, i) for i in gdrive_ids]
    attempts += [(url, _http, url) for url in urls]
    if not attempts and package:
        raise EmotionError(f"{filename} comes with the Python package {package.module}, which is not installed: "
                           f"pip install '{package.install}' (or set {override_hint})")
    if not attempts:
        raise EmotionError(f"{filename}: no path, Drive id or URL configured")
    failures = []
    for where, method, source in attempts:
        try:
            log.info("downloading %s from %s", filename, where)
            method(source, partial)
            fetched = _verified(partial, sha256)
        except EmotionError as e:
            partial.unlink(missing_ok=True)
            failures.append(str(e))
            continue
        except Exception as e:  # noqa: BLE001 - any transport failure means "try the next source"
            partial.unlink(missing_ok=True)
            failures.append(f"{where}: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")
            continue
        partial.replace(target)
        return Fetched(target, fetched.sha256)
    raise EmotionError(
        f"could not download {filename} (offline?) - tried {len(attempts)} source(s), "
        f"last: {failures[-1]}; copy the file here and set {override_hint}"
    )


def extract_once(archive: Path, destination: Path) -> Path:
    """Unzip into `destination` unless a previous extraction completed there."""
    marker = destination / ".extracted"
    if marker.is_file():
        return destination
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
    except zipfile.BadZipFile as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise EmotionError(f"{archive}: not a valid zip archive ({e})") from None
    if destination.exists():
        shutil.rmtree(destination)
    staging.replace(destination)
    marker.touch()
    return destination
