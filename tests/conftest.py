import os

import numpy as np
import pytest
import skimage.data
import torch

from facestyle.data import data_root

torch.set_num_threads(2)
DATA = data_root()
needs_data = pytest.mark.skipif(not (DATA / "sr").is_dir(), reason=f"shared data not found at {DATA} (set FACESTYLE_DATA)")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def two_faces(astronaut) -> np.ndarray:
    """Two faces side by side (the astronaut and her mirror), from a picture that ships with scikit-image."""
    return np.concatenate([astronaut[:300, 80:380], astronaut[:300, 80:380][:, ::-1]], axis=1).copy()


def posterised_tint(rgb: np.ndarray) -> np.ndarray:
    """A procedural 'style': channels rotated (blue skin) and posterised to 4 levels; MTCNN still sees the face."""
    return (rgb[..., [2, 0, 1]] // 64 * 64 + 32).astype(np.uint8)


@pytest.fixture(scope="session")
def style_reference(astronaut) -> np.ndarray:
    return posterised_tint(astronaut)


@pytest.fixture(scope="session")
def runtime():
    from facestyle.runtime import get_runtime

    return get_runtime("lite", "cpu", 64)


def pytest_configure(config):
    os.environ.setdefault("FACESTYLE_ADAPT_STEPS", "8")
