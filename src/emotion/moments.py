"""`python -m emotion.moments`: from the test group's recordings to the episode's most gripping moments.

1. each recording is placed on the episode's timeline (the manifest's offset_s, else its sound: `sync`), sampled
   at `fps` on its presentation times and classified by the inference engine (the code path of `emotion.infer`)
   into its per-frame CSV, kept when complete; or those CSVs are given, so re-scoring never re-runs the model;
2. every tracked face of a recording is a viewer (or only the largest, `viewers=largest`); passers-by and
   unusable recordings are left out, with why;
3. per viewer and second of the episode, emotions against the viewer's own baseline; a spectacle score from the
   viewers reacting together; the top segments, shifted earlier by the reaction lag, within a length budget
   (`scoring`), their edges moved onto the episode's shot boundaries (`shots`);
4. the viewers' faces at each moment's peak, the trailer cut from the episode with its sound, the editor's
   timelines (OTIO, EDL, XML), the timeline, moments.json and a review page, all logged as one MLflow run.
   Nothing standing out is a result too. `stage=cut` makes them again from a moments.json a person edited.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig

from emotion.core.cli import entry_point
from emotion.core.errors import EmotionError
from emotion.core.outputs import ensure_folder, json_text, refuse_inputs, write_text

log = logging.getLogger("emotion.moments")


def moments(cfg: DictConfig) -> dict:
    """The screening's result (moments, viewers used and left out, the trailer's length), also in moments.json."""
    # Imported here: the command line's config is checked before MLflow and the model runtime load.
    from emotion.screening.classify import classify_all
    from emotion.screening.episode import cut_shots, episode_duration, screening_outputs, trailer_and_report
    from emotion.screening.placement import place
    from emotion.screening.recordings import recordings_from, records_given
    from emotion.screening.recut import recut
    from emotion.screening.sample import frames_read
    from emotion.screening.scoring import score_episode
    from emotion.screening.timeline import write_timeline
    from emotion.screening.viewers import viewers_from
    from emotion.tracking.runs import log_job

    out = Path(cfg.output_dir)
    if cfg.stage == "cut":  # a person's edit of a screening's moments: no recording is decoded, no model runs
        cut = recut(cfg.moments_json, cfg.episode, cfg.report, out)
        log_job(cfg.tracking, cfg.run_name, cfg, {"moments": len(cut["moments"]), "trailer_s": cut["trailer_s"]}, out)
        print(json_text(cut, "moments.json"), end="")
        return cut
    classes = list(cfg.classes)
    given = recordings_from([*cfg.recordings, *([cfg.recording] if cfg.recording else [])], cfg.manifest)
    refuse_inputs(screening_outputs(out, [r.viewer for r in given]),
                  {"episode": cfg.episode, "manifest": cfg.manifest, "frames_dir": cfg.frames_dir,
                   **{f"recording {r.viewer}": r.path for r in given},
                   **{f"frames_csv {p}": p for p in cfg.frames_csv}})
    ensure_folder(out)
    recordings, left = place(given, cfg.episode, cfg.sync)
    records = records_given(cfg.frames_csv, cfg.frames_dir, {r.viewer: r.offset_s for r in recordings})
    if cfg.stage != "score":  # score: the recordings were classified by earlier jobs, only their offsets count
        records += classify_all(recordings, out, classes, cfg.fps, cfg.decode, cfg.model, cfg.executor, cfg.engine,
                                cfg.detector, cfg.tracking, left)
    made = {viewer: path for viewer, path, _ in records}
    placed = [{"viewer": r.viewer, "path": str(r.path), "offset_s": r.offset_s, "offset_from": r.offset_from,
               **({"confidence": r.confidence} if r.confidence is not None else {}),
               **({"frames": frames_read(made[r.viewer])} if r.viewer in made else {})} for r in recordings]
    if cfg.stage == "classify":
        result = {"frames_csv": [str(p) for _, p, _ in records], "recordings": placed, "left_out": left}
        print(json.dumps(result, indent=1))
        return result
    viewers, gone = viewers_from(records, classes, cfg.viewers, cfg.min_track_share)
    duration = episode_duration(cfg.episode, cfg.duration_s, viewers)
    timeline, chosen, used, dropped = score_episode(viewers, classes, duration, cfg.scoring)
    left += gone + dropped
    for viewer in left:
        log.warning("viewer %s left out: %s", viewer["viewer"], viewer["reason"])
    if not used:
        raise EmotionError("no viewer with a face inside the episode: nothing to score"
                           + (f" ({len(left)} left out, see the warnings)" if left else ""))
    shots, chosen = cut_shots(cfg.episode, cfg.shots, chosen, duration, cfg.scoring.segments)
    write_timeline(out / "timeline.csv", timeline, classes)
    result = {"episode_s": round(duration, 3), "recordings": placed, "viewers": used, "left_out": left,
              "shots": shots, "moments": chosen, "trailer_s": round(sum(m["end_s"] - m["start_s"] for m in chosen), 3)}
    if not chosen:
        result["reason"] = (f"nothing stood out: no second of the {len(used)} viewer(s)' score rose above "
                            f"scoring.segments.min_score ({cfg.scoring.segments.min_score})")
    json_text(result, "moments.json")  # strict JSON, checked before the trailer and page are made from it
    trailer_and_report(cfg.episode, cfg.report, out, timeline, classes, result, made)
    write_text(out / "moments.json", json_text(result, "moments.json"))
    log_job(cfg.tracking, cfg.run_name, cfg, {"moments": len(chosen), "trailer_s": result["trailer_s"],
                                              "viewers": len(used), "viewers_left_out": len(left)}, out)
    print(json.dumps(result, indent=1))
    return result


main = entry_point("moments", moments)


if __name__ == "__main__":
    main()
