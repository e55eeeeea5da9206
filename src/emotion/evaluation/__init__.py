"""Evaluation: predictions on a split (tf.data or the inference engine), metrics with intervals, the logged
reports and plots, the Kaggle submission."""
