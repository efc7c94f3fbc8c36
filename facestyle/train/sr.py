"""`facestyle train-sr`: stage 1 SRResNet (pixel loss), stage 2 SRGAN (VGG54 content + 1e-3 adversarial).

Resumable: the run's state (model, optimisers, step, sampler RNG) is saved beside the weights every
`save_every` steps and at the end, and a rerun with the same output picks up where it stopped.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from facestyle.data import benchmark_pixel_hashes, data_root, face_split, list_images
from facestyle.eval.sr import evaluate_set, model_upscaler
from facestyle.models import Discriminator, SRResNet, SRResNetConfig
from facestyle.train.pairs import PairSampler, load_hr_images


@dataclass
class TrainConfig:
    model: str = "lite"
    stage: str = "srresnet"  # or "srgan"
    steps: int = 10_000
    batch: int = 16
    crop: int = 96
    lr: float = 1e-4
    lr_drop: float = 0.8  # after this fraction of the steps the rate falls tenfold (1e-4 -> 1e-5, as the paper)
    loss: str = "l1"  # stage 1 pixel loss: l1 or mse
    adv_weight: float = 1e-3
    data: str = field(default_factory=lambda: str(data_root()))
    faces: bool = True  # add the training four-fifths of faces/single
    init: str | None = None  # stage 2 starts from stage 1 weights
    out: str = "runs/srresnet_lite.pt"
    eval_every: int = 1000
    save_every: int = 1000
    log_every: int = 50
    seed: int = 0
    device: str = "cuda" if torch.cuda.is_available() else "cpu"
    time_limit: float | None = None  # seconds; stop cleanly (and save) when reached
    max_images: int | None = None  # tiny runs in tests


def build_sampler(cfg: TrainConfig) -> PairSampler:
    root = Path(cfg.data)
    paths = list_images(root / "sr/train/T91") + list_images(root / "sr/train/BSD200")
    if cfg.faces and (root / "faces/single").is_dir():
        paths += face_split(root / "faces/single")[0]
    paths = paths[: cfg.max_images]
    images = load_hr_images(paths, forbidden=benchmark_pixel_hashes(root / "sr"))
    return PairSampler(images, crop=cfg.crop, device=cfg.device, seed=cfg.seed)


class Trainer:
    def __init__(self, cfg: TrainConfig, sampler: PairSampler | None = None):
        torch.manual_seed(cfg.seed)
        self.cfg = cfg
        self.device = torch.device(cfg.device)
        self.sampler = sampler or build_sampler(cfg)
        if cfg.init:
            self.G = SRResNet.from_checkpoint(torch.load(cfg.init, map_location="cpu", weights_only=True))
        else:
            self.G = SRResNet(SRResNetConfig.preset(cfg.model))
        self.G.to(self.device).to(memory_format=torch.channels_last)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(0.9, 0.999))
        self.D = self.opt_d = self.vgg = None
        if cfg.stage == "srgan":
            from facestyle.models.vgg import VGGFeatures

            self.D = Discriminator().to(self.device)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=(0.9, 0.999))
            self.vgg = VGGFeatures(layers=("relu5_4",)).to(self.device)
        self.step, self.t0 = 0, time.perf_counter()
        self.history: list[dict] = []
        self.state_path = Path(cfg.out).with_suffix(".state.pt")
        if self.state_path.exists():
            self._resume()

    def _resume(self) -> None:
        st = torch.load(self.state_path, map_location=self.device, weights_only=False)
        self.G.load_state_dict(st["G"])
        self.opt_g.load_state_dict(st["opt_g"])
        if self.D is not None and "D" in st:
            self.D.load_state_dict(st["D"])
            self.opt_d.load_state_dict(st["opt_d"])
        self.step, self.history = st["step"], st["history"]
        self.sampler.gen.set_state(st["sampler_rng"])
        torch.set_rng_state(st["torch_rng"])

    def save(self, seconds: float) -> None:
        Path(self.cfg.out).parent.mkdir(parents=True, exist_ok=True)
        st = {"G": self.G.state_dict(), "opt_g": self.opt_g.state_dict(), "step": self.step, "history": self.history,
              "sampler_rng": self.sampler.gen.get_state(), "torch_rng": torch.get_rng_state()}
        if self.D is not None:
            st.update(D=self.D.state_dict(), opt_d=self.opt_d.state_dict())
        torch.save(st, self.state_path)
        meta = {"train": asdict(self.cfg), "steps": self.step, "seconds": seconds, "history": self.history,
                "device": torch.cuda.get_device_name() if self.device.type == "cuda" else "cpu"}
        torch.save(self.G.cpu().checkpoint(**meta), self.cfg.out)
        self.G.to(self.device)

    def _lr(self) -> float:
        """Tenfold drop after `lr_drop` of the run, counted in steps or, under a time limit, in time."""
        done = self.step / self.cfg.steps
        if self.cfg.time_limit:
            done = max(done, (time.perf_counter() - self.t0) / self.cfg.time_limit)
        return self.cfg.lr * (0.1 if done >= self.cfg.lr_drop else 1.0)

    def train_step(self) -> dict:
        lr_img, hr_img = self.sampler.sample(self.cfg.batch)
        lr_img = lr_img.to(self.device, memory_format=torch.channels_last)
        hr_img = hr_img.to(self.device, memory_format=torch.channels_last)
        for group in self.opt_g.param_groups + (self.opt_d.param_groups if self.opt_d else []):
            group["lr"] = self._lr()
        amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")
        logs = {}
        with amp:
            sr = self.G(lr_img)
        if self.D is None:
            pix = F.l1_loss if self.cfg.loss == "l1" else F.mse_loss
            loss = pix(sr.float(), hr_img)
            logs["loss"] = loss.item()
        else:
            with amp:
                d_real, d_fake = self.D(hr_img), self.D(sr.detach())
                loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + \
                    F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.float().backward()
            self.opt_d.step()
            with amp:
                content = F.mse_loss(self.vgg(sr)[0].float(), self.vgg(hr_img)[0].float()) / 12.75**2
                g_fake = self.D(sr)
                adv = F.binary_cross_entropy_with_logits(g_fake.float(), torch.ones_like(g_fake.float()))
            loss = content + self.cfg.adv_weight * adv
            logs.update(loss=loss.item(), content=content.item(), adv=adv.item(), d=loss_d.item())
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.step += 1
        return logs

    def set5_psnr(self) -> float | None:
        folder = Path(self.cfg.data) / "sr/Set5"
        if not folder.is_dir():
            return None
        psnr = evaluate_set(model_upscaler(self.G, str(self.device)), folder)["psnr"]
        self.G.train()
        return psnr

    def run(self, progress: bool = True) -> list[dict]:
        cfg = self.cfg
        t0 = self.t0 = time.perf_counter()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not progress, dynamic_ncols=True, mininterval=2)
        self.G.train()
        while self.step < cfg.steps:
            logs = self.train_step()
            bar.update(1)
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            if self.step % cfg.log_every == 0 or self.step == 1:
                self.history.append({"step": self.step, **logs})
            out_of_time = cfg.time_limit is not None and time.perf_counter() - t0 > cfg.time_limit
            if self.step % cfg.eval_every == 0 or self.step == cfg.steps or out_of_time:
                psnr = self.set5_psnr()
                if psnr is not None and math.isfinite(psnr):
                    self.history.append({"step": self.step, "set5_psnr": psnr})
                    bar.write(f"step {self.step}: Set5 PSNR {psnr:.2f} dB")
            if self.step % cfg.save_every == 0 or self.step == cfg.steps or out_of_time:
                self.save(time.perf_counter() - t0)
            if out_of_time:
                bar.write(f"time limit reached at step {self.step}")
                break
        bar.close()
        return self.history
