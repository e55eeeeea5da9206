"""The VGGFace2 ResNet50 graph, its name map, and the Keras 2 HDF5 weight loader."""

import h5py
import numpy as np
import pytest

from emotion.core.errors import EmotionError
from emotion.model.backbones import cut, keras_name, original_name, resnet50_vggface2, set_trainable_from
from emotion.model.weights import load_keras2_weights


@pytest.fixture(scope="module")
def net():
    return resnet50_vggface2((32, 32, 3))


def weighted(model):
    return [layer for layer in model.layers if layer.weights]


def test_graph_has_the_keras_vggface_layers(net):
    names = {original_name(layer.name) for layer in weighted(net)}
    assert len([n for n in names if not n.endswith("/bn")]) == 53  # 49 convs + 4 projections
    assert len([n for n in names if n.endswith("/bn")]) == 53
    for expected in ["conv1/7x7_s2", "conv1/7x7_s2/bn", "conv2_1_1x1_proj/bn", "conv4_6_3x3",
                     "conv5_3_1x1_increase/bn"]:
        assert expected in names
    assert sum(w.numpy().size for w in net.weights) == 23_561_152  # ResNet50 without top
    assert net.get_layer("avg_pool").output.shape == (None, 1, 1, 2048)


def test_name_map_is_reversible():
    for name in ["conv1/7x7_s2/bn", "conv3_4_1x1_reduce", "avg_pool"]:
        assert original_name(keras_name(name)) == name
        assert "/" not in keras_name(name)


def write_keras2_h5(path, model, full_model=False, skip=(), corrupt=None, extra_layers=True):
    """A file laid out as Keras 2 wrote them: original names with '/', `weight_names` per layer."""
    rng = np.random.default_rng(0)
    written = {}
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if full_model else f
        if full_model:
            f.attrs["model_config"] = b'{"class_name": "Model"}'
        root.attrs["keras_version"] = b"2.2.4"
        root.attrs["backend"] = b"tensorflow"
        layer_names = []
        for layer in model.layers:
            name = original_name(layer.name)
            if name in skip:
                continue
            layer_names.append(name.encode())
            group = root.create_group(name)
            weight_names = []
            for variable in layer.weights:
                wname = f"{name}/{variable.name}:0"
                shape = tuple(variable.shape)
                if corrupt == name:
                    shape = shape[:-1] + (shape[-1] + 1,)
                value = rng.normal(size=shape).astype("float32")
                group.create_dataset(wname, data=value)
                weight_names.append(wname.encode())
                written[(name, variable.name)] = value
            group.attrs["weight_names"] = weight_names
        if extra_layers:  # present in the file, absent from our graph: ignored
            group = root.create_group("classifier")
            group.create_dataset("classifier/kernel:0", data=np.zeros((2048, 8631), "float32"))
            group.attrs["weight_names"] = [b"classifier/kernel:0"]
            layer_names.append(b"classifier")
        root.attrs["layer_names"] = layer_names
    return written


@pytest.mark.parametrize("full_model", [False, True], ids=["weights_only", "full_model"])
def test_loader_assigns_every_variable(net, tmp_path, full_model):
    path = tmp_path / "weights.h5"
    written = write_keras2_h5(path, net, full_model=full_model)
    fresh = resnet50_vggface2((32, 32, 3))
    assert load_keras2_weights(fresh, path) == len(weighted(fresh)) == 106
    for layer in weighted(fresh):
        for variable in layer.weights:
            np.testing.assert_array_equal(variable.numpy(), written[(original_name(layer.name), variable.name)])


def test_missing_layer_is_named(net, tmp_path):
    path = tmp_path / "weights.h5"
    write_keras2_h5(path, net, skip={"conv4_2_3x3/bn"})
    with pytest.raises(EmotionError, match="no weights for layer 'conv4_2_3x3/bn'"):
        load_keras2_weights(resnet50_vggface2((32, 32, 3)), path)


def test_shape_mismatch_is_named(net, tmp_path):
    path = tmp_path / "weights.h5"
    write_keras2_h5(path, net, corrupt="conv3_1_1x1_proj")
    with pytest.raises(EmotionError, match=r"'conv3_1_1x1_proj'.*\(1, 1, 256, 513\).*\(1, 1, 256, 512\)"):
        load_keras2_weights(resnet50_vggface2((32, 32, 3)), path)


def test_truncated_file_is_refused(net, tmp_path):
    path = tmp_path / "weights.h5"
    write_keras2_h5(path, net)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(EmotionError, match="cannot read weights file"):
        load_keras2_weights(resnet50_vggface2((32, 32, 3)), path)


def test_cut_at_any_layer(net):
    assert cut(net, "conv5_3/relu").output.shape == (None, 1, 1, 2048)
    assert cut(net, "conv3_4/relu").output.shape == (None, 4, 4, 512)
    with pytest.raises(EmotionError, match="did you mean conv5_3/relu"):
        cut(net, "conv5_3/relux")


def test_trainable_from_a_named_layer():
    backbone = resnet50_vggface2((32, 32, 3))
    assert set_trainable_from(backbone, None) == 0
    assert not backbone.trainable_weights
    unfrozen = set_trainable_from(backbone, "conv5_1_1x1_reduce")
    trainable = {original_name(layer.name) for layer in weighted(backbone) if layer.trainable}
    assert unfrozen == len(trainable) == 3 * 6 + 2  # three blocks of 3 conv+bn, plus the projection
    assert "conv5_1_1x1_reduce" in trainable and "conv4_6_1x1_increase" not in trainable
    assert set_trainable_from(backbone, "all") == 106
