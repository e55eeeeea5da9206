"""dlib's serialized DNN files read without dlib: the layers of `dlib_face_recognition_resnet_model_v1.dat`.

The format, as dlib writes it (dlib/serialize.h, dlib/dnn/core.h, layers.h, input.h, loss.h):

- integer: a control byte whose low 4 bits count the bytes that follow and whose bit 0x80 marks a
  negative number, then |value| in that many little-endian bytes;
- bool: the ASCII byte '0' or '1';
- float or double scalar: two integers, mantissa then exponent; the value is mantissa * 2**exponent;
- string: its length (integer), then its bytes;
- tensor: version 2, then num_samples, k, nr, nc (integers), then num_samples*k*nr*nc little-endian
  float32 values in that (NCHW, row-major) order;
- alias_tensor (a view into a layer's parameter tensor): version 1, then num_samples, k, nr, nc.

A network is written from its loss layer inwards, each wrapper writing its version and then its
subnetwork before its own details. The file therefore holds: the loss layer (version, name, fields); one
version integer per wrapper (computational layers, tags and skips), outermost first; the input layer
(name, fields); then, from the input upwards, each computational layer's details (a versioned name such
as `con_4`, then its fields and parameter tensor) followed by its bookkeeping: three bools and the x_grad
and cached_output tensors, then a params_grad tensor (`add_layer` version 2) or, for the layer right above
the input, a grad_final tensor and (version 3) the sample expansion factor. Tags and skips have no
details: where they sit is the architecture's business (`emotion.model.dlib_resnet`), not the file's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emotion.core.errors import EmotionError

INPUT = "input_rgb_image_sized"


@dataclass
class Layer:
    """One computational layer: its kind (`con`, `affine`, `relu`, `max_pool`, `avg_pool`, `add_prev`, `fc`),
    its hyper-parameters and its arrays (`filters`/`biases` in dlib's NCHW shapes, `gamma`/`beta`, `weights`)."""

    kind: str
    options: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)


@dataclass
class Network:
    input: dict
    layers: list[Layer]
    loss: dict


class _Reader:
    def __init__(self, data: bytes, source: str):
        self.data, self.pos, self.source = data, 0, source

    def fail(self, what: str):
        raise EmotionError(f"{self.source}: not a dlib network file as expected ({what} at byte {self.pos})")

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            self.fail("ends early")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def peek(self, n: int) -> bytes:
        return self.data[self.pos:self.pos + n]

    def integer(self) -> int:
        control = self.take(1)[0]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            self.fail(f"bad integer control byte {control:#x}")
        value = int.from_bytes(self.take(size), "little")
        return -value if control & 0x80 else value

    def boolean(self) -> bool:
        byte = self.take(1)
        if byte not in (b"0", b"1"):
            self.fail(f"bad bool {byte!r}")
        return byte == b"1"

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa) * 2.0 ** self.integer()

    def string(self) -> str:
        return self.take(self.integer()).decode("latin-1")

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            self.fail("unknown tensor version")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        return np.frombuffer(self.take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, ...]:
        if self.integer() != 1:
            self.fail("unknown alias_tensor version")
        return tuple(self.integer() for _ in range(4))


def _views(params: np.ndarray, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The named alias_tensors of a layer's flat parameter tensor, in order."""
    flat, start, views = params.reshape(-1), 0, {}
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        views[name] = flat[start:start + size].reshape(shape)
        start += size
    return views


def _pool(r: _Reader, kind: str) -> Layer:
    names = ("nr", "nc", "stride_y", "stride_x", "padding_y", "padding_x")
    return Layer(kind, {name: r.integer() for name in names})


def _con(r: _Reader, version: str) -> Layer:
    params = r.tensor()
    names = ("num_filters", "nr", "nc", "stride_y", "stride_x", "padding_y", "padding_x")
    options = {name: r.integer() for name in names}
    shapes = {"filters": r.alias(), "biases": r.alias()}
    for _ in range(4):  # learning-rate and weight-decay multipliers
        r.real()
    options["use_bias"] = r.boolean() if version in ("con_5", "con_6") else True
    if version == "con_6":
        options["use_relu"] = r.boolean()
    return Layer("con", options, _views(params, shapes))


def _affine(r: _Reader, version: str) -> Layer:
    params = r.tensor()
    shapes = {"gamma": r.alias(), "beta": r.alias()}
    options = {"mode": r.integer()}
    if version == "affine_2":
        options["disabled"] = r.boolean()
    return Layer("affine", options, _views(params, shapes))


def _relu(r: _Reader, version: str) -> Layer:
    return Layer("relu", {"disabled": r.boolean()} if version == "relu_2" else {})


def _fc(r: _Reader, version: str) -> Layer:
    options = {"num_outputs": r.integer(), "num_inputs": r.integer()}
    params = r.tensor()
    shapes = {"weights": r.alias(), "biases": r.alias()}
    options["bias_mode"] = r.integer()
    for _ in range(4):
        r.real()
    if version == "fc_3":
        options["use_bias"] = r.boolean()
    shapes = shapes if options["bias_mode"] == 0 else {"weights": shapes["weights"]}
    return Layer("fc", options, _views(params, shapes))


_DETAILS = {
    "con_4": _con, "con_5": _con, "con_6": _con,
    "affine_": _affine, "affine_2": _affine,
    "relu_": _relu, "relu_2": _relu,
    "fc_2": _fc, "fc_3": _fc,
    "max_pool_2": lambda r, v: _pool(r, "max_pool"),
    "avg_pool_2": lambda r, v: _pool(r, "avg_pool"),
    "add_prev_": lambda r, v: Layer("add_prev"),
}


def _bookkeeping(r: _Reader, above_input: bool, version: int) -> None:
    for _ in range(3):
        r.boolean()
    r.tensor()  # x_grad
    r.tensor()  # cached_output
    if above_input:
        r.tensor()  # grad_final
        if version >= 3:
            r.integer()
    elif r.peek(2) == b"\x01\x02":  # add_layer version 2: params_grad (a tensor's version 2; a name is longer)
        r.tensor()


def read_network(path: str | Path) -> Network:
    """Every computational layer of a dlib network file, from the input upwards, with its parameters."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise EmotionError(f"cannot read weights file {path}: {e.strerror or e}") from None
    r = _Reader(data, str(path))
    r.integer()  # add_loss_layer version
    loss = {"name": r.string()}
    if not loss["name"].startswith("loss_"):
        r.fail(f"no loss layer ({loss['name']!r})")
    loss.update(margin=r.real(), distance_threshold=r.real())
    marker = struct.pack("BB", 1, len(INPUT)) + INPUT.encode()
    versions = []
    while r.peek(len(marker)) != marker:
        versions.append(r.integer())
        if versions[-1] not in (1, 2, 3):
            r.fail(f"unexpected layer version {versions[-1]}")
    r.take(len(marker))
    network = Network({"mean_rgb": (r.real(), r.real(), r.real()), "rows": r.integer(), "cols": r.integer()},
                      [], loss)
    while r.pos < len(data):
        version = r.string()
        if version not in _DETAILS:
            r.fail(f"unsupported layer {version!r}")
        network.layers.append(_DETAILS[version](r, version))
        _bookkeeping(r, above_input=len(network.layers) == 1, version=versions[-1])
    return network
