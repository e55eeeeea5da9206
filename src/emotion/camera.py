"""The notebook's API, `emotion_on_camera().return_video()`, on the engine of `emotion.infer`."""

from __future__ import annotations

import numpy as np
from omegaconf import OmegaConf

from emotion.config import compose_config
from emotion.engine import build_engine
from emotion.infer import run
from emotion.sources import open_source
from emotion.video import annotate


class EmotionOnCamera:
    """Label the faces of frames, a webcam or a video with the tracked model.

    `overrides` are `emotion.infer` overrides, e.g. `["engine.smoothing=1", "detector.max_width=320"]`.
    """

    def __init__(self, model: str = "best", detector: str = "haar", overrides: list[str] | tuple = ()):
        self.cfg = compose_config("infer", [f"model={model}", f"detector={detector}", *overrides])
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
        cfg = OmegaConf.merge(self.cfg, {"display": display, "output": {"video": output, "csv": None}})
        return run(self.engine, self.classes, stream, cfg)


emotion_on_camera = EmotionOnCamera
