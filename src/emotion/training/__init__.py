"""Training: the TensorFlow runtime of a run, the staged schedule that resumes, debug shrinking."""
