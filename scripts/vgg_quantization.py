"""How much does the VGG19's 8-bit quantization move the SRGAN content loss? The float weights cannot be had
offline, so this bounds it from the other side: re-quantize the shipped 256-level tables to 64 and 16 levels
and see how the relu5_4 content loss (and the ordering of models) moves on Set5.

python scripts/vgg_quantization.py
"""

import numpy as np
import torch

from facestyle.data import data_root, list_images, load_rgb
from facestyle.eval.sr import bicubic_upscaler, model_upscaler
from facestyle.imresize import imresize_uint8
from facestyle.models import vgg as vggmod
from facestyle.weights import load_generator

torch.set_num_threads(2)
state8 = vggmod._decoded_state()


def requantized(levels: int) -> dict:
    """Each layer's 256 centroids merged into `levels` by sorting and averaging equal-sized groups."""
    q = torch.load(vggmod.weights_path(), map_location="cpu", weights_only=True)
    out = {}
    for k, v in state8.items():
        if k.endswith(".weight"):
            name = k.split(".")[0]
            table = q[f"{name}_W_table"]
            order = torch.argsort(table)
            merged = table.clone()
            for g in order.chunk(levels):
                merged[g] = table[g].mean()
            out[k] = merged[q[f"{name}_W_q"].long()]
        else:
            out[k] = v
    return out


models = {"bicubic": bicubic_upscaler(), "srresnet_full": model_upscaler(load_generator("srresnet_full")),
          "srgan_full": model_upscaler(load_generator("srgan_full"))}
pairs = []
for p in list_images(data_root() / "sr/Set5"):
    hr = load_rgb(p)
    lr = imresize_uint8(hr, 0.25)
    pairs.append((hr, {n: f(lr) for n, f in models.items()}))
to_t = lambda a: torch.from_numpy(np.array(a)).permute(2, 0, 1)[None].float() / 255  # noqa: E731
print("| VGG weights | " + " | ".join(models) + " |\n|---|---|---|---|")
base = None
for levels in (256, 64, 16):
    net = vggmod.VGGFeatures(("relu5_4",))
    if levels != 256:
        net.convs.load_state_dict({k: v for k, v in requantized(levels).items() if k.split(".")[0] in net.convs})
    with torch.no_grad():
        losses = {n: np.mean([float(((net(to_t(sr[n]))[0] - net(to_t(hr))[0]) ** 2).mean() / 12.75**2) for hr, sr in pairs])
                  for n in models}
    base = base or losses
    print(f"| {levels} levels | " + " | ".join(f"{losses[n]:.4f} ({losses[n] / base[n] - 1:+.1%})" for n in models) + " |")
