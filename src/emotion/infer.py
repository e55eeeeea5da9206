"""`python -m emotion.infer camera=0 | source=<video, image, folder, URL>`: label every face, timed.

The summary (frames, faces, labels, latency per stage, fps, memory) is printed and written to
`output.summary`; the p95 frame time is judged against `budget_s` (under `strict`, a breach exits 3 and
a run too short to judge exits 5). Ctrl-C or SIGTERM ends the run after the frame in progress with its
files whole and `"interrupted": true` in the summary, exit code 130.
"""

from __future__ import annotations

import json
import sys

from omegaconf import DictConfig

from emotion.core.cli import entry_point
from emotion.core.errors import INTERRUPTED
from emotion.core.outputs import refuse_inputs, write_text
from emotion.core.process import peak_rss_mb


def infer(cfg: DictConfig) -> int:
    """The frame loop over the configured source; returns the exit code."""
    # Imported here: the command line's config is checked before MLflow and the model runtime load.
    from emotion.inference.backends import build_engine
    from emotion.inference.budget import check_budget
    from emotion.inference.loop import run
    from emotion.inference.sources import open_source

    refuse_inputs({"output.video": cfg.output.video, "output.csv": cfg.output.csv,
                   "output.summary": cfg.output.summary}, {"source": cfg.source, "model": cfg.model})
    engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
    source = open_source(cfg.camera, cfg.source)
    summary = {"model": meta["uri"], "runtime": meta["runtime"],
               **run(engine, meta["classes"], source, video=cfg.output.video, csv_path=cfg.output.csv,
                     display=cfg.display, warmup_frames=cfg.warmup_frames, max_frames=cfg.max_frames)}
    summary["peak_rss_mb"] = peak_rss_mb()
    code, problem = check_budget(summary, float(cfg.budget_s), int(cfg.min_timed_frames))
    text = json.dumps(summary, indent=1)
    print(text)
    if cfg.output.summary:
        write_text(cfg.output.summary, text + "\n")
    if summary["interrupted"]:
        print(f"interrupted after {summary['frames']} frames: the outputs hold them", file=sys.stderr)
        return INTERRUPTED
    if problem:
        print(f"{'error' if cfg.strict else 'warning'}: {problem}", file=sys.stderr)
        return code if cfg.strict else 0
    return 0


main = entry_point("infer", infer, exit_code=True)


if __name__ == "__main__":
    main()
