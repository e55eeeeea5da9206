"""What the operator must hear about a camera during a screening: it stopped delivering frames, it has seen no
face for `alert.no_face_s`, its sound has gone silent (below `alert.silence_db` for `alert.silence_s`), or
classification cannot keep up with it."""

from __future__ import annotations

from omegaconf import DictConfig


def camera_alerts(status, now: float, cfg: DictConfig) -> list[str]:
    """The alerts for one camera (a `CameraStatus`) at wall-clock time `now`, worst first."""
    found = []
    if status.problem:
        found.append(status.problem)
    elif status.state == "live":
        since = status.last_frame_wall or status.opened_wall
        if now - since > cfg.no_frames_s:
            found.append(f"no frame for {now - since:.0f} s: the camera stopped delivering frames")
    if status.state == "live":
        since = status.last_face_wall or status.opened_wall
        if now - since > cfg.no_face_s:
            found.append(f"no face for {now - since:.0f} s")
        if status.sound:
            since = status.last_loud_wall or status.opened_wall
            if now - since > cfg.silence_s:
                found.append(f"silent for {now - since:.0f} s (below {cfg.silence_db:g} dBFS)")
    if status.missed:
        found.append(f"{status.missed} samples missed: classification cannot keep up")
    return found
