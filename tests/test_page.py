"""The page at `/` in a real browser: Debian's chromium driven by Playwright, against `facestyle serve` on a
loopback port (the embedded default: fakeredis and an in-process worker). Each test does what a person does."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import DATA, posterised_tint

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
if not Path(CHROMIUM).exists():
    pytest.skip("no chromium: apt-get install chromium (.ci/run does)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from service.local import local_server  # noqa: E402

SKETCH = DATA / "styles" / "jojogan_sketch.png"
needs_sketch = pytest.mark.skipif(not SKETCH.exists(), reason=f"shared style reference not found at {SKETCH} "
                                                                "(set FACESTYLE_DATA)")
TIMEOUT = 90_000  # ms: one stylized still on a shared 2-core machine takes a few seconds


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def server():
    with local_server({"FACESTYLE_ADAPT_STEPS": "3", "FACESTYLE_KEY_PREFIX": "pagetest"}) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        # a fake camera (a moving test pattern) stands in for the webcam, allowed without a prompt
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.on("dialog", lambda d: d.accept())  # the delete confirmation
    p.goto(server)
    expect(p.locator("#gallery li[data-id=photo]")).to_be_visible()
    yield p
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def files(tmp_path_factory, astronaut):
    d = tmp_path_factory.mktemp("page")
    (d / "astronaut.png").write_bytes(_png(astronaut))
    (d / "small.png").write_bytes(_png(np.asarray(Image.fromarray(astronaut).resize((160, 160)))))
    (d / "half.png").write_bytes(_png(np.asarray(Image.fromarray(astronaut).resize((256, 256)))))
    (d / "notes.txt").write_text("not a picture\n")
    (d / "tint.png").write_bytes(_png(posterised_tint(astronaut)))
    return d


def result_seq(page) -> int:
    return int(page.locator("#result").get_attribute("data-seq") or 0)


def wait_result(page, after: int = 0) -> dict:
    """Waits for a result newer than run `after`; returns its natural size and run number."""
    page.wait_for_function(f"Number(document.querySelector('#result').dataset.seq || 0) > {after} && "
                           "document.querySelector('#result').dataset.ready === '1'", timeout=TIMEOUT)
    return page.evaluate("""() => { const i = document.querySelector('#result');
        return {w: i.naturalWidth, h: i.naturalHeight, seq: Number(i.dataset.seq)}; }""")


PIXELS = """(sel) => { const i = document.querySelector(sel); const c = document.createElement('canvas');
    c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0);
    return Array.from(g.getImageData(0, 0, c.width, c.height).data); }"""


def pixels(page, sel: str = "#result") -> np.ndarray:
    return np.asarray(page.evaluate(PIXELS, sel), np.float64)


def register(server: str, path: Path, name: str) -> str:
    r = httpx.post(f"{server}/styles", files={"image": (path.name, path.read_bytes(), "image/png")},
                   data={"name": name}, timeout=120)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_page_is_served_with_its_assets(server):
    r = httpx.get(server)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for asset in re.findall(r'(?:src|href)="(/page/[^"]+)"', r.text):
        a = httpx.get(server + asset)
        assert a.status_code == 200 and int(a.headers["content-length"]) > 0, asset
    assert httpx.get(f"{server}/page/..%2Fmain.py").json()["error"] == "not_found"
    assert "http://" not in r.text and "https://" not in r.text  # nothing from another origin


def test_upload_the_astronaut_with_photo_gives_a_result_of_its_size_then_4x_and_downloads(page, files):
    expect(page.locator("#style-photo")).to_be_checked()  # the built-in style is the default
    page.get_by_label("Choose a file").set_input_files(files / "astronaut.png")
    first = wait_result(page)
    assert (first["w"], first["h"]) == (512, 512)
    expect(page.locator("#result-msg")).to_contain_text("1 face")
    expect(page.get_by_alt_text("Before: your photo")).to_be_visible()
    page.get_by_label("Before and after: slide to compare").fill("20")
    assert page.evaluate("getComputedStyle(document.querySelector('#compare')).getPropertyValue('--pos')") == "20%"

    with page.expect_download() as dl:
        page.get_by_role("button", name="PNG").click()
    assert dl.value.suggested_filename == "astronaut-photo.png"
    assert Image.open(dl.value.path()).size == (512, 512)
    with page.expect_download(timeout=TIMEOUT) as dl:
        page.get_by_role("button", name="WebP").click()
    assert dl.value.suggested_filename.endswith(".webp") and Image.open(dl.value.path()).format == "WEBP"

    page.get_by_label("Choose a file").set_input_files(files / "small.png")
    small = wait_result(page, first["seq"])
    assert (small["w"], small["h"]) == (160, 160)
    page.get_by_label("Output scale").select_option("4")
    big = wait_result(page, small["seq"])
    assert (big["w"], big["h"]) == (640, 640)


def test_drop_and_paste_take_the_photo(page, files):
    data = base64.b64encode((files / "small.png").read_bytes()).decode()
    make = f"""() => {{ const b = Uint8Array.from(atob('{data}'), c => c.charCodeAt(0));
        const dt = new DataTransfer(); dt.items.add(new File([b], 'dropped.png', {{type: 'image/png'}})); return dt; }}"""
    page.evaluate(f"""() => {{ const dt = ({make})();
        document.querySelector('#drop').dispatchEvent(new DragEvent('drop', {{dataTransfer: dt, bubbles: true}})); }}""")
    first = wait_result(page)
    assert (first["w"], first["h"]) == (160, 160)
    page.evaluate(f"""() => {{ const dt = ({make})();
        document.body.dispatchEvent(new ClipboardEvent('paste', {{clipboardData: dt, bubbles: true}})); }}""")
    second = wait_result(page, first["seq"])
    assert second["w"] == 160
    with page.expect_download() as dl:
        page.get_by_role("button", name="PNG").click()
    assert dl.value.suggested_filename == "dropped-photo.png"


@needs_sketch
def test_register_a_style_from_a_shared_reference_and_see_it_reach_ready(page):
    page.get_by_text("Register a new style from one picture").click()
    page.get_by_label("Reference picture").set_input_files(SKETCH)
    expect(page.get_by_label("Name")).to_have_value("jojogan_sketch")  # the file's name, until typed over
    page.get_by_label("Name").fill("sketch")
    page.get_by_role("button", name="Register", exact=True).click()
    card = page.locator("#gallery li", has_text="sketch")
    expect(card).to_be_visible(timeout=TIMEOUT)
    expect(card.locator("input[type=radio]")).to_be_checked()  # the new style is picked
    expect(card).to_have_attribute("data-status", "ready", timeout=120_000)
    expect(card.locator(".style-status")).to_have_text("ready")
    expect(card.locator("progress")).to_be_hidden()
    expect(page.locator("#style-msg")).to_have_text("sketch: ready.")
    thumb = card.locator("img.thumb")
    page.wait_for_function("(img) => img.naturalWidth > 0", arg=thumb.element_handle(), timeout=TIMEOUT)
    assert thumb.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [256, 256]  # ?size=256 of the exemplar


def test_the_strength_slider_changes_the_result_and_zero_is_the_photo(page, server, files):
    sid = register(server, files / "tint.png", "tint")
    page.reload()
    page.locator(f"label[for='style-{sid}']").click()  # the card
    page.get_by_label("Keep faces").uncheck()  # one synthesis per face: a weakened face would be made again
    page.get_by_label("Choose a file").set_input_files(files / "half.png")
    full = wait_result(page)
    expect(page.locator("#result-msg")).to_contain_text("tint: 1 face")
    at_full = pixels(page)
    strength = page.locator("#panel-photo").get_by_label("Strength")
    strength.fill("0.4")
    expect(page.locator("#strength-out")).to_have_text("0.40")
    half = wait_result(page, full["seq"])
    at_half = pixels(page)
    assert (half["w"], half["h"]) == (256, 256)
    diff = np.abs(at_full - at_half)
    assert diff.mean() > 0.5 and diff.max() > 40, (diff.mean(), diff.max())
    strength.fill("0")
    wait_result(page, half["seq"])
    assert np.array_equal(pixels(page), pixels(page, "#before"))  # strength 0: the photo itself


def test_a_text_file_and_a_photo_without_a_face_get_their_errors_in_words(page, files):
    page.get_by_label("Choose a file").set_input_files(files / "notes.txt")
    error = page.locator("#photo-error")
    expect(error).to_contain_text("That file is not a picture", timeout=TIMEOUT)
    expect(error).to_have_attribute("data-code", "not_an_image")
    expect(page.locator("#compare")).to_be_hidden()
    expect(page.get_by_alt_text("Your photo", exact=True)).to_be_hidden()

    page.get_by_text("Register a new style from one picture").click()
    page.get_by_label("Reference picture").set_input_files(files / "notes.txt")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("#style-error")).to_contain_text("That file is not a picture", timeout=TIMEOUT)

    import skimage.data

    (files / "cat.png").write_bytes(_png(skimage.data.chelsea()))
    page.get_by_label("Choose a file").set_input_files(files / "cat.png")
    expect(error).to_contain_text("No face was found in the photo.", timeout=TIMEOUT)
    page.get_by_label("Reference picture").set_input_files(files / "cat.png")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("#style-error")).to_contain_text("No face was found in the reference picture", timeout=TIMEOUT)


def test_delete_a_style(page, server, files):
    sid = register(server, files / "tint.png", "to delete")
    page.reload()
    card = page.locator(f"#gallery li[data-id='{sid}']")
    expect(card).to_be_visible()
    page.get_by_role("button", name="Delete the style to delete").click()
    expect(card).to_have_count(0)
    expect(page.locator("#result-msg")).to_have_text("Deleted the style to delete.")
    assert httpx.get(f"{server}/styles/{sid}").json()["error"] == "style_not_found"
    expect(page.get_by_role("button", name=re.compile("Delete the style photo"))).to_have_count(0)


def test_webcam_photo_and_live_stream_with_fps_and_drops(page):
    page.get_by_role("button", name="Use the webcam").click()
    expect(page.get_by_label("Webcam preview")).to_be_visible()
    page.get_by_role("button", name="Take the photo").click()
    page.wait_for_function("document.querySelector('#input-preview').naturalWidth > 0")
    assert page.locator("#input-preview").evaluate("i => [i.naturalWidth, i.naturalHeight]") == [640, 480]
    # the fake camera shows a test pattern, not a face
    expect(page.locator("#photo-error")).to_contain_text("No face was found", timeout=TIMEOUT)

    page.get_by_role("tab", name="Live").click()
    expect(page.locator("#panel-photo")).to_be_hidden()
    page.get_by_label("Frames sent per second").select_option("30")
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("Number(document.querySelector('#live-back').textContent) >= 5", timeout=TIMEOUT)
    page.wait_for_function("document.querySelector('#live-fps-out').textContent !== '-'")
    fps, sent, back = page.evaluate("['#live-fps-out', '#live-sent', '#live-back'].map("
                                    "s => Number(document.querySelector(s).textContent))")  # one moment
    assert fps > 0 and sent >= back >= 5, (fps, sent, back)
    assert page.get_by_alt_text("Stylized webcam").evaluate("i => i.naturalWidth") == 640
    page.wait_for_timeout(1200)  # one `stats` answer from the server
    assert int(page.locator("#live-dropped").text_content()) >= 0
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#live-msg")).to_have_text("Stopped.")
    expect(page.get_by_role("button", name="Start")).to_be_enabled()


def test_video_upload_progress_play_and_download(page, files, two_faces):
    import av

    path = files / "clip.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("h264", rate=10)
        s.width, s.height, s.pix_fmt = 320, 160, "yuv420p"
        still = np.asarray(Image.fromarray(two_faces).resize((320, 160)))
        for i in range(12):
            frame = np.roll(still, i, axis=1)  # a slow pan
            for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    page.get_by_role("tab", name="Video").click()
    page.get_by_label("Video file").set_input_files(path)
    page.get_by_role("button", name="Stylize the video").click()
    video = page.get_by_label("Stylized video")
    expect(video).to_be_visible(timeout=120_000)
    assert page.locator("#video-progress").evaluate("p => p.value") == 1
    expect(page.locator("#video-msg")).to_contain_text("Done: 12 frames")
    page.wait_for_function("document.querySelector('#video-out').readyState >= 1", timeout=TIMEOUT)
    assert video.evaluate("v => [v.videoWidth, v.videoHeight]") == [320, 160]
    with page.expect_download() as dl:
        page.get_by_role("link", name="Download the MP4").click()
    assert dl.value.suggested_filename == "clip-stylized.mp4"
    with av.open(str(dl.value.path())) as f:
        assert f.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in f.decode(video=0)) == 12


def test_phone_width_keeps_everything_in_the_viewport(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    p = context.new_page()
    p.goto(server)
    expect(p.locator("#gallery li[data-id=photo]")).to_be_visible()
    overflow = p.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at phone width"
    boxes = p.evaluate("""() => ['.area-input', '.area-styles', '.area-result', '.area-controls'].map(
        s => { const r = document.querySelector(s).getBoundingClientRect(); return [r.left, r.right, r.top]; })""")
    assert all(left >= 0 and right <= 390 for left, right, _ in boxes)
    assert [top for *_, top in boxes] == sorted(top for *_, top in boxes)  # one column: photo, style, result, settings
    context.close()


def test_with_api_keys_the_page_asks_for_one_and_keeps_it(browser, files):
    with local_server({"FACESTYLE_API_KEYS": "alice:key-a", "FACESTYLE_KEY_PREFIX": "pagekeys"}) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        p = context.new_page()
        p.goto(url)  # the page itself is open; what it asks the API for is not
        expect(p.locator("#photo-error")).to_have_attribute("data-code", "unauthorized")
        expect(p.locator("#photo-error")).to_contain_text("This service needs an API key")
        expect(p.get_by_label("Sent with every request")).to_be_visible()  # the key box opens itself
        p.get_by_label("Sent with every request").fill("key-a")
        p.get_by_label("Sent with every request").press("Enter")
        expect(p.locator("#gallery li[data-id=photo]")).to_be_visible()
        expect(p.locator("#photo-error")).to_be_empty()
        p.get_by_label("Choose a file").set_input_files(files / "small.png")
        assert wait_result(p)["w"] == 160
        p.reload()  # kept in the browser
        expect(p.get_by_label("Sent with every request")).to_have_value("key-a")
        expect(p.locator("#gallery li[data-id=photo]")).to_be_visible()
        p.get_by_role("tab", name="Live").click()  # the WebSocket carries it as ?api_key=
        p.get_by_role("button", name="Start").click()
        p.wait_for_function("Number(document.querySelector('#live-back').textContent) >= 2", timeout=TIMEOUT)
        p.get_by_role("button", name="Stop").click()
        context.close()
