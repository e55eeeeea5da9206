"""Tracking in MLflow: the store, run identity and resume, the registry and its champion, model lookup, sweeps."""
