import numpy as np
import pytest

from facestyle.style.regressor import HeadRegressor, describe, held_out_error


def _pairs(n=24, d=40, k=30, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 5, d) + rng.uniform(-3, 3, d)  # unscaled, off-centre
    w = rng.standard_normal((d, k)) / np.sqrt(d)
    common = rng.standard_normal(k)  # what every style's move shares
    z = (x - x.mean(0)) / x.std(0)
    return x, common + z @ w + noise * rng.standard_normal((n, k))


def test_the_regressor_predicts_held_out_moves_better_than_their_mean():
    x, y = _pairs()
    mean_only = np.mean([((y[np.arange(len(y)) != i].mean(0) - y[i]) ** 2).sum() / (y[i] ** 2).sum()
                         for i in range(len(y))])
    assert held_out_error(x, y, 0.1) < 0.6 * mean_only
    assert held_out_error(x, y, 0.1) < held_out_error(x, y, 1e4)  # a huge ridge leaves only the mean


def test_a_saved_regressor_predicts_the_same_and_refuses_another_head_size(tmp_path):
    x, y = _pairs()
    reg = HeadRegressor.fit(x[:-1], y[:-1], 0.3)
    reg.save(tmp_path / "r.npz")
    back = HeadRegressor.load(tmp_path / "r.npz", dim=y.shape[1])
    np.testing.assert_allclose(back.predict(x[-1]), reg.predict(x[-1]), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="head has"):
        HeadRegressor.load(tmp_path / "r.npz", dim=y.shape[1] + 1)


def test_the_descriptor_is_blind_to_colour_and_sees_texture(astronaut):
    from facestyle.style.procedural import pencil

    crop = np.asarray(astronaut[:256, 128:384])
    tinted = np.clip(crop.astype(np.float32) * [1.0, 0.8, 0.6] + [30, 0, 0], 0, 255).astype(np.uint8)
    d, d_tint, d_pencil = describe(crop), describe(tinted), describe(pencil(crop))
    assert d.shape == (896,)
    # a colour change barely moves it (only through luminance), a change of texture does
    assert np.linalg.norm(d_tint - d) < 0.05 * np.linalg.norm(d_pencil - d)  # measured 36 vs 3107
