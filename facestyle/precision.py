"""Which float type the generator runs in: bf16 where the hardware has fast bf16 matmuls, else fp32.

On a CPU with AMX (Sapphire Rapids and later) oneDNN runs bf16 convolutions ~3x faster than fp32; on one
without (AVX2 only) bf16 is emulated and several times *slower*, so "auto" looks at the CPU's flags rather
than assuming. The output differs from fp32 by ~0.5/255 on average (tests/test_precision.py).
"""

from __future__ import annotations

import contextlib
import functools

import torch


@functools.lru_cache(maxsize=None)
def cpu_has_amx() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def resolve(precision: str, device: torch.device | str) -> str:
    """auto | fp32 | bf16 -> fp32 | bf16."""
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"unknown precision {precision!r}, expected auto, fp32 or bf16")
    if precision != "auto":
        return precision
    device = torch.device(device)
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_amx() else "fp32"


def autocast(precision: str, device: torch.device | str):
    """The context the generator's forward pass runs in."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
