"""dlib's face ResNet in Keras: the file reader, the graph, and proof that the port computes dlib's descriptors.

The parity tests run dlib itself (`dlib-bin`, a dev dependency) on the same 150 px face chips as the port and
need the weights of `face-recognition-models` (the `pretrained` extra, in dev too): real faces from
../shared (skipped without it) and drawn faces (always).
"""

import numpy as np
import pytest

from emotion.core.errors import EmotionError
from emotion.core.remote import packaged
from emotion.model.backbones import cut, set_trainable_from
from emotion.model.dlib_format import read_network
from emotion.model.dlib_resnet import MIN_INPUT, ZeroFillAdd, dlib_face_resnet, layer_order
from emotion.model.preprocess import linear_map
from emotion.model.weights import load_dlib_weights

from conftest import SHARED, make_cfg

COSINE, MAX_DIFF = 0.9999, 1e-3


@pytest.fixture(scope="module")
def weights_file():
    path = packaged(make_cfg(["backbone=dlib_face_resnet"]).backbone.weights.package)
    if path is None:
        pytest.skip("face-recognition-models is not installed (pip install -e '.[dev]')")
    return path


@pytest.fixture(scope="module")
def port(weights_file):
    net = dlib_face_resnet((150, 150, 3))
    load_dlib_weights(net, weights_file)
    return net


def descriptors(net, chips: np.ndarray) -> np.ndarray:
    weights, bias = linear_map("dlib", 3)
    return net.predict(chips.astype(np.float32) @ weights + bias, verbose=0)


def agreement(net, reference, chips) -> tuple[float, float]:
    """(lowest cosine, largest absolute difference) between the port's descriptors and dlib's own."""
    ours = descriptors(net, chips)
    theirs = np.stack([np.asarray(reference.compute_face_descriptor(np.ascontiguousarray(c))) for c in chips])
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    return float(cosine.min()), float(np.abs(ours - theirs).max())


def media_chips() -> np.ndarray:
    """150 px RGB chips of real faces: the shared photos and video (BlazeFace crops) and FER+ faces."""
    import av
    import cv2

    from emotion.inference.blazeface import FULL_RANGE, BlazeFaceDetector
    from emotion.inference.detectors import square_crop

    detect = BlazeFaceDetector(FULL_RANGE, None, 0.0, score_threshold=0.5, track_threshold=0.35, nms_threshold=0.3,
                               threads=1)
    frames = [cv2.imread(str(SHARED / "media" / name)) for name in ("single_face.jpg", "multi_face.jpg")]
    with av.open(str(SHARED / "media" / "WolfgangLanger_Pexels.mp4")) as video:
        frames += [frame.to_ndarray(format="bgr24") for i, frame in enumerate(video.decode(video=0)) if i % 60 == 0]
    chips = [cv2.resize(square_crop(frame, found.box, 0.25)[0], (150, 150), interpolation=cv2.INTER_AREA)[..., ::-1]
             for frame in frames for found in detect(frame)]
    valid = SHARED / "data" / "ferplus" / "FER2013Valid"
    for path in sorted(valid.glob("*.png"))[:24]:
        gray = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (150, 150), interpolation=cv2.INTER_CUBIC)
        chips.append(np.repeat(gray[..., None], 3, axis=2))
    return np.stack(chips)


def drawn_chips() -> np.ndarray:
    from emotion.data.synthetic import CLASSES, draw_face

    rng = np.random.default_rng(0)
    return np.stack([draw_face(c, 150, rng) for c in CLASSES]).astype(np.uint8)


@pytest.fixture(scope="module")
def dlib_net(weights_file):
    dlib = pytest.importorskip("dlib")
    return dlib.face_recognition_model_v1(str(weights_file))


@pytest.mark.skipif(not (SHARED / "media").is_dir() or not (SHARED / "data" / "ferplus").is_dir(),
                    reason="../shared (real faces) is absent")
def test_port_computes_dlibs_descriptors_on_real_faces(port, dlib_net):
    chips = media_chips()
    cosine, diff = agreement(port, dlib_net, chips)
    print(f"\n{len(chips)} real face chips: lowest cosine {cosine:.7f}, largest difference {diff:.2e}")
    assert len(chips) >= 30 and cosine >= COSINE and diff <= MAX_DIFF


def test_port_computes_dlibs_descriptors_on_drawn_faces(port, dlib_net):
    cosine, diff = agreement(port, dlib_net, drawn_chips())
    assert cosine >= COSINE and diff <= MAX_DIFF


