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


def test_video_refuses_a_file_that_is_not_a_video_before_the_models_load(tmp_path):
    import subprocess
    import sys

    (tmp_path / "notes.mp4").write_text("not a video")
    code = ("import sys\nfrom facestyle.cli import main\n"
            "try:\n    main(['video', sys.argv[1], '-s', 'photo', '-o', sys.argv[2]])\n"
            "except SystemExit as e:\n    print('exit:', e.code)\n"
            "heavy = [m for m in ('torch', 'facenet_pytorch', 'facestyle.pipeline', 'facestyle.tracking') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "notes.mp4"), str(tmp_path / "out.mp4")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "exit: " + str(tmp_path / "notes.mp4") + ": cannot decode the video" in r.stdout
    assert not (tmp_path / "out.mp4").exists()


def test_a_one_shot_command_as_the_process_loads_with_the_collector_off_then_freezes_it(files):
    """`facestyle upscale` as the whole process: the runtime loads with the cyclic collector off, the command
    runs with it on and what was loaded frozen; main(argv) inside another process (these tests) leaves gc alone."""
    import json
    import subprocess
    import sys

    small = files / "small.png"
    Image.open(files / "face.png").resize((40, 30)).save(small)
    code = ("import gc, json, sys\nimport facestyle.cli as cli\nimport facestyle.runtime as runtime\n"
            "seen = {}\nload, write = runtime.runtime_for, cli._write\n"
            "def runtime_for(*a):\n    seen['loading'] = gc.isenabled()\n    return load(*a)\n"
            "def _write(*a):\n    seen['running'] = gc.isenabled()\n    seen['frozen'] = gc.get_freeze_count()\n"
            "    return write(*a)\n"
            "runtime.runtime_for, cli._write = runtime_for, _write\n"
            "argv = sys.argv[1:]\n"
            "if argv[0] == 'process':\n    sys.argv = ['facestyle', *argv[1:]]\n    rc = cli.main()\n"
            "else:\n    rc = cli.main(argv[1:])\n"
            "seen.update(rc=rc, after=gc.isenabled())\nprint(json.dumps(seen))\n")
    results = {}
    for how in ("process", "call"):
        r = subprocess.run([sys.executable, "-c", code, how, "upscale", str(small), "-o", str(files / f"{how}.png"),
                            "--model", "lite"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        results[how] = json.loads(r.stdout.strip().splitlines()[-1])
        assert Image.open(files / f"{how}.png").size == (160, 120)
    process, call = results["process"], results["call"]
    assert process["loading"] is False and process["running"] is True and process["frozen"] > 100_000
    assert process["after"] is True and process["rc"] == 0
    assert call == {"loading": True, "running": True, "frozen": 0, "rc": 0, "after": True}
