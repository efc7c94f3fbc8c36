"""Screenshot the page at `/` after a person's first steps: register a style from a reference picture, upload the
astronaut, stylize. Serves the embedded default on a free loopback port unless --url is given.

    python scripts/screenshot.py --out out/page.png [--width 390] [--style ../shared/data/styles/jojogan_sketch.png]

Needs Debian's chromium (/usr/bin/chromium) and the `test` extra (Playwright).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def default_style() -> Path | None:
    from facestyle.data import data_root

    path = data_root() / "styles" / "jojogan_sketch.png"
    return path if path.exists() else None


def shoot(url: str, out: Path, width: int, height: int, style: Path | None, photo: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
        page.goto(url)
        if style is not None:
            page.get_by_text("Register a new style from one picture").click()
            page.get_by_label("Reference picture").set_input_files(str(style))
            page.get_by_role("button", name="Register").click()
            expect(page.locator("#style-msg")).to_contain_text("ready", timeout=180_000)
        page.locator("#photo-file").set_input_files(str(photo))
        expect(page.locator("#result[data-ready='1']")).to_be_attached(timeout=120_000)
        page.wait_for_function("[...document.querySelectorAll('img.thumb')].every(i => i.naturalWidth > 0)")
        page.locator("#compare-pos").fill("47")  # the astronaut's face half before, half after
        time.sleep(0.3)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="out/page.png")
    p.add_argument("--width", type=int, default=1280, help="viewport width in CSS pixels (390: a phone)")
    p.add_argument("--height", type=int, default=900)
    p.add_argument("--url", help="a running service (default: serve one on a free loopback port)")
    p.add_argument("--style", help="a reference picture to register first (default: the shared sketch, if present); "
                                   "'none' for the photo style only")
    a = p.parse_args()
    style = None if a.style == "none" else Path(a.style) if a.style else default_style()

    import numpy as np
    import skimage.data
    from PIL import Image

    from service.local import local_server

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "astronaut.png"
        Image.fromarray(np.asarray(skimage.data.astronaut())).save(photo)
        server = contextlib.nullcontext(a.url) if a.url else local_server({"FACESTYLE_ADAPT_STEPS": "20"})
        with server as url:
            shoot(url, Path(a.out), a.width, a.height, style, photo)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
