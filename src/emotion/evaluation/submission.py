"""The Kaggle file (`image_path,emotion`) of the course's unlabelled test images, logged with the run."""

from __future__ import annotations

import csv
import logging
import tempfile
from pathlib import Path

import mlflow
import numpy as np

from emotion.data.base import Data
from emotion.evaluation.predictions import dataset_predictions
from emotion.inference.classifiers import Classify

log = logging.getLogger(__name__)


def write_submission(classify: Classify, data: Data, image_size: int, batch_size: int) -> None:
    """One row per test image, in order, even when it cannot be read.

    An unreadable image gets an empty label, is counted (`submission_unreadable`)
    and listed (`submission_unreadable.json`): row i always belongs to image i.
    """
    probabilities = dataset_predictions(classify, data.unlabeled, image_size, batch_size)
    unreadable = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "submission.csv"
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image_path", "emotion"])
            for image_id, p in zip(data.unlabeled.ids, probabilities):
                readable = not np.isnan(p).any()
                writer.writerow([image_id, data.classes[int(p.argmax())] if readable else ""])
                if not readable:
                    unreadable.append(image_id)
                    log.warning("submission: %s cannot be read; its row has no label", image_id)
        mlflow.log_artifact(str(path))
    mlflow.log_metric("submission_unreadable", len(unreadable))
    mlflow.log_dict({"unreadable": unreadable}, "submission_unreadable.json")
