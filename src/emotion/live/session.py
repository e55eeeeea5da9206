"""A live screening from its start to its stop: the sources opened (one that cannot be is one `error:` line, the
others go on), each recorded and sampled on its own thread, one classifier thread, the page, the operator's
mark (Enter in the terminal, or the page's button); it ends on Ctrl-C or SIGTERM, the page's stop, `max_s`, or
when every source has ended, with every segment finished and every waiting sample classified."""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from emotion.core.errors import EmotionError
from emotion.core.interrupt import stop_requests
from emotion.inference.backends import engine_for
from emotion.inference.engine import Engine
from emotion.live.capture import Capture
from emotion.live.classify import LiveClassifier
from emotion.live.folder import Layout, write_facts
from emotion.live.page import page_app
from emotion.live.server import PageServer
from emotion.live.sources import open_reader
from emotion.live.state import CameraStatus, LiveState
from emotion.screening.recordings import safe_name, unique_names

log = logging.getLogger(__name__)

POLL_S = 0.2


@dataclass
class Group:
    """A viewer group: its name, and the camera (with its microphone) or the file or stream URL that films it."""

    viewer: str
    camera: int | None = None
    location: str | None = None
    microphone: str | None = None


def groups_of(cameras: list[int], microphones: list[str | None], sources: list[str], names: list[str]) -> list[Group]:
    """Cameras first, then files and streams; named as given, else `camera<index>`, a file's stem, `stream<n>`."""
    found = [Group(f"camera{c}", camera=int(c), microphone=microphones[i] if i < len(microphones) else None)
             for i, c in enumerate(cameras)]
    found += [Group(f"stream{n + 1}" if "://" in s else Path(s).stem, location=str(s)) for n, s in enumerate(sources)]
    for group, name in zip(found, unique_names([safe_name(n) for n in (names or [g.viewer for g in found])])):
        group.viewer = name
    return found


def per_camera(engine: Engine, cameras: int, engine_cfg: DictConfig, fps: float) -> list[Engine]:
    """One engine per camera (its own tracker) around the one model and detector, each for `fps` samples a second.

    The model and the detector run once first: a compiled Keras call traces its graph on its first call, holding
    Python's lock for seconds, which would stall every camera's recording at the screening's start."""
    engine.detector(np.zeros((64, 64, 3), np.uint8))
    engine.classify(np.zeros((1, engine.input_size, engine.input_size, 3), np.float32))
    engines = [engine] + [engine_for(engine.detector, engine.classify, engine.classes, engine.input_size, engine_cfg)
                          for _ in range(cameras - 1)]
    for each in engines:
        each.reset(fps)
    return engines


def record_live(groups: list[Group], layout: Layout, server: PageServer, engine: Engine, engine_cfg: DictConfig,
                fps: float, record: DictConfig, page: DictConfig, alert: DictConfig, scoring: DictConfig,
                max_s: float | None, settings: dict) -> dict:
    """Screen until stopped; returns the summary. screening.json (`settings`: what the records were made with)
    is written at the start and whenever a recording starts or the episode's start is marked."""
    readers, opened, failed = [], [], []
    for group in groups:
        try:
            readers.append(open_reader(group.camera, group.location, group.microphone, record))
            opened.append(group)
        except EmotionError as e:
            failed.append((group.viewer, str(e)))
    if not readers:  # one line, naming why each source failed
        raise EmotionError("nothing to screen: " + "; ".join(reason for _, reason in failed))
    for _, reason in failed:
        print(f"error: {reason}", file=sys.stderr, flush=True)
    problems = [f"{viewer}: {reason}" for viewer, reason in failed]
    statuses = [CameraStatus(g.viewer, r.description, r.sound, alert.silence_db) for g, r in zip(opened, readers)]
    state = LiveState(statuses, engine.classes, alert, scoring)
    facts = {"started_wall": state.started_wall, "mark_wall": None, "settings": settings, "fps": fps,
             "groups": [{"viewer": g.viewer, "source": r.description, "started_wall": None}
                        for g, r in zip(opened, readers)]}
    write_facts(layout, facts)
    classifier = LiveClassifier(per_camera(engine, len(readers), engine_cfg, fps), engine.classes,
                                [layout.segments(g.viewer) for g in opened], math.ceil(record.backlog_s * fps),
                                lambda s, r: state.classified(s.camera, s.time_s, s.wall, r))
    captures = [Capture(i, r, s, layout, record, fps, classifier) for i, (r, s) in enumerate(zip(readers, statuses))]
    asked = threading.Event()

    def mark() -> float:
        state.mark_wall = facts["mark_wall"] = time.time()
        write_facts(layout, facts)
        log.info("the episode's start is marked")
        return state.mark_wall

    server.start(page_app(state, page.update_s, page.frame_px, mark, asked.set))
    classifier.start()
    for capture in captures:
        capture.reader.start()
        capture.start()
    threading.Thread(target=_keys, args=(mark, asked.set), name="keys", daemon=True).start()
    print(f"screening {len(captures)} source(s); the page: {server.url}\nEnter marks the episode's start; q and "
          "Enter, Ctrl-C or the page's stop ends the screening", file=sys.stderr, flush=True)
    with stop_requests() as stopping:
        told: set[int] = set()
        while not (stopping() or asked.is_set() or classifier.failure
                   or all(s.state != "live" for s in statuses)
                   or (max_s and time.time() - state.started_wall >= max_s)):
            _report(statuses, facts, layout, told, problems)
            time.sleep(POLL_S)
        state.phase = "finishing"
        for capture in captures:
            capture.reader.stop()
        for capture in captures:
            capture.join()
        classifier.finish()
    _report(statuses, facts, layout, told, problems)
    if classifier.failure:
        problems.append(classifier.failure)
        print(f"error: {classifier.failure}", file=sys.stderr, flush=True)
    facts["dropped"] = {s.viewer: s.dropped for s in statuses}
    write_facts(layout, facts)
    state.phase, state.note = "ended", f"The screening ended: its results go to {layout.out}"
    time.sleep(page.update_s * 2)  # the page hears that it ended
    state.closed = True
    server.stop()
    return {"page": server.url, "seconds": round(time.time() - state.started_wall, 1), "mark_wall": state.mark_wall,
            "cameras": [_summary(s) for s in statuses], "problems": problems}


def _report(statuses: list[CameraStatus], facts: dict, layout: Layout, told: set[int], problems: list[str]) -> None:
    """A camera's problem as one `error:` line, once; each recording's start into screening.json as it is known."""
    changed = False
    for i, (status, group) in enumerate(zip(statuses, facts["groups"])):
        if group["started_wall"] is None and status.started_wall is not None:
            group["started_wall"], changed = status.started_wall, True
        if status.problem and i not in told:
            told.add(i)
            problems.append(f"{status.viewer}: {status.problem}")
            print(f"error: {status.problem}", file=sys.stderr, flush=True)
    if changed:
        write_facts(layout, facts)


def _summary(status: CameraStatus) -> dict:
    return {"viewer": status.viewer, "source": status.source, "frames": status.frames, "dropped": status.dropped,
            "segments": status.segments, "samples_due": status.offered, "samples_classified": status.classified_n,
            "samples_missed": status.missed, "problem": status.problem}


def _keys(mark, stop) -> None:
    """The operator's keys: Enter marks the episode's start, q and Enter stops."""
    if sys.stdin is None:
        return
    try:
        for line in sys.stdin:
            (stop if line.strip().lower() in ("q", "quit", "stop") else mark)()
    except (OSError, ValueError):  # no terminal (a service, a closed stdin): the page's buttons remain
        return
