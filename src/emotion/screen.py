"""`python -m emotion.screen cameras=[0,1] | sources=[<video or stream URL>, ...]`: a live screening.

Every source is recorded as it is captured (in segments, each named when complete) and classified live at `fps`
samples a second into the per-frame records emotion.moments reads; a page on localhost shows each camera, the
alerts and the episode's timeline as it fills in; Enter (or the page) marks the episode's start. Stopped by
Ctrl-C, SIGTERM or the page, the segments are joined into each group's recording and the moments stage runs on
them, keeping the live records: the usual trailer, moments.json, timeline and review page. `stage=moments`
finishes a screening that was killed, from what it saved.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from emotion.core.cli import entry_point
from emotion.core.outputs import json_text, refuse_inputs, writable, write_text


def screen(cfg: DictConfig) -> int:
    """The screening, then its moments stage; returns the exit code."""
    # Imported here: the command line's config is checked, and the page's port taken (a port in use is one line at
    # once), before MLflow and the model runtime load.
    from emotion.live.server import PageServer

    live = cfg.stage != "moments"
    server = PageServer(cfg.page.host, cfg.page.port) if live else None

    from emotion.inference.backends import build_engine
    from emotion.live.finish import finish
    from emotion.live.folder import Layout, read_facts
    from emotion.live.moments_stage import MomentsStage, passed_on
    from emotion.live.session import Group, groups_of, record_live
    from emotion.screening.episode import screening_outputs
    from emotion.screening.recordings import same_classes
    from emotion.tracking.lookup import resolve_model_uri

    layout = Layout(Path(cfg.output_dir))
    groups = (groups_of(list(cfg.cameras), list(cfg.microphones), list(cfg.sources), list(cfg.names)) if live
              else [Group(g["viewer"]) for g in read_facts(layout)["groups"]])
    outputs = {**screening_outputs(layout.out, [g.viewer for g in groups]), "manifest": layout.manifest,
               **{f"recording {g.viewer}": layout.recording(g.viewer) for g in groups}}
    refuse_inputs(outputs, {"episode": cfg.episode, **{f"source {g.viewer}": g.location for g in groups}})
    uri = resolve_model_uri(str(cfg.model), cfg.tracking)
    stage = MomentsStage(layout, passed_on(uri, cfg.fps, cfg.classes, cfg.engine, cfg.detector, cfg.scoring,
                                           cfg.tracking, cfg.paths, cfg.episode), list(cfg.moments))
    settings = stage.settings(uri)
    summary = {}
    if live:
        writable(layout.live)  # created with its first file: nothing is left when no source opens
        engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, uri)
        same_classes(meta, list(cfg.classes))
        summary = record_live(groups, layout, server, engine, cfg.engine, cfg.fps, cfg.record, cfg.page, cfg.alert,
                              cfg.scoring, cfg.max_s, settings)
    summary["recordings"] = finish(layout, read_facts(layout), settings)
    write_text(layout.summary, json_text(summary, "summary.json"))
    print(json.dumps(summary, indent=1))
    if cfg.stage == "record" or not summary["recordings"]:
        return 0 if summary["recordings"] else 2
    return stage.run()


main = entry_point("screen", screen, exit_code=True)


if __name__ == "__main__":
    main()
