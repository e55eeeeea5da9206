"""`python -m emotion.moments`: from the test group's recordings to the episode's most gripping moments.

1. each recording is sampled at `fps` on its presentation times and classified
   by the inference engine (the code path of `emotion.infer`), written as its
   per-frame CSV; or those CSVs are given directly, so re-scoring never re-runs
   the model;
2. every tracked face of a recording is a viewer (or only the largest,
   `viewers=largest`); passers-by and unusable recordings are left out, with why;
3. per viewer and second of the episode, emotions against the viewer's own
   baseline; a spectacle score from the viewers reacting together; the top
   segments, shifted earlier by the reaction lag, within a length budget (`scoring`);
4. the trailer cut from the episode with its sound, the timeline, moments.json
   and a review page, all logged as one MLflow run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig

from emotion.core.cli import entry_point
from emotion.core.errors import EmotionError

log = logging.getLogger("emotion.moments")


def moments(cfg: DictConfig) -> dict:
    """The screening's result (moments, viewers used and left out, the trailer's length), also in moments.json."""
    # Imported here: the command line's config is checked before MLflow and the model runtime load.
    from emotion.screening.classify import classify_all
    from emotion.screening.episode import episode_duration, trailer_and_report
    from emotion.screening.recordings import recordings_from, safe_name
    from emotion.screening.scoring import score_episode
    from emotion.screening.timeline import write_timeline
    from emotion.screening.viewers import viewers_of
    from emotion.tracking.runs import log_job

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    classes = list(cfg.classes)
    recordings = recordings_from([*cfg.recordings, *([cfg.recording] if cfg.recording else [])], cfg.manifest)
    offsets = {r.viewer: r.offset_s for r in recordings}
    given = [Path(p).expanduser() for p in cfg.frames_csv]
    given += sorted(Path(cfg.frames_dir).expanduser().glob("*.csv")) if cfg.frames_dir else []
    csvs = [(safe_name(p.stem), p, offsets.get(safe_name(p.stem), 0.0)) for p in given]
    left: list[dict] = []
    if cfg.stage != "score":  # score: the recordings were classified by earlier jobs, only their offsets count
        csvs += classify_all(recordings, out, classes, cfg.fps, cfg.model, cfg.executor, cfg.engine, cfg.detector,
                             cfg.tracking, left)
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
    duration = episode_duration(cfg.episode, cfg.duration_s, viewers)
    timeline, chosen, used, dropped = score_episode(viewers, classes, duration, cfg.scoring)
    left += dropped
    for gone in left:
        log.warning("viewer %s left out: %s", gone["viewer"], gone["reason"])
    if not used:
        raise EmotionError("no viewer with a face inside the episode: nothing to score"
                           + (f" ({len(left)} left out, see the warnings)" if left else ""))
    write_timeline(out / "timeline.csv", timeline, classes)
    result = {"episode_s": round(duration, 3), "viewers": used, "left_out": left, "moments": chosen,
              "trailer_s": round(sum(m["end_s"] - m["start_s"] for m in chosen), 3)}
    trailer_and_report(cfg.episode, cfg.report, out, timeline, classes, chosen, result)
    (out / "moments.json").write_text(json.dumps(result, indent=1) + "\n")
    log_job(cfg.tracking, cfg.run_name, cfg, {"moments": len(result["moments"]), "trailer_s": result["trailer_s"],
                                              "viewers": len(used), "viewers_left_out": len(left)}, out)
    print(json.dumps(result, indent=1))
    return result


main = entry_point("moments", moments)


if __name__ == "__main__":
    main()
