"""`python -m emotion.moments`: from the test group's recordings to the episode's most gripping moments.

1. each recording is sampled at `fps` and classified by the inference engine
   (the code path of `emotion.infer`), written as its per-frame CSV; or those
   CSVs are given directly, so re-scoring never re-runs the model;
2. per viewer and per second of the episode: mean probabilities and face share,
   normalised against the viewer's own baseline;
3. a spectacle score per second: weighted emotions, times how many viewers react
   together, smoothed;
4. the top segments, shifted earlier by the reaction lag, within a length budget,
   and the trailer cut from the episode in story order.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from omegaconf import DictConfig, OmegaConf

from emotion.cli import entry_point
from emotion.config import flatten
from emotion.errors import EmotionError

log = logging.getLogger("emotion.moments")


@dataclass
class Recording:
    viewer: str
    path: Path
    offset_s: float = 0.0


def recordings_from(cfg: DictConfig) -> list[Recording]:
    """Plain paths (offset 0) and/or a manifest CSV `viewer,path,offset_s` (paths relative to it)."""
    paths = [*(cfg.recordings or []), *([cfg.recording] if cfg.recording else [])]
    found = [Recording(Path(p).stem, Path(p).expanduser()) for p in paths]
    if cfg.manifest:
        manifest = Path(cfg.manifest).expanduser()
        if not manifest.is_file():
            raise EmotionError(f"manifest not found: {manifest}")
        with open(manifest, newline="") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                try:
                    path = Path(row["path"]).expanduser()
                    found.append(Recording(row["viewer"], path if path.is_absolute() else manifest.parent / path,
                                           float(row.get("offset_s") or 0)))
                except (KeyError, ValueError) as e:
                    raise EmotionError(f"{manifest}:{n}: expected viewer,path,offset_s ({e})") from None
    names = [r.viewer for r in found]
    for r in found:
        if names.count(r.viewer) > 1:
            r.viewer = f"{r.viewer}_{found.index(r)}"
    return found


def classify_recording(recording: Recording, engine, classes: list[str], fps: float, out: Path) -> Path | None:
    """Sample the recording at `fps`, classify each sample, write infer's per-frame CSV."""
    from emotion.infer import csv_header, csv_rows
    from emotion.video import open_source

    try:
        source = open_source(source=str(recording.path))
    except EmotionError as e:
        log.warning("viewer %s left out: %s", recording.viewer, e)
        return None
    step = max(1, round(source.fps / fps)) if source.fps else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    with open(partial, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_header(classes))
        for frame in source:
            if frame.index % step:
                continue
            writer.writerows(csv_rows(frame.index, frame.time_s, engine.process(frame.image), classes))
    partial.replace(out)
    return out


def read_frames_csv(path: Path, classes: list[str], offset_s: float, largest: bool = True):
    """(episode time of each sample, probabilities of the viewer's face or NaN) from an infer CSV.

    With several faces, the viewer is the face id with the largest total area
    over the recording: the largest stable face.
    """
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return np.zeros(0), np.zeros((0, len(classes)))
    missing = [f"p_{c}" for c in classes if f"p_{c}" not in rows[0]]
    if missing:
        raise EmotionError(f"{path}: not a per-frame CSV of emotion.infer (no {missing[0]} column)")
    area: dict[str, float] = {}
    for r in rows:
        if r["face_id"]:
            area[r["face_id"]] = area.get(r["face_id"], 0) + float(r["w"]) * float(r["h"])
    viewer = max(area, key=area.get) if area else None
    samples: dict[int, tuple[float, np.ndarray]] = {}
    for r in rows:
        frame = int(r["frame"])
        if frame not in samples:
            samples[frame] = (float(r["time_s"]) + offset_s, np.full(len(classes), np.nan))
        if viewer is not None and r["face_id"] == viewer:
            samples[frame] = (samples[frame][0], np.array([float(r[f"p_{c}"]) for c in classes]))
    times = np.array([t for t, _ in samples.values()])
    probabilities = np.stack([p for _, p in samples.values()])
    return times, probabilities


