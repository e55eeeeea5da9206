"""emotion: recognise viewers' facial emotions, config-driven and tracked in MLflow."""

import os

# TensorFlow's C++ start-up chatter would bury our one-line errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