@pytest.mark.parametrize("broken", ["flipped kernel", "scaled affine", "zero fill on the left"])
def test_one_layer_off_breaks_parity(port, dlib_net, weights_file, broken, monkeypatch):
    """The parity check can fail: one layer done differently from dlib is caught."""
    if broken == "zero fill on the left":
        monkeypatch.setattr(ZeroFillAdd, "call", lambda self, inputs: _fill_top_left(*inputs))
    net = dlib_face_resnet((150, 150, 3))
    load_dlib_weights(net, weights_file)
    if broken == "flipped kernel":  # a convolution where dlib correlates
        layer = net.get_layer("level2_block2_conv1")
        layer.kernel.assign(layer.kernel.numpy()[::-1, ::-1])
    elif broken == "scaled affine":
        layer = net.get_layer("level3_block1_bn2")
        layer.gamma.assign(layer.gamma.numpy() * 1.01)
    cosine, diff = agreement(net, dlib_net, drawn_chips())
    assert not (cosine >= COSINE and diff <= MAX_DIFF), (broken, cosine, diff)


def _fill_top_left(a, b):
    from keras import ops

    target = [max(x, y) for x, y in zip(a.shape[1:], b.shape[1:])]

    def fill(t):
        return ops.pad(t, [(0, 0)] + [(want - have, 0) for want, have in zip(target, t.shape[1:])])

    return fill(a) + fill(b)


def test_reader_finds_every_layer_of_the_file(weights_file):
    network = read_network(weights_file)
    assert network.input == {"mean_rgb": pytest.approx((122.782, 117.001, 104.298), abs=1e-3), "rows": 150,
                             "cols": 150}
    assert network.loss["name"] == "loss_metric_2" and network.loss["distance_threshold"] == pytest.approx(0.6)
    assert [layer.kind for layer in network.layers] == [kind for _, kind in layer_order()]
    kinds = [layer.kind for layer in network.layers]
    assert (kinds.count("con"), kinds.count("affine"), kinds.count("add_prev")) == (29, 29, 14)
    assert network.layers[0].arrays["filters"].shape == (32, 3, 7, 7)
    assert network.layers[-1].arrays["weights"].shape == (256, 128, 1, 1)


@pytest.mark.parametrize("damage", ["truncated", "not dlib"])
def test_damaged_or_foreign_files_are_named(weights_file, tmp_path, damage):
    path = tmp_path / "model.dat"
    data = weights_file.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\x89HDF\r\n\x1a\n" + data[8:1000])
    with pytest.raises(EmotionError, match=f"{path}: not a dlib network file as expected"):
        read_network(path)


def test_loader_refuses_a_network_of_another_shape(weights_file, monkeypatch):
    """A dlib file with the same layers but other filter counts: the mismatch is named."""
    network = read_network(weights_file)
    network.layers[4].arrays["filters"] = np.zeros((33, 32, 3, 3), np.float32)
    monkeypatch.setattr("emotion.model.weights.read_network", lambda path: network)
    with pytest.raises(EmotionError, match=r"'level4_block1_conv1' weight 'kernel' has shape \(3, 3, 32, 33\)"):
        load_dlib_weights(dlib_face_resnet((150, 150, 3)), weights_file)


def test_stages_are_cut_points():
    net = dlib_face_resnet((150, 150, 3))
    shapes = {stage: cut(net, stage).output.shape[1:] for stage in
              ("stem", "level4", "level3", "level2", "level1", "level0", "pool", "descriptor")}
    assert shapes == {"stem": (35, 35, 32), "level4": (35, 35, 32), "level3": (17, 17, 64), "level2": (8, 8, 128),
                      "level1": (4, 4, 256), "level0": (2, 2, 256), "pool": (256,), "descriptor": (128,)}
    assert dlib_face_resnet((MIN_INPUT, MIN_INPUT, 3)).get_layer("level0").output.shape[1:] == (1, 1, 256)
    with pytest.raises(ValueError, match="at least 104 px"):
        dlib_face_resnet((96, 96, 3))


def test_unfreezing_from_a_stage_takes_that_stage_and_the_ones_above():
    net = dlib_face_resnet((112, 112, 3))
    set_trainable_from(net, "level1_block1_conv1", freeze_bn=True)
    trainable = {layer.name for layer in net.layers if layer.trainable and layer.weights}
    assert trainable == {name for name, kind in layer_order() if kind == "con" and name.startswith(("level1", "level0"))
                         } | {"descriptor"}


def test_zero_fill_add_pads_bottom_right_and_channels():
    a = np.ones((1, 2, 2, 1), np.float32)
    b = np.full((1, 3, 3, 2), 10.0, np.float32)
    out = np.asarray(ZeroFillAdd()([a, b]))
    assert out.shape == (1, 3, 3, 2)
    assert out[0, :2, :2, 0].tolist() == [[11, 11], [11, 11]] and out[0, 2, 2, 0] == 10 and out[0, 0, 0, 1] == 10
