"""Process and machine facts: the CPU a benchmark names in its header."""

import pytest

from emotion.core import process


@pytest.mark.parametrize("flags,says", [({"avx2", "avx512f"}, "with AVX-512"), ({"avx2"}, "without AVX-512")])
def test_cpu_name_says_the_model_and_whether_it_has_avx512(monkeypatch, flags, says):
    monkeypatch.setattr(process, "cpu_flags", lambda: flags)
    name, avx512 = process.cpu_name().rsplit(", ", 1)
    assert avx512 == says and name and name != "unknown CPU"
