"""Inference: frames in (sources), faces found (detectors) and followed (tracks), classified (classifiers and
their backends) by the engine, frames out (video, the per-frame record), the timed frame loop, the notebook API."""
