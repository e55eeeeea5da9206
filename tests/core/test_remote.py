"""Remote files: fetched once into the cache from their sources, checked by sha256, never half-written."""

import hashlib
import zipfile

import pytest
from omegaconf import OmegaConf

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.core.remote import extract_once, fetch

from conftest import make_cfg

HINT = "x.path=<file>"


def spec(**values):
    """A `RemoteFile` config, as the YAML of every weight file, archive and detector model has it."""
    return OmegaConf.create({"filename": "w.bin", "path": None, "urls": [], "gdrive_ids": [], "sha256": None, **values})


def test_skillbox_offline_download_fails_with_the_override(tmp_path):
    cfg = make_cfg(["data=skillbox"]).data
    with pytest.raises(EmotionError, match=r"could not download skillbox_train.zip .*data.root="):
        build(OmegaConf.merge(cfg, {"cache_dir": str(tmp_path)}), "data")
    assert not list(tmp_path.iterdir()), "a failed download leaves nothing behind"


def test_fetch_http_caches_and_checks_sha256(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"weights" * 1000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    fetched = fetch(spec(urls=[source.as_uri()], sha256=digest), cache, HINT)
    assert fetched.path == cache / "w.bin" and fetched.sha256 == digest
    source.unlink()  # the second call must not need the source any more
    assert fetch(spec(urls=[source.as_uri()], sha256=digest), cache, HINT).path == fetched.path


def test_fetch_refuses_a_hash_mismatch_and_keeps_nothing(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"tampered")
    with pytest.raises(EmotionError, match="sha256 is"):
        fetch(spec(urls=[source.as_uri()], sha256="0" * 64), tmp_path / "cache", HINT)
    assert not (tmp_path / "cache" / "w.bin").exists()


def test_fetch_falls_back_to_the_next_source(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"ok")
    fetched = fetch(spec(urls=[(tmp_path / "missing.bin").as_uri(), good.as_uri()]), tmp_path / "cache", HINT)
    assert fetched.path.read_bytes() == b"ok"


def test_fetch_local_path(tmp_path):
    with pytest.raises(EmotionError, match="file not found"):
        fetch(spec(path=str(tmp_path / "nope.h5")), tmp_path, HINT)


def test_extract_once(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/train.csv", "image_path,emotion\n")
    out = extract_once(archive, tmp_path / "out")
    assert (out / "inner" / "train.csv").is_file()
    archive.write_bytes(b"garbage")  # already extracted: not read again
    assert extract_once(archive, tmp_path / "out") == out
    with pytest.raises(EmotionError, match="not a valid zip"):
        extract_once(archive, tmp_path / "other")


def carrier(tmp_path, monkeypatch, content=b"weights"):
    """An installed package that carries a file, as face-recognition-models carries dlib's network."""
    package = tmp_path / "site" / "carrier_pkg"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('a carrier is found, never imported')\n")
    (package / "models" / "w.bin").write_bytes(content)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return package / "models" / "w.bin"


def package_spec(**values):
    return spec(package={"module": "carrier_pkg", "file": "models/w.bin", "install": "emotion[pretrained]"}, **values)


def test_fetch_takes_the_file_an_installed_package_carries(tmp_path, monkeypatch):
    path = carrier(tmp_path, monkeypatch)
    digest = hashlib.sha256(b"weights").hexdigest()
    fetched = fetch(package_spec(sha256=digest), tmp_path / "cache", HINT)
    assert fetched == type(fetched)(path, digest)
    assert not (tmp_path / "cache").exists(), "nothing is copied"
    with pytest.raises(EmotionError, match="sha256 is .* expected 0+ "):
        fetch(package_spec(sha256="0" * 64), tmp_path / "cache", HINT)


def test_a_missing_carrier_package_names_the_extra_to_install(tmp_path):
    with pytest.raises(EmotionError, match=r"^w.bin comes with the Python package carrier_pkg, which is not installed: "
                                           r"pip install 'emotion\[pretrained\]' \(or set x.path=<file>\)$"):
        fetch(package_spec(), tmp_path / "cache", HINT)
    local = tmp_path / "mine.bin"
    local.write_bytes(b"mine")
    assert fetch(package_spec(path=str(local)), tmp_path / "cache", HINT).path == local
