"""Scale out on Ray: moments' classify stage on a local Ray cluster gives the local result; training sweeps
run on hydra-ray-launcher. Each test starts and stops its own cluster on this machine's loopback."""

import csv
import json

import mlflow
import pytest

from emotion.moments import moments

from conftest import SMOKE, TINY, isolated, make_cfg, run_cli
from helpers.files import face_video

pytest.importorskip("ray", reason="Ray is the optional extra: pip install -e '.[ray]'")
pytestmark = pytest.mark.slow


def without_timings(path):
    return [{k: v for k, v in row.items() if not k.endswith("_ms")} for row in csv.DictReader(open(path))]


def in_own_folder(result, output_dir):
    """The result with the paths of its outputs made relative to its output_dir, which differs by design."""
    return json.loads(json.dumps(result).replace(str(output_dir), "<out>"))


def test_moments_on_ray_give_the_local_result(store, tmp_path):
    recordings = [face_video(tmp_path / f"viewer{i}.mp4", frames=30, fps=10.0) for i in range(2)]
    common = [f"recordings=[{','.join(map(str, recordings))}]", "detector=none", "engine=keras", "duration_s=3",
              f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, "scoring.segments.min_len_s=1",
              "scoring.segments.min_gap_s=0"]
    local = moments(make_cfg([*common, f"output_dir={tmp_path}/local"], config_name="moments"))
    on_ray = moments(make_cfg([*common, f"output_dir={tmp_path}/ray", "executor=ray", "executor.workers=2",
                               "executor.num_cpus=2"], config_name="moments"))
    assert local["viewers"] == ["viewer0#0", "viewer1#0"]
    assert in_own_folder(on_ray, tmp_path / "ray") == in_own_folder(local, tmp_path / "local")
    assert in_own_folder(json.loads((tmp_path / "ray" / "moments.json").read_text()), tmp_path / "ray") == (
        in_own_folder(json.loads((tmp_path / "local" / "moments.json").read_text()), tmp_path / "local"))
    for name in ("viewer0.csv", "viewer1.csv"):
        assert without_timings(tmp_path / "ray" / "frames" / name) == without_timings(tmp_path / "local" / "frames" /
                                                                                       name)


def test_training_sweep_on_hydra_ray_launcher(workdir):
    result = run_cli("emotion.train", "-m", "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
                     "+hydra.launcher.ray.init._node_ip_address=127.0.0.1",
                     "+hydra.launcher.ray.init.include_dashboard=false", *TINY, *isolated(workdir),
                     "augment.rotation=0,25", "schedule.stages.finetune.epochs=0", cwd=workdir, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    mlflow.set_tracking_uri(f"sqlite:///{workdir}/mlflow.db")
    found = mlflow.search_runs(experiment_names=["quickstart"], output_format="list")
    [parent] = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in found if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(r.data.params["augment.rotation"] for r in trials) == ["0", "25"]
    assert parent.data.metrics["trials"] == 2 and "best.augment.rotation" in parent.data.params
