"""The training runtime: precision that the machine can really compute, and the counts that apply."""

import keras
import pytest

from emotion.training import runtime

from conftest import make_cfg


@pytest.mark.parametrize("flags,expected", [(set(), "float32"), ({"avx512_bf16"}, "mixed_bfloat16"),
                                            ({"amx_bf16", "avx2"}, "mixed_bfloat16")])
def test_bfloat16_only_where_the_cpu_computes_it(monkeypatch, flags, expected):
    """Without AVX-512 BF16 or AMX, TensorFlow emulates bfloat16 (about 7x slower than float32 per FER+ step on
    an AVX2-only machine): the run falls back to float32 and says so."""
    monkeypatch.setattr(runtime, "cpu_flags", lambda: flags)
    _, effective = runtime.apply_runtime(make_cfg(["runtime.precision=mixed_bfloat16"]).runtime)
    assert effective["precision"] == expected == keras.mixed_precision.global_policy().name
