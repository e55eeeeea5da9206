"""The one contract from a decoded face image to a model's input.

A face image of any size, gray or colour, 8 or 16 bit, from a file or a video
frame, becomes float32 RGB pixels in [0, 255] at the model's square input size.
Training (after augmentation), evaluation, the export gate and both inference
engines (Keras and LiteRT) call these functions, so a face gets the same input
wherever it comes from; the normalisation that follows lives inside the model
(`emotion.preprocess`). NumPy and OpenCV only: the LiteRT engine must not import
TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

BGR, RGB = "bgr", "rgb"
# What OpenCV decodes: every folder of images (a dataset, inference's stills) is read by these suffixes.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def images_in(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: str | Path) -> np.ndarray | None:
    """A file decoded by OpenCV (BGR uint8, EXIF orientation applied), or None when it cannot be."""
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


def as_rgb(image: np.ndarray, order: str = BGR) -> np.ndarray:
    """Float32 RGB pixels in [0, 255] at the image's own size.

    `order` is the channel order of a colour image: OpenCV decodes BGR, our
    in-memory datasets hold RGB. Gray images (H x W or H x W x 1) are repeated
    to three channels; an alpha channel is dropped; 16-bit images are scaled.
    """
    image = np.asarray(image)
    if image.dtype == np.uint16:
        image = image / 257.0
    image = image.astype(np.float32, copy=False)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise ValueError(f"not an image: shape {image.shape}")
    if image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    image = image[..., :3]
    return np.ascontiguousarray(image[..., ::-1]) if order == BGR else image


def fit(image: np.ndarray, size: int) -> np.ndarray:
    """An H x W x 3 float32 image resized to size x size: area averaging when shrinking, bilinear when growing."""
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return np.ascontiguousarray(image, dtype=np.float32)
    interpolation = cv2.INTER_AREA if height > size or width > size else cv2.INTER_LINEAR
    return cv2.resize(np.asarray(image, np.float32), (size, size), interpolation=interpolation)


def model_input(image: np.ndarray, size: int, order: str = BGR) -> np.ndarray:
    """One decoded face image -> the model's input (size x size x 3 float32 RGB in [0, 255])."""
    return fit(as_rgb(image, order), size)


def model_batch(images, size: int, order: str = BGR) -> np.ndarray:
    """Several face images (a list, or an N x H x W (x C) array) -> one N x size x size x 3 batch."""
    batch = np.empty((len(images), size, size, 3), np.float32)
    for i, image in enumerate(images):
        batch[i] = model_input(image, size, order)
    return batch


def fit_batch(images: np.ndarray, size: int) -> np.ndarray:
    """`fit` over an N x H x W x 3 float32 batch (the last step of the training pipeline)."""
    return np.stack([fit(image, size) for image in images]) if len(images) else np.zeros((0, size, size, 3),
                                                                                           np.float32)
