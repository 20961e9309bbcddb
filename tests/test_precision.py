"""Mixed precision is chosen by detecting the hardware, never assumed."""
import keras
import pytest

from fmnist_helpers.training import precision

CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n"


def test_cpu_flags_are_read_from_cpuinfo_text():
    assert {"avx2", "avx512_bf16"} <= precision.cpu_flags(CPUINFO)
    assert precision.cpu_flags("no flags here") == set()


@pytest.mark.parametrize("gpus, flags, expected", [
    ([(8, 0)], set(), "mixed_float16"),
    ([(6, 1)], {"avx512_bf16"}, "float32"),  # an old GPU without tensor cores gains nothing
    ([], {"avx512_bf16"}, "mixed_bfloat16"),
    ([], {"amx_bf16"}, "mixed_bfloat16"),
    ([], {"avx2", "avx512f"}, "float32"),
])
def test_auto_precision_follows_the_hardware(gpus, flags, expected):
    assert precision.choose_precision("auto", gpus=gpus, flags=flags) == expected


def test_an_explicit_precision_is_kept():
    assert precision.choose_precision("float32", gpus=[(9, 0)], flags=set()) == "float32"


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        precision.choose_precision("int8")


def test_precision_policy_is_restored_after_the_block():
    before = keras.config.dtype_policy().name
    with precision.precision_policy("mixed_bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before
