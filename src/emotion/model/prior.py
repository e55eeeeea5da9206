"""Prior shift, the post-hoc logit adjustment (Menon et al., 2021), as the model's last layer.

A classifier trained on imbalanced faces prefers the common classes. Dividing
each class's probability by its training prior raised to `tau` and renormalising
(the same as subtracting tau x log prior from the logits) trades a little
accuracy on the common classes for recall on the rare ones. It lives inside the
model, so evaluation, the LiteRT export and inference all apply it.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def shift_weights(prior: np.ndarray, tau: float) -> np.ndarray:
    """prior ** -tau, scaled to a mean of 1 (classes never seen in training get the largest weight seen)."""
    prior = np.asarray(prior, np.float64)
    seen = prior > 0
    weights = np.where(seen, np.power(np.where(seen, prior, 1.0), -float(tau)), 0.0)
    weights[~seen] = weights[seen].max() if seen.any() else 1.0
    return (weights / weights.mean()).astype(np.float32)


@keras.saving.register_keras_serializable(package="emotion")
class PriorShift(keras.layers.Layer):
    """Probabilities in, probabilities x `weights` renormalised out."""

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        self.class_weights = [float(w) for w in weights]

    def call(self, probabilities):
        shifted = ops.cast(probabilities, "float32") * ops.convert_to_tensor(self.class_weights, "float32")
        return shifted / ops.sum(shifted, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "weights": self.class_weights}


def with_prior_shift(model: keras.Model, weights: np.ndarray) -> keras.Model:
    """`model` followed by a `PriorShift` layer (the weights and layers are shared, not copied)."""
    return keras.Model(model.input, PriorShift(weights, name="prior_shift", dtype="float32")(model.output),
                       name=model.name)