def per_second(times: np.ndarray, probabilities: np.ndarray, duration_s: int):
    """Per episode second: mean probabilities over samples with the face (NaN if none), face share."""
    k = probabilities.shape[1]
    sums, faces, samples = np.zeros((duration_s, k)), np.zeros(duration_s), np.zeros(duration_s)
    seconds = np.floor(times).astype(int)
    inside = (seconds >= 0) & (seconds < duration_s)
    for s, p in zip(seconds[inside], probabilities[inside]):
        samples[s] += 1
        if not np.isnan(p).any():
            sums[s] += p
            faces[s] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(faces[:, None] > 0, sums / np.maximum(faces, 1)[:, None], np.nan)
        share = np.where(samples > 0, faces / np.maximum(samples, 1), 0.0)
    return means, share


def reactions(means: np.ndarray, weights: np.ndarray, baseline_quantile: float, noise_floor: float,
              scale_quantile: float) -> np.ndarray:
    """A viewer's reaction per second in [0, 1].

    The weighted rise of each emotion above the viewer's own baseline (a
    quantile of their per-second probabilities over the episode), less a noise
    floor, divided by the viewer's own strongest reactions (a high quantile):
    an expressive viewer weighs no more than a quiet one.
    """
    present = ~np.isnan(means).any(axis=1)
    reaction = np.full(len(means), np.nan)
    if not present.any():
        return reaction
    baseline = np.quantile(means[present], baseline_quantile, axis=0)
    rise = np.clip((np.clip(means[present] - baseline, 0, None) * weights).sum(axis=1) - noise_floor, 0, None)
    scale = np.quantile(rise, scale_quantile)
    reaction[present] = np.clip(rise / scale, 0, 1) if scale > 1e-9 else 0.0
    return reaction


def spectacle(reaction: np.ndarray, react_threshold: float, together_power: float, smooth_s: int):
    """Per second: mean reaction of present viewers times the share of them reacting, smoothed."""
    present = ~np.isnan(reaction)
    count = present.sum(axis=0)
    with np.errstate(invalid="ignore"):
        mean = np.where(count > 0, np.nansum(reaction, axis=0) / np.maximum(count, 1), 0.0)
        together = np.where(count > 0, (np.nan_to_num(reaction) > react_threshold).sum(axis=0) / np.maximum(count, 1),
                            0.0)
    score = mean * together ** together_power
    if smooth_s > 1:
        score = np.convolve(score, np.ones(smooth_s) / smooth_s, mode="same")
    return score, count


def select_moments(score: np.ndarray, cfg: DictConfig, duration_s: float) -> list[dict]:
    """Top non-overlapping segments, grown around peaks while the score stays above `keep` x peak.

    Each is at least `min_len_s` and at most `max_len_s`, at least `min_gap_s`
    from the others, shifted `reaction_lag_s` earlier (viewers react after what
    they see), clamped to the episode, within `budget_s` in total; returned in
    story order.
    """
    free = np.ones(len(score), dtype=bool)
    chosen, total = [], 0.0
    while len(chosen) < cfg.top_k:
        candidates = np.where(free, score, -np.inf)
        peak = int(np.argmax(candidates))
        if not np.isfinite(candidates[peak]) or candidates[peak] <= cfg.min_score:
            break
        floor = cfg.keep * score[peak]
        start = end = peak
        while start > 0 and free[start - 1] and score[start - 1] >= floor and end - start + 1 < cfg.max_len_s:
            start -= 1
        while end + 1 < len(score) and free[end + 1] and score[end + 1] >= floor and end - start + 1 < cfg.max_len_s:
            end += 1
        while end - start + 1 < cfg.min_len_s:
            right = end + 1 < len(score) and free[end + 1]
            left = start > 0 and free[start - 1]
            if not (left or right):
                break
            if right and (not left or score[end + 1] >= score[start - 1]):
                end += 1
            else:
                start -= 1
        if end - start + 1 < cfg.min_len_s:  # squeezed between chosen segments
            free[start:end + 1] = False
            continue
        free[max(0, start - cfg.min_gap_s):end + 1 + cfg.min_gap_s] = False
        length = min(end + 1 - start, float(duration_s))
        begin_s = min(max(0.0, start - cfg.reaction_lag_s), float(duration_s) - length)
        end_s = begin_s + length
        if end_s - begin_s <= 0:
            continue
        if total + (end_s - begin_s) > cfg.budget_s:
            end_s = begin_s + (cfg.budget_s - total)
            if end_s - begin_s < cfg.min_len_s:
                break
        total += end_s - begin_s
        chosen.append({"start_s": round(begin_s, 3), "end_s": round(end_s, 3), "peak_s": peak,
                       "score": round(float(score[start:end + 1].mean()), 4)})
    return sorted(chosen, key=lambda m: m["start_s"])


