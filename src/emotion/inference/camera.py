"""The notebook's API, `emotion_on_camera().return_video()`, on the engine and frame loop of `emotion.infer`."""

from __future__ import annotations

import numpy as np

from emotion.core.config import compose_config
from emotion.inference.backends import build_engine
from emotion.inference.loop import run
from emotion.inference.sources import open_source
from emotion.inference.video import annotate
from emotion.schema import validate


class EmotionOnCamera:
    """Label the faces of frames, a webcam or a video with the tracked model.

    `model` and `detector` default to `emotion.infer`'s; `overrides` are any `emotion.infer` overrides, e.g.
    `["engine.smoothing=1", "detector=haar", "detector.max_width=320"]`.
    """

    def __init__(self, model: str | None = None, detector: str | None = None, overrides: list[str] | tuple = ()):
        chosen = [*([f"model={model}"] if model else []), *([f"detector={detector}"] if detector else [])]
        self.cfg = compose_config("infer", [*chosen, *overrides])
        validate(self.cfg, "infer")
        self.engine, self.model_info = build_engine(self.cfg.engine, self.cfg.detector, self.cfg.tracking,
                                                    self.cfg.model)

    @property
    def classes(self) -> list[str]:
        return self.engine.classes

    def add_bounding_box(self, frame: np.ndarray) -> np.ndarray:
        """One BGR frame in, the same frame annotated (boxes, labels, probabilities) out."""
        result = self.engine.process(frame)
        return annotate(frame, result.faces, self.classes, f"{result.total_ms:.0f} ms")

    def return_video(self, source: int | str = 0, output: str | None = None, display: bool | str = "auto") -> dict:
        """Play a camera (index) or a video/stream/folder through the model; `q` or Esc quits.

        Returns the same summary as `python -m emotion.infer` (frames, labels, latency).
        """
        stream = open_source(camera=source) if isinstance(source, int) else open_source(source=source)
        return run(self.engine, self.classes, stream, video=output, csv_path=None, display=display,
                   warmup_frames=self.cfg.warmup_frames, max_frames=self.cfg.max_frames)


emotion_on_camera = EmotionOnCamera
