import numpy as np
import pytest
import torch
from PIL import Image

from facestyle.data import benchmark_pixel_hashes
from facestyle.train.pairs import LeakError, PairSampler, load_hr_images
from facestyle.train.sr import TrainConfig, Trainer
from tests.conftest import DATA, needs_data


def smooth_images(n=4, size=64, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    imgs = []
    for _ in range(n):
        f = rng.uniform(2, 6, 3)
        img = np.stack([np.sin(2 * np.pi * (f[c] * xx + f[(c + 1) % 3] * yy)) for c in range(3)], -1)
        imgs.append(((img * 0.5 + 0.5) * 255).astype(np.uint8))
    return imgs


def test_sampler_crops_are_aligned_hr_lr_pairs():
    s = PairSampler(smooth_images(), crop=32, seed=1)
    lr, hr = s.sample(5)
    assert lr.shape == (5, 3, 8, 8) and hr.shape == (5, 3, 32, 32)
    from facestyle.imresize import imresize

    # each LR crop is (up to rounding and the whole-image borders) the downscaled HR crop
    assert (imresize(hr.double(), 0.25)[..., 2:-2, 2:-2] - lr.double()[..., 2:-2, 2:-2]).abs().max() < 0.02


def test_a_few_steps_lower_the_loss_and_a_rerun_resumes(tmp_path):
    cfg = TrainConfig(model="lite", steps=40, batch=4, crop=32, lr=1e-3, out=str(tmp_path / "g.pt"),
                      eval_every=10**6, save_every=20, log_every=5, device="cpu", data=str(tmp_path))
    trainer = Trainer(cfg, sampler=PairSampler(smooth_images(), crop=32))
    hist = trainer.run(progress=False)
    losses = [h["loss"] for h in hist if "loss" in h]
    assert np.mean(losses[-2:]) < losses[0]
    assert (tmp_path / "g.pt").exists() and (tmp_path / "g.state.pt").exists()
    cfg.steps = 45
    resumed = Trainer(cfg, sampler=PairSampler(smooth_images(), crop=32))
    assert resumed.step == 40
    resumed.run(progress=False)
    assert resumed.step == 45
    ckpt = torch.load(tmp_path / "g.pt", weights_only=True)
    assert ckpt["meta"]["steps"] == 45 and ckpt["config"]["channels"] == 32


def test_gan_stage_runs_from_stage_one_weights(tmp_path):
    first = TrainConfig(model="lite", steps=2, batch=2, crop=32, out=str(tmp_path / "g.pt"), eval_every=10**6,
                        device="cpu", data=str(tmp_path))
    Trainer(first, sampler=PairSampler(smooth_images(), crop=32)).run(progress=False)
    gan = TrainConfig(model="lite", stage="srgan", init=str(tmp_path / "g.pt"), steps=2, batch=2, crop=32,
                      out=str(tmp_path / "gan.pt"), eval_every=10**6, device="cpu", data=str(tmp_path))
    hist = Trainer(gan, sampler=PairSampler(smooth_images(), crop=32)).run(progress=False)
    assert {"content", "adv", "d"} <= set(hist[0])


@needs_data
def test_the_loader_refuses_a_test_image(tmp_path):
    forbidden = benchmark_pixel_hashes(DATA / "sr")
    leaked = tmp_path / "innocent_name.png"
    Image.open(DATA / "sr/Set5/baby.png").save(leaked)
    with pytest.raises(LeakError):
        load_hr_images([leaked], forbidden)
    ok = tmp_path / "ok.png"
    Image.fromarray(smooth_images(1)[0]).save(ok)
    assert len(load_hr_images([ok], forbidden)) == 1
