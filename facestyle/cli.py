"""`facestyle` command line: serve, worker, stylize, upscale, adapt, train-sr, eval-sr.

Imports stay inside the commands so that training runs on machines without the web stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _train_sr(a: argparse.Namespace) -> int:
    from facestyle.train.sr import TrainConfig, Trainer

    cfg = TrainConfig(model=a.model, stage=a.stage, steps=a.steps, batch=a.batch, crop=a.crop, lr=a.lr, loss=a.loss,
                      init=a.init, out=a.out, eval_every=a.eval_every, save_every=a.save_every, seed=a.seed,
                      time_limit=a.time_limit, faces=not a.no_faces, **({"data": a.data} if a.data else {}),
                      **({"device": a.device} if a.device else {}))
    Trainer(cfg).run()
    print(f"weights written to {cfg.out}")
    return 0


def _eval_sr(a: argparse.Namespace) -> int:
    from facestyle.data import data_root
    from facestyle.eval.sr import bicubic_upscaler, evaluate, markdown_table, model_upscaler
    from facestyle.weights import load_generator

    sets = a.sets.split(",")
    ups = {}
    for name in a.models.split(","):
        ups[name] = bicubic_upscaler() if name == "bicubic" else model_upscaler(load_generator(name), a.device)
    results = evaluate(ups, Path(a.data) if a.data else data_root() / "sr", sets, limit=a.limit)
    print(markdown_table(results, sets))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="facestyle", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train-sr", help="train the SRResNet (stage 1) or SRGAN (stage 2) generator")
    t.add_argument("--model", default="lite", choices=["lite", "full"])
    t.add_argument("--stage", default="srresnet", choices=["srresnet", "srgan"])
    t.add_argument("--steps", type=int, default=10_000)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--crop", type=int, default=96)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--loss", default="l1", choices=["l1", "mse"])
    t.add_argument("--init", help="stage 1 weights to start stage 2 from")
    t.add_argument("--out", default="runs/srresnet_lite.pt")
    t.add_argument("--data", help="data folder (default ../shared/data or $FACESTYLE_DATA)")
    t.add_argument("--no-faces", action="store_true", help="train on T91+BSD200 only")
    t.add_argument("--eval-every", type=int, default=1000)
    t.add_argument("--save-every", type=int, default=1000)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device")
    t.add_argument("--time-limit", type=float, help="seconds; stop and save when reached")
    t.set_defaults(func=_train_sr)

    e = sub.add_parser("eval-sr", help="4x PSNR/SSIM (Y, shave 4) on the SR benchmarks")
    e.add_argument("--data", help="folder holding Set5/Set14/BSD100 (default ../shared/data/sr)")
    e.add_argument("--sets", default="Set5,Set14,BSD100")
    e.add_argument("--models", default="bicubic,srresnet_lite,srresnet_full,srgan_full",
                   help="bicubic, shipped weight names (weights/NAME.pt) or .pt paths")
    e.add_argument("--limit", type=int, help="first N images of each set")
    e.add_argument("--device", default="cpu")
    e.add_argument("--json", help="also write the results here")
    e.set_defaults(func=_eval_sr)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
