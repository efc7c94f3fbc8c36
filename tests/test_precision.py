import numpy as np
import pytest
import torch

from facestyle.pipeline import Stylizer
from facestyle.precision import cpu_has_amx, resolve
from facestyle.weights import load_generator


def test_auto_picks_bf16_only_where_the_cpu_runs_it_fast():
    assert resolve("auto", "cpu") == ("bf16" if cpu_has_amx() else "fp32")
    assert resolve("fp32", "cpu") == "fp32" and resolve("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError):
        resolve("fp16", "cpu")


def test_bf16_generator_output_stays_within_a_grey_level_of_fp32():
    gen = load_generator("srresnet_lite")
    fp32, bf16 = Stylizer(gen, None, precision="fp32"), Stylizer(gen, None, precision="bf16")
    x = torch.from_numpy(np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32))
    heads = torch.stack([gen.photo_head.detach()] * 2)
    a, b = fp32.run_batch(x, heads), bf16.run_batch(x, heads)
    assert a.dtype == b.dtype == torch.float32 and a.shape == b.shape == (2, 3, 128, 128)
    diff = (a - b).abs()
    assert 0 < diff.mean() < 1 / 255 and diff.max() < 12 / 255
