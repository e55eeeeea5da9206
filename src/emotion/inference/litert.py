"""LiteRT models at inference time, through `ai_edge_litert` alone (TensorFlow is never imported)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from emotion.core.errors import EmotionError
from emotion.schema.base import Variant, names

# Fastest first (the schema's order): what `engine=auto` picks among the exported variants.
PREFERENCE = names(Variant)
ARTIFACT_DIR = "litert"


def artifact_path(variant: str) -> str:
    return f"{ARTIFACT_DIR}/{variant}.tflite"


class LiteRTClassifier:
    """Batches of float32 RGB crops in, class probabilities out."""

    def __init__(self, model: str | Path | bytes, threads: int):
        try:
            if isinstance(model, bytes):
                self.interpreter = Interpreter(model_content=model, num_threads=threads)
            else:
                self.interpreter = Interpreter(model_path=str(model), num_threads=threads)
        except (ValueError, RuntimeError) as e:
            raise EmotionError(f"cannot load LiteRT model {model if not isinstance(model, bytes) else ''}: "
                               f"{str(e).strip().splitlines()[0]}") from None
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch = None

    @property
    def input_size(self) -> int:
        return int(self.input["shape"][1])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if self.batch != len(batch):
            self.interpreter.resize_tensor_input(self.input["index"], list(batch.shape))
            self.interpreter.allocate_tensors()
            self.batch = len(batch)
        self.interpreter.set_tensor(self.input["index"], batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"]).copy()

    def predict(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        return np.concatenate([self(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
