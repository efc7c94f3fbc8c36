import numpy as np

from facestyle.faces.matte import background_matte
from facestyle.faces.paste import feather_mask


def test_matte_cuts_the_falloff_over_a_plain_backdrop_but_never_the_core():
    size = 128
    crop = np.zeros((size, size, 3), np.uint8)
    crop[:] = (60, 60, 140)  # purple backdrop everywhere ...
    yy, xx = np.mgrid[0:size, 0:size]
    head = ((xx - 64) / 40) ** 2 + ((yy - 64) / 50) ** 2 < 1
    crop[head] = (200, 160, 140)  # ... and a skin-coloured head
    matte = background_matte(crop)
    mask = feather_mask(size)
    core = mask >= 1.0
    assert matte[core].min() > 0.99
    falloff_bg = (mask > 0.05) & (mask < 0.9) & ~head
    assert (mask * matte)[falloff_bg].mean() < 0.3 * mask[falloff_bg].mean()
    assert matte[head].mean() > 0.95
