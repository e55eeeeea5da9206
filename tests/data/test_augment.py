"""Augmentation: each transform switchable, and within the configured ranges."""

import numpy as np
import tensorflow as tf

from emotion.data.augment import make_augment, sample_affine

from conftest import make_cfg


def augment_cfg(*overrides):
    return make_cfg(["augment=none", *overrides]).augment


def test_none_is_the_identity():
    assert make_augment(augment_cfg()) is None


def test_sampled_parameters_stay_in_range():
    _, params = sample_affine(make_cfg(["augment=seed"]).augment, 4000, 100, 200, seed=1)
    rotation, shear = params["rotation"].numpy(), params["shear"].numpy()
    assert np.abs(rotation).max() <= 25 and np.abs(rotation).max() > 24
    assert np.abs(shear).max() <= 2
    assert np.abs(params["shift_x"].numpy()).max() <= 0.1 * 200 + 1e-4
    assert np.abs(params["shift_y"].numpy()).max() <= 0.1 * 100 + 1e-4
    assert (params["zoom_x"].numpy() == 1).all()


def test_transforms_switch_one_at_a_time():
    _, params = sample_affine(augment_cfg("augment.rotation=10"), 100, 32, 32, seed=2)
    assert np.abs(params["rotation"].numpy()).max() <= 10
    assert (params["shear"].numpy() == 0).all() and (params["shift_x"].numpy() == 0).all()


def test_rotation_turns_about_the_centre():
    image = np.zeros((50, 33, 33, 3), np.float32)
    image[:, 14:19, 14:, :] = 255  # a bar from the centre to the right edge
    cfg = augment_cfg("augment.rotation=90", "augment.fill_mode=constant")
    out = make_augment(cfg)(tf.constant(image)).numpy()
    assert out.shape == image.shape
    assert (out[:, 16, 16, 0] == 255).all()  # the centre stays put
    moved = np.abs(out - image).mean(axis=(1, 2, 3)) > 5
    assert moved.sum() > 40


def test_brightness_is_a_factor_in_range():
    out = make_augment(augment_cfg("augment.brightness=[0.5,1.0]"))(tf.fill((500, 4, 4, 3), 200.0)).numpy()
    assert out.min() >= 100 - 1e-3 and out.max() <= 200 + 1e-3
    assert np.ptp(out[:, 0, 0, 0]) > 50


def test_flip_mirrors_some_images_only():
    image = np.zeros((200, 2, 2, 3), np.float32)
    image[:, :, 0, :] = 255
    out = make_augment(augment_cfg("augment.horizontal_flip=true"))(tf.constant(image)).numpy()
    flipped = out[:, 0, 1, 0] == 255
    assert 40 < flipped.sum() < 160
    assert ((out[:, 0, 0, 0] == 255) != flipped).all()
