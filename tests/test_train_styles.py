import torch

from facestyle.models import SRResNet
from facestyle.style.procedural import STYLES
from facestyle.train.pairs import PairSampler
from facestyle.train.styles import StyleTrainConfig, StyleTrainer
from facestyle.weights import load_generator


def test_a_few_multi_style_steps_teach_the_style_heads_and_ship_them_in_the_checkpoint(runtime, astronaut):
    crop = runtime.reference_crop(astronaut)
    trainer = StyleTrainer(load_generator("srresnet_lite"), [crop, crop[:, ::-1].copy()], PairSampler([astronaut], crop=32),
                           StyleTrainConfig(seconds=120, steps=60, batch=4, crop=16, log_every=10))
    before = trainer.heads.detach().clone()
    hist = trainer.run(log=lambda *_: None)
    assert trainer.step == 60 and len(hist) == 6
    assert hist[-1]["style"] < 0.85 * hist[0]["style"]  # the procedural renderings are being learned
    assert (trainer.heads.detach() - before).abs().amax(1).min() > 0  # every style's head moved
    ckpt = trainer.checkpoint(init="srresnet_lite")
    assert ckpt["style_names"] == list(STYLES) and ckpt["style_heads"].shape == before.shape
    g = SRResNet.from_checkpoint(ckpt)  # an ordinary generator checkpoint: the style heads ride along
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        pencil, photo = g(x, ckpt["style_heads"][:1]), g(x)
    assert (pencil - photo).abs().mean() > 0.01  # a style head renders differently from the photo head
    assert ckpt["meta"]["steps"] == 60
