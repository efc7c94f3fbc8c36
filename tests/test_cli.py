import numpy as np
import pytest
import torch
from PIL import Image

from facestyle.cli import build_parser, main


@pytest.fixture
def files(tmp_path, astronaut, style_reference):
    Image.fromarray(style_reference).save(tmp_path / "ref.png")
    Image.fromarray(np.asarray(Image.fromarray(astronaut).resize((256, 256)))).save(tmp_path / "face.png")
    return tmp_path


def test_adapt_writes_a_style_file_that_stylize_uses(files):
    assert main(["adapt", str(files / "ref.png"), "-o", str(files / "s0.pt"), "--model", "lite", "--steps", "0"]) == 0
    assert main(["adapt", str(files / "ref.png"), "-o", str(files / "s3.pt"), "--model", "lite", "--steps", "3"]) == 0
    s0, s3 = (torch.load(files / n, weights_only=True) for n in ("s0.pt", "s3.pt"))
    assert s0["model"] == "lite" and s0["info"]["steps"] == 0 and "loss_last" in s3["info"]
    assert not torch.equal(s0["head"], s3["head"])
    assert main(["stylize", str(files / "face.png"), "-s", str(files / "s0.pt"), "-o", str(files / "out.jpg"),
                 "--strength", "0.8"]) == 0
    out = Image.open(files / "out.jpg")
    assert out.format == "JPEG" and out.size == (256, 256)
    assert main(["stylize", str(files / "face.png"), "-s", "photo", "-o", str(files / "out4.png"), "--scale", "4"]) == 0
    assert Image.open(files / "out4.png").size == (1024, 1024)


def test_upscale(files):
    small = files / "small.png"
    Image.open(files / "face.png").resize((40, 30)).save(small)
    assert main(["upscale", str(small), "-o", str(files / "up.png"), "--model", "lite"]) == 0
    assert Image.open(files / "up.png").size == (160, 120)


def test_the_documented_command_forms_parse():
    p = build_parser()
    for argv in (["serve", "--host", "0.0.0.0", "--port", "8000"], ["worker"],
                 ["stylize", "in.jpg", "-s", "photo", "-o", "o.png", "--strength", "0.5", "--scale", "4"],
                 ["upscale", "in.jpg", "-o", "o.png", "--model", "full"],
                 ["adapt", "ref.png", "-o", "s.pt", "--model", "lite", "--steps", "0"],
                 ["train-sr", "--model", "full", "--stage", "srgan"], ["eval-sr", "--sets", "Set5"]):
        assert p.parse_args(argv).func


def test_help_and_argument_errors_answer_without_loading_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom facestyle.cli import main\n"
            "for argv in (['--help'], ['adapt', '--help'], ['stylize']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = [m for m in ('torch', 'facenet_pytorch', 'cv2', 'fastapi', 'dlib') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "usage: facestyle" in r.stdout and "required: input" in r.stderr


def test_steps_default_is_the_adaptations():
    from facestyle.cli import STEPS_DEFAULT_HELP, _steps
    from facestyle.style.adapt import AdaptConfig

    a = build_parser().parse_args(["adapt", "ref.png", "-o", "s.pt"])
    assert a.steps is None and _steps(a) == AdaptConfig.steps
    assert f"default {AdaptConfig.steps}," in STEPS_DEFAULT_HELP
    assert _steps(build_parser().parse_args(["adapt", "ref.png", "-o", "s.pt", "--steps", "0"])) == 0
