"""The FER+ levers for rare classes: square-root class weights, an EMA of the weights, random erasing,
and the prior shift chosen on the selection split and carried by the model."""

import keras
import numpy as np
import tensorflow as tf

from emotion.data.augment import erase
from emotion.evaluation.prior_shift import choose_tau
from emotion.model.assemble import BACKBONE
from emotion.model.prior import PriorShift, shift_weights, with_prior_shift
from emotion.training.schedule import class_weights, compile_stage

from conftest import make_cfg


def test_sqrt_class_weights_are_the_square_root_of_balanced():
    targets = np.eye(4)[[0] * 6 + [1] * 3 + [2]]
    balanced = class_weights(targets, "balanced")
    assert balanced == {0: 10 / 18, 1: 10 / 9, 2: 10 / 3, 3: 0.0}
    assert class_weights(targets, "sqrt") == {i: float(np.sqrt(w)) for i, w in balanced.items()}
    assert class_weights(targets, None) is None


def test_ema_averages_the_weights_that_are_judged_and_kept():
    """With `ema_momentum`, the stage's optimizer keeps an average; at each epoch's end (what validation, the
    checkpoint and the kept model see) the model holds the average, which moves less than the raw weights."""
    cfg = make_cfg(["schedule.ema_momentum=0.9"]).schedule
    stage = cfg.stages.head
    inputs = keras.Input((4,))
    backbone = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name=BACKBONE)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(backbone(inputs)))
    compile_stage(model, stage, cfg)
    assert model.optimizer.use_ema and model.optimizer.ema_momentum == 0.9
    start = [w.numpy().copy() for w in model.trainable_weights]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype(np.float32), np.eye(2)[rng.integers(0, 2, 64)]
    raw = []
    trained = keras.callbacks.LambdaCallback(  # the weights the optimizer moves, after the last step
        on_train_batch_end=lambda batch, logs: raw.__setitem__(slice(None), [w.numpy() for w in
                                                                             model.trainable_weights]))
    at_epoch_end = []
    judged = keras.callbacks.LambdaCallback(  # what validation and the checkpoint see
        on_epoch_end=lambda epoch, logs: at_epoch_end.append([w.numpy() for w in model.trainable_weights]))
    model.fit(x, y, batch_size=8, epochs=2, verbose=0,
              callbacks=[trained, keras.callbacks.SwapEMAWeights(swap_on_epoch=True), judged])
    kept = at_epoch_end[-1]
    assert all(np.allclose(k, w.numpy()) for k, w in zip(kept, model.trainable_weights)), "the average is kept"
    moved = sum(float(np.abs(k - s).sum()) for k, s in zip(kept, start))
    moved_raw = sum(float(np.abs(r - s).sum()) for r, s in zip(raw, start))
    assert 0 < moved < moved_raw


def test_random_erasing_fills_a_patch_of_the_configured_size_with_noise():
    tf.random.set_seed(0)
    images = tf.fill((32, 48, 48, 1), 100.0)
    erased = erase(images, 1.0, (0.1, 0.2)).numpy()
    share = (erased != 100.0).mean(axis=(1, 2, 3))
    assert share.min() > 0.05 and share.max() < 0.25, share
    assert np.array_equal(erase(images, 0.0, (0.1, 0.2)).numpy(), images.numpy())


def test_prior_shift_is_chosen_for_macro_f1_within_the_accuracy_allowed():
    """A rare class the network under-calls: shifting recovers it at a small cost, unless no cost is allowed."""
    rng = np.random.default_rng(0)
    labels = np.array([0] * 80 + [1] * 20)
    probabilities = np.where(labels[:, None] == 0, [0.8, 0.2], [0.6, 0.4]) + rng.normal(0, 0.05, (100, 2))
    probabilities = np.clip(probabilities, 0.01, None)
    prior = np.array([0.8, 0.2])
    tau, figures = choose_tau(probabilities, labels, prior, ["common", "rare"], [0.0, 0.5, 1.0], max_drop=5.0)
    assert tau > 0 and figures[tau]["macro_f1"] > figures[0.0]["macro_f1"] + 0.2
    strict, _ = choose_tau(probabilities, labels, prior, ["common", "rare"], [0.0, 0.5, 1.0], max_drop=-100.0)
    assert strict == 0.0


def test_the_prior_shift_layer_travels_with_the_model(tmp_path):
    inputs = keras.Input((3,))
    base = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    weights = shift_weights(np.array([0.9, 0.1]), 1.0)
    shifted = with_prior_shift(base, weights)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    plain = base.predict(x, verbose=0)
    expected = plain * weights / (plain * weights).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(shifted.predict(x, verbose=0), expected, rtol=1e-5)
    shifted.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1], PriorShift)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5)
