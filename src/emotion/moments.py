"""`python -m emotion.moments`: from the test group's recordings to the episode's most gripping moments.

1. each recording is sampled at `fps` on its presentation times and classified
   by the inference engine (the code path of `emotion.infer`), written as its
   per-frame CSV; or those CSVs are given directly, so re-scoring never re-runs
   the model;
2. every tracked face of a recording is a viewer (or only the largest,
   `viewers=largest`); passers-by and unusable recordings are left out, with why;
3. per viewer and second of the episode, emotions against the viewer's own
   baseline; a spectacle score from the viewers reacting together; the top
   segments, shifted earlier by the reaction lag, within a length budget;
4. the trailer cut from the episode with its sound, the timeline, moments.json
   and a review page, all logged as one MLflow run.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from emotion.cli import entry_point
from emotion.config import flatten
from emotion.errors import EmotionError
from emotion.viewers import Recording, classify_recording, inside, recordings_from, safe_name, same_classes, viewers_of

log = logging.getLogger("emotion.moments")


def classify_all(cfg: DictConfig, recordings: list[Recording], out: Path, classes: list[str],
                 left: list[dict]) -> list[tuple[str, Path, float]]:
    """Each readable recording's per-frame CSV in `out/frames`, here or on Ray (`executor`); the others go to
    `left` with the reason."""
    readable = []
    for r in recordings:
        if r.path.is_file():
            readable.append(r)
        else:
            left.append({"viewer": r.viewer, "reason": f"recording not found: {r.path}"})
    if not readable:
        return []
    outputs = [inside(out / "frames", f"{r.viewer}.csv") for r in readable]
    if cfg.executor.kind == "ray":
        from emotion.cluster import classify_on_ray

        problems = classify_on_ray(cfg, readable, outputs)
    else:
        from emotion.engine import build_engine

        engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
        same_classes(meta, classes)
        problems = [classify_recording(r, engine, classes, cfg.fps, path) for r, path in zip(readable, outputs)]
    written = []
    for r, path, problem in zip(readable, outputs, problems):
        if problem:
            left.append({"viewer": r.viewer, "reason": problem})
        else:
            written.append((r.viewer, path, r.offset_s))
    return written


def given_csvs(cfg: DictConfig, offsets: dict[str, float]) -> list[tuple[str, Path, float]]:
    paths = [Path(p).expanduser() for p in cfg.frames_csv or []]
    if cfg.frames_dir:
        paths += sorted(Path(cfg.frames_dir).expanduser().glob("*.csv"))
    return [(safe_name(p.stem), p, offsets.get(safe_name(p.stem), 0.0)) for p in paths]


def write_timeline(path: Path, timeline: dict, classes: list[str]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["second", *classes, "score", "viewers_present"])
        for s, (shares, score, present) in enumerate(zip(timeline["shares"], timeline["score"],
                                                         timeline["present"])):
            writer.writerow([s, *[f"{v:.4f}" if not np.isnan(v) else "" for v in shares], f"{score:.4f}",
                             int(present)])


def episode_duration(cfg: DictConfig, viewers: dict) -> float:
    from emotion.trailer import media_info

    if cfg.episode:
        return media_info(Path(cfg.episode).expanduser()).duration_s
    if cfg.duration_s:
        return float(cfg.duration_s)
    return max((float(t.max()) + 1 for t, _ in viewers.values() if len(t)), default=0.0)


def trailer_and_report(cfg: DictConfig, out: Path, timeline: dict, classes: list[str], chosen: list[dict],
                       result: dict) -> None:
    from emotion.report import plot_timeline, write_report
    from emotion.trailer import cut_trailer, frames_between

    plot_timeline(timeline["shares"], classes, timeline["score"], chosen, out / "timeline.png")
    trailer, thumbnails = None, [[] for _ in chosen]
    if cfg.episode:
        episode = Path(cfg.episode).expanduser()
        cut = cut_trailer(episode, [(m["start_s"], m["end_s"]) for m in chosen], out / "trailer.mp4")
        for m, frames in zip(chosen, cut["segment_frames"]):
            m["frames"] = frames
        result["trailer"] = cut
        trailer = out / "trailer.mp4"
        n = cfg.report.thumbnails
        thumbnails = [frames_between(episode, list(np.linspace(m["start_s"], m["end_s"], n, endpoint=False)))
                      for m in chosen]
    write_report(out / "report.html", timeline, classes, chosen, thumbnails, trailer, cfg.report.embed_trailer_mb)


def log_run(cfg: DictConfig, out: Path, result: dict) -> None:
    import mlflow

    mlflow.set_tracking_uri(cfg.tracking.uri)
    mlflow.set_experiment(cfg.tracking.experiment)
    with mlflow.start_run(run_name=cfg.get("run_name")):
        resolved = OmegaConf.to_container(cfg, resolve=True)
        mlflow.log_params({k: str(v)[:6000] for k, v in flatten(
            {k: v for k, v in resolved.items() if k not in ("tracking", "paths")}).items()})
        mlflow.log_metrics({"moments": len(result["moments"]), "trailer_s": result["trailer_s"],
                            "viewers": len(result["viewers"]), "viewers_left_out": len(result["left_out"])})
        mlflow.log_artifacts(str(out))


def moments(cfg: DictConfig) -> dict:
    from emotion.schema import validate
    from emotion.scoring import score_episode

    validate(cfg, "moments")
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    classes = list(cfg.classes)
    recordings = recordings_from(cfg)
    csvs = given_csvs(cfg, {r.viewer: r.offset_s for r in recordings})
    left: list[dict] = []
    if cfg.stage != "score":  # score: the recordings were classified by earlier jobs, only their offsets count
        csvs += classify_all(cfg, recordings, out, classes, left)
    if cfg.stage == "classify":
        result = {"frames_csv": [str(p) for _, p, _ in csvs], "left_out": left}
        print(json.dumps(result, indent=1))
        return result
    viewers = {}
    for name, path, offset in csvs:
        if not path.is_file():
            left.append({"viewer": name, "reason": f"frames CSV not found: {path}"})
            continue
        found, gone = viewers_of(name, path, offset, classes, cfg.viewers, cfg.min_track_share)
        viewers.update(found)
        left += gone
    duration = episode_duration(cfg, viewers)
    timeline, chosen, used, dropped = score_episode(viewers, classes, duration, cfg)
    left += dropped
    for gone in left:
        log.warning("viewer %s left out: %s", gone["viewer"], gone["reason"])
    if not used:
        raise EmotionError("no viewer with a face inside the episode: nothing to score"
                           + (f" ({len(left)} left out, see the warnings)" if left else ""))
    write_timeline(out / "timeline.csv", timeline, classes)
    result = {"episode_s": round(duration, 3), "viewers": used, "left_out": left, "moments": chosen,
              "trailer_s": round(sum(m["end_s"] - m["start_s"] for m in chosen), 3)}
    trailer_and_report(cfg, out, timeline, classes, chosen, result)
    (out / "moments.json").write_text(json.dumps(result, indent=1) + "\n")
    log_run(cfg, out, result)
    print(json.dumps(result, indent=1))
    return result


main = entry_point("moments", moments)


if __name__ == "__main__":
    main()
