"""Deployment: a tracked Keras model converted to LiteRT (fp32, dynamic range, int8), each variant gated on
accuracy through the image contract and logged to its training run."""
