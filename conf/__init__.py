"""The Hydra configs of emotion, installed as this package (pkg://emotion.conf)."""
