import numpy as np
import pytest

from facestyle.eval.sr import bicubic_upscaler, evaluate_set
from facestyle.metrics.psnr_ssim import psnr_y, rgb_to_y, ssim_y
from tests.conftest import DATA, needs_data


def test_y_is_bt601_studio_range():
    assert rgb_to_y(np.zeros((1, 1, 3), np.uint8))[0, 0] == pytest.approx(16.0)
    assert rgb_to_y(np.full((1, 1, 3), 255, np.uint8))[0, 0] == pytest.approx(235.0)


def test_psnr_of_a_known_error_and_the_shaved_border():
    hr = np.full((20, 20, 3), 100, np.uint8)
    sr = hr.copy()
    sr[4:-4, 4:-4] += 10  # Y differs by 10 * 219/255 inside the shave
    expected = 10 * np.log10(255**2 / (10 * 219 / 255) ** 2)
    assert psnr_y(sr, hr, shave=4) == pytest.approx(expected)
    sr2 = hr.copy()
    sr2[:4] = 0  # only inside the shaved border: invisible to the metric
    assert psnr_y(sr2, hr, shave=4) == float("inf")
    assert ssim_y(hr, hr) == pytest.approx(1.0)
    assert ssim_y(sr, hr) < 1.0


@needs_data
@pytest.mark.parametrize("set_name,published", [("Set5", 28.42), ("Set14", 25.99)])
def test_bicubic_reproduces_the_published_baseline(set_name, published):
    r = evaluate_set(bicubic_upscaler(), DATA / "sr" / set_name)
    assert r["psnr"] == pytest.approx(published, abs=0.05)
