"""A wheel of the project carries its configs: installed into a fresh environment, it runs from an empty folder."""

import os
import site
import subprocess
import sys

import cv2
import pytest

from emotion.data.synthetic import draw_face

from conftest import REPO


@pytest.mark.slow
def test_wheel_runs_the_quick_start_from_an_empty_directory(tmp_path):
    dist, env, empty = tmp_path / "dist", tmp_path / "venv", tmp_path / "empty"
    empty.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)], check=True,
                   capture_output=True, timeout=600)
    [wheel] = dist.glob("emotion-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
    python = env / "bin" / "python"
    fresh = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], check=True, text=True,
                           capture_output=True).stdout.strip()
    # The heavy dependencies (TensorFlow, MLflow, ...) come from this environment's site-packages, added as a
    # plain path: its .pth files (this checkout's editable install among them) are not processed there.
    (env.joinpath(fresh) / "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=600)

    def run(*args):
        return subprocess.run([python, *args], cwd=empty, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "PYTHONPATH": ""})

    where = run("-c", "import emotion, emotion.conf; print(emotion.__file__, emotion.conf.__file__)")
    assert where.returncode == 0 and str(REPO) not in where.stdout and str(env) in where.stdout, where.stdout
    helped = run("-m", "emotion.train", "--help")
    assert helped.returncode == 0 and "experiment: ferplus_cpu, ferplus_dlib, quickstart, seed" in helped.stdout
    trained = run("-m", "emotion.train", "experiment=quickstart", "debug=fast")
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert (empty / "mlflow.db").is_file() and '"model": "emotion-synthetic"' in trained.stdout
    shipped = run("-c", "from emotion.inference.blazeface import FULL_RANGE, SHORT_RANGE, shipped_model as s; "
                        "print(min(s(m).stat().st_size for m in (FULL_RANGE, SHORT_RANGE)), s())")
    assert shipped.returncode == 0 and str(env) in shipped.stdout, shipped.stderr[-2000:]
    assert int(shipped.stdout.split()[0]) > 100_000, "the wheel carries both BlazeFace model files"
    cv2.imwrite(str(empty / "face.png"), draw_face("happy", 96)[..., ::-1])
    # The store holds the quick start's smoke model only: model=best runs the model the wheel carries, offline.
    inferred = run("-m", "emotion.infer", "source=face.png", "display=false")
    assert inferred.returncode == 0 and '"frames": 1' in inferred.stdout, inferred.stderr[-2000:]
    assert '"model": "packaged"' in inferred.stdout and "the packaged model" in inferred.stderr + inferred.stdout
    card = run("-c", "from emotion.inference.packaged import packaged_metadata as m; print(m()['path'])")
    assert card.returncode == 0 and str(env) in card.stdout, card.stderr[-2000:]
