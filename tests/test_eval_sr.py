import pytest

from facestyle.eval.sr import bicubic_upscaler, evaluate, markdown_table, model_upscaler
from facestyle.weights import load_generator
from tests.conftest import DATA, needs_data


@needs_data
@pytest.mark.parametrize("name,bar", [("srresnet_lite", 30.7), ("srresnet_full", 31.35)])
def test_shipped_weights_clear_their_set5_bar(name, bar):
    res = evaluate({"bicubic": bicubic_upscaler(), name: model_upscaler(load_generator(name))}, DATA / "sr", ["Set5"])
    assert res[name]["Set5"]["psnr"] >= bar
    assert res[name]["Set5"]["ssim"] > res["bicubic"]["Set5"]["ssim"] + 0.05
    table = markdown_table(res, ["Set5"])
    assert name in table and "paper SRResNet" in table
