"""Pick the numeric precision the hardware gains from, by detection rather than assumption.

- An NVIDIA GPU with tensor cores (compute capability 7.0 or newer): `mixed_float16`.
- A CPU with bfloat16 instructions (AVX-512 BF16 or AMX): `mixed_bfloat16`.
- Anything else: `float32` (mixed precision would only add casts there).

Mixed precision keeps the weights in float32 and computes in 16 bits; every model's output layer stays float32
so the softmax and the loss are computed at full precision.

Usage:
    from fmnist_helpers.models import build_model
    name = choose_precision()            # e.g. "mixed_bfloat16" on this course's CI machines
    with precision_policy(name):
        model = build_model("pack_cnn")
"""
from __future__ import annotations

import contextlib
import platform
from pathlib import Path
from typing import Iterator

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU feature flags from /proc/cpuinfo (an empty set where it does not exist)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(errors="replace") if path.is_file() else ""
    for line in cpuinfo.splitlines():
        if line.startswith("flags") and ":" in line:
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_bfloat16(flags: set[str] | None = None) -> bool:
    """Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX)."""
    flags = cpu_flags() if flags is None else flags
    return any(f in flags for f in BF16_FLAGS)


def gpu_compute_capabilities() -> list[tuple[int, int]]:
    """The compute capability of each GPU TensorFlow sees (empty on CPU-only machines)."""
    import tensorflow as tf

    caps = []
    for gpu in tf.config.list_physical_devices("GPU"):
        cap = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if cap:
            caps.append(tuple(cap))
    return caps


def choose_precision(requested: str = "auto", gpus: list[tuple[int, int]] | None = None,
                     flags: set[str] | None = None) -> str:
    """The Keras dtype policy to train in: `requested` unless it is "auto", else what the hardware gains from."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision {requested!r} is not accepted; choose one of: {', '.join(PRECISIONS)}")
    if requested != "auto":
        return requested
    gpus = gpu_compute_capabilities() if gpus is None else gpus
    if gpus:
        return "mixed_float16" if min(gpus) >= (7, 0) else "float32"
    return "mixed_bfloat16" if cpu_has_bfloat16(flags) else "float32"


def describe_hardware() -> dict[str, object]:
    """What the precision choice was based on, for the results records."""
    gpus = gpu_compute_capabilities()
    return {"machine": platform.machine(), "gpus": [f"{a}.{b}" for a, b in gpus],
            "cpu_bfloat16": cpu_has_bfloat16(), "auto_precision": choose_precision("auto", gpus=gpus)}


@contextlib.contextmanager
def precision_policy(name: str) -> Iterator[str]:
    """Set Keras's global dtype policy to `name` inside the block (models built there use it)."""
    import keras

    if name not in PRECISIONS[1:]:
        raise ValueError(f"precision {name!r} is not accepted here; choose one of: {', '.join(PRECISIONS[1:])}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_dtype_policy(previous)