def cut_trailer(episode: Path, moments: list[dict], out: Path) -> int:
    """The moments cut from the episode in story order; returns the frames written."""
    capture = cv2.VideoCapture(str(episode))
    if not capture.isOpened():
        raise EmotionError(f"cannot read episode {episode}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    written = 0
    try:
        for m in moments:
            first, last = round(m["start_s"] * fps), round(m["end_s"] * fps)
            capture.set(cv2.CAP_PROP_POS_FRAMES, first)
            m["frames"] = 0
            for _ in range(first, last):
                ok, frame = capture.read()
                if not ok:
                    break
                writer.write(frame)
                m["frames"] += 1
            written += m["frames"]
    finally:
        writer.release()
        capture.release()
    return written


def plot_timeline(seconds, shares, classes, score, moments, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, height_ratios=[2, 1])
    top.stackplot(seconds, np.nan_to_num(shares).T, labels=classes, alpha=0.85)
    top.set_ylabel("mean emotion share")
    top.legend(loc="upper left", ncol=len(classes), fontsize=7)
    bottom.plot(seconds, score, color="black")
    bottom.set_ylabel("spectacle score")
    bottom.set_xlabel("episode time (s)")
    for m in moments:
        bottom.axvspan(m["start_s"], m["end_s"], color="orange", alpha=0.3)
        for edge in (m["start_s"], m["end_s"]):
            top.axvline(edge, color="black", linestyle="--", linewidth=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def episode_duration(cfg: DictConfig, viewer_ends: list[float]) -> float:
    if cfg.episode:
        capture = cv2.VideoCapture(str(Path(cfg.episode).expanduser()))
        frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
        capture.release()
        if not frames or not fps:
            raise EmotionError(f"cannot read episode {cfg.episode}")
        return frames / fps
    if cfg.duration_s:
        return float(cfg.duration_s)
    return max(viewer_ends, default=0.0)


def moments(cfg: DictConfig) -> dict:
    from emotion.schema import validate

    validate(cfg, "moments")
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    classes = list(cfg.classes)
    given = [Path(p).expanduser() for p in cfg.frames_csv or []]
    if cfg.frames_dir:
        given += sorted(Path(cfg.frames_dir).expanduser().glob("*.csv"))
    recordings = recordings_from(cfg)
    offsets = {r.viewer: r.offset_s for r in recordings}
    csvs: list[tuple[str, Path, float]] = [(p.stem, p, offsets.get(p.stem, 0.0)) for p in given]
    if cfg.stage == "score":  # the recordings were classified by earlier jobs: only their offsets count
        recordings = []
    missing = [r for r in recordings if not r.path.is_file()]
    for r in missing:
        log.warning("viewer %s left out: recording not found: %s", r.viewer, r.path)
    recordings = [r for r in recordings if r not in missing]
    if recordings:
        from emotion.engine import build_engine

        engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
        if list(meta["classes"]) != classes:
            raise EmotionError(f"model {meta['uri']} predicts {meta['classes']}, moments expects {classes}")
        for r in recordings:
            engine.reset()
            written = classify_recording(r, engine, classes, cfg.fps, out / "frames" / f"{r.viewer}.csv")
            if written:
                csvs.append((r.viewer, written, r.offset_s))
    if cfg.stage == "classify":
        result = {"frames_csv": [str(p) for _, p, _ in csvs]}
        print(json.dumps(result, indent=1))
        return result
    if not csvs:
        raise EmotionError("no readable recording or frames CSV: nothing to score")

    viewers = {}
    for viewer, path, offset in csvs:
        if not path.is_file():
            log.warning("viewer %s left out: frames CSV not found: %s", viewer, path)
            continue
        viewers[viewer] = read_frames_csv(path, classes, offset)
    duration = episode_duration(cfg, [t.max() + 1 for t, _ in viewers.values() if len(t)])
    n_seconds = max(1, math.ceil(duration))
    weights = np.array([float(cfg.weights.get(c, 0.0)) for c in classes])
    all_means, all_reactions, used = [], [], []
    for viewer, (times, probabilities) in viewers.items():
        if not len(times) or (times.max() < 0 or times.min() >= duration):
            log.warning("viewer %s left out: the recording lies outside the episode (offset?)", viewer)
            continue
        means, share = per_second(times, probabilities, n_seconds)
        if not (share > 0).any():
            log.warning("viewer %s left out: no face in the recording", viewer)
            continue
        all_means.append(means)
        all_reactions.append(reactions(means, weights, cfg.baseline_quantile, cfg.noise_floor,
                                       cfg.scale_quantile))
        used.append(viewer)
    if not used:
        raise EmotionError("no viewer with a face inside the episode: nothing to score")
    score, present = spectacle(np.stack(all_reactions), cfg.react_threshold, cfg.together_power, cfg.smooth_s)
    chosen = select_moments(score, cfg.segments, duration)
    stacked = np.stack(all_means)
    with warnings.catch_warnings():  # seconds where no viewer has a face stay empty
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_shares = np.nanmean(stacked, axis=0)
    reacting = np.nan_to_num(np.stack(all_reactions)) > cfg.react_threshold
    lag = cfg.segments.reaction_lag_s
    for m in chosen:
        window = slice(int(m["start_s"] + lag), int(math.ceil(m["end_s"] + lag)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            shares = np.nan_to_num(np.nanmean(stacked[:, window], axis=(0, 1))) * weights
        m["dominant_emotion"] = classes[int(np.argmax(shares))] if shares.sum() > 0 else None
        m["viewers_reacting"] = int(reacting[:, window].any(axis=1).sum())

    with open(out / "timeline.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["second", *classes, "score", "viewers_present"])
        for s in range(n_seconds):
            writer.writerow([s, *[f"{v:.4f}" if not np.isnan(v) else "" for v in mean_shares[s]], f"{score[s]:.4f}",
                             int(present[s])])
    plot_timeline(np.arange(n_seconds), mean_shares, classes, score, chosen, out / "timeline.png")
    result = {"episode_s": round(duration, 3), "viewers": used, "moments": chosen,
              "trailer_s": round(sum(m["end_s"] - m["start_s"] for m in chosen), 3)}
    if cfg.episode:
        result["trailer_frames"] = cut_trailer(Path(cfg.episode).expanduser(), chosen, out / "trailer.mp4")
    (out / "moments.json").write_text(json.dumps(result, indent=1) + "\n")

    import mlflow

    mlflow.set_tracking_uri(cfg.tracking.uri)
    mlflow.set_experiment(cfg.tracking.experiment)
    with mlflow.start_run(run_name=cfg.get("run_name")):
        resolved = OmegaConf.to_container(cfg, resolve=True)
        mlflow.log_params({k: str(v)[:6000] for k, v in flatten(
            {k: v for k, v in resolved.items() if k not in ("tracking", "paths")}).items()})
        mlflow.log_metrics({"moments": len(chosen), "trailer_s": result["trailer_s"], "viewers": len(used)})
        mlflow.log_artifacts(str(out))
    print(json.dumps(result, indent=1))
    return result


main = entry_point("moments", moments)


if __name__ == "__main__":
    main()
