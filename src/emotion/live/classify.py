"""The live classifier: one thread takes every camera's samples in the order they were taken, through the engine
of emotion.infer (one tracker per camera, one model and detector for all), into each segment's per-frame record.

The backlog is bounded per camera (`record.backlog_s` of samples): classification may fall behind and catch up,
and a sample that finds its camera's backlog full is missed and counted, never waited for. A segment's record
gets its name once its segment is complete and every sample in it has been classified, so the records on disk
are always in step with the segments.
"""

from __future__ import annotations

import csv
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emotion.inference import record
from emotion.inference.engine import Engine, FrameResult
from emotion.live.held import Held

log = logging.getLogger(__name__)


@dataclass
class Sample:
    camera: int
    frame: int  # the frame's index in the camera's recording
    time_s: float  # on the camera's clock: the frame's time in its recording
    wall: float  # when it was captured
    image: np.ndarray
    segment: int


@dataclass
class Closed:
    camera: int
    segment: int


class SegmentRecords:
    """One camera's per-segment records, each written under a temporary name until its segment is done."""

    def __init__(self, folder: Path, classes: list[str]):
        self.folder, self.classes = folder, classes
        self.open: dict[int, tuple[Held, object]] = {}

    def write(self, k: int, rows) -> None:
        self._writer(k).writerows(rows)

    def finish(self, k: int) -> None:
        self._writer(k)  # a segment without samples still gets its (empty) record
        held, _ = self.open.pop(k)
        held.commit()

    def discard(self) -> None:
        """Records of segments that never completed: removed, as their segments were."""
        for held, _ in self.open.values():
            held.discard()
        self.open.clear()

    def _writer(self, k: int):
        if k not in self.open:
            held = Held(self.folder / f"segment-{k:05d}.csv")
            writer = csv.writer(held.enter(open(held.partial, "w", newline="")))
            writer.writerow(record.header(self.classes))
            self.open[k] = (held, writer)
        return self.open[k][1]


class LiveClassifier(threading.Thread):
    def __init__(self, engines: list[Engine], classes: list[str], folders: list[Path], backlog: int,
                 classified: Callable[[Sample, FrameResult], None]):
        super().__init__(name="classifier", daemon=True)
        self.engines, self.classes, self.backlog, self.classified = engines, classes, backlog, classified
        self.records = [SegmentRecords(folder, classes) for folder in folders]
        self.queue: queue.Queue = queue.Queue()
        self.waiting = [0] * len(engines)
        self.lock = threading.Lock()
        self.failure: str | None = None

    def offer(self, sample: Sample) -> bool:
        """Queue a sample; False (it is missed) when its camera's backlog is full or classification failed."""
        with self.lock:
            if self.waiting[sample.camera] >= self.backlog or self.failure:
                return False
            self.waiting[sample.camera] += 1
        self.queue.put(sample)
        return True

    def segment_closed(self, camera: int, k: int) -> None:
        self.queue.put(Closed(camera, k))

    def finish(self) -> None:
        """Classify what is still waiting (catching up), close the records, end the thread."""
        waiting = sum(self.waiting)
        self.queue.put(None)
        with tqdm(total=waiting, desc="classifying the backlog", unit="sample", disable=waiting < 10) as bar:
            while self.is_alive():
                self.join(0.5)
                bar.update(waiting - sum(self.waiting) - bar.n)

    def run(self) -> None:
        try:
            self._loop()
        except Exception as e:  # noqa: BLE001 - any fault ends classification, never the recordings
            self.failure = f"classification stopped: {e}"
            log.exception("classification stopped")
        for records in self.records:
            records.discard()

    def _loop(self) -> None:
        while (item := self.queue.get()) is not None:
            if isinstance(item, Closed):
                self.records[item.camera].finish(item.segment)
                continue
            result = self.engines[item.camera].process(item.image, item.time_s)
            self.records[item.camera].write(item.segment, record.rows(item.frame, item.time_s, result, self.classes))
            with self.lock:
                self.waiting[item.camera] -= 1
            self.classified(item, result)
