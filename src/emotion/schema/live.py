"""Schemas of a live screening's parts: how each camera is recorded, the page, and what raises an alert."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from emotion.schema.base import bounded


@dataclass
class Record:
    segment_s: float = bounded(ge=1.0)
    codec: str = MISSING
    preset: str = MISSING
    crf: int = bounded(ge=0, le=51)
    pace: bool = MISSING
    buffer_s: float = bounded(gt=0)
    backlog_s: float = bounded(gt=0)


@dataclass
class Page:
    host: str = MISSING
    port: int = bounded(ge=0, le=65535)
    update_s: float = bounded(gt=0)
    frame_px: int = bounded(ge=64, le=3840)


@dataclass
class Alert:
    no_frames_s: float = bounded(gt=0)
    no_face_s: float = bounded(gt=0)
    silence_s: float = bounded(gt=0)
    silence_db: float = bounded(lt=0)


# What emotion.screen passes on to its moments stage itself, so that the live records are what moments would make:
# its `moments=[...]` overrides may set anything else, never these.
SET_BY_SCREEN = ("model", "fps", "classes", "engine", "detector", "scoring", "tracking", "paths", "episode",
                 "manifest", "recordings", "recording", "frames_csv", "frames_dir", "output_dir", "stage",
                 "moments_json", "hydra")
