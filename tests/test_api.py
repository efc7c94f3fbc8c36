"""The HTTP contract in embedded mode (fakeredis + in-process worker): every bad input gets a 4xx with a code."""

import base64
import io
import json
import struct
import time
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from facestyle.config import Settings
from service.main import create_app


def png(rgb, mode=None) -> bytes:
    buf = io.BytesIO()
    im = Image.fromarray(rgb)
    (im.convert(mode) if mode else im).save(buf, format="PNG")
    return buf.getvalue()


def jpeg(rgb) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def bomb_png(w=50_000, h=50_000) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def client():
    settings = Settings(redis_url=None, device="cpu", model="lite", adapt_steps=6, max_upload_bytes=3_000_000,
                        max_pixels=5_000_000, max_upscale_pixels=200_000, key_prefix="apitest")
    with TestClient(create_app(settings)) as c:
        yield c


def err(resp, status, code):
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == code, resp.json()
    assert resp.json()["message"]


@pytest.fixture(scope="module")
def style_id(client, style_reference):
    r = client.post("/styles", files={"image": ("tint.png", png(style_reference), "image/png")}, data={"name": "tint"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == {"id", "name", "status", "job"} and body["name"] == "tint"
    return body["id"]


def test_metrics_count_requests_and_faces(client, two_faces):
    before = client.get("/metrics").text
    client.post("/stylize", files={"image": ("two.png", png(two_faces), "image/png")}, data={"style": "photo"})
    text = client.get("/metrics").text
    faces = lambda t: float(next((l.split()[-1] for l in t.splitlines() if l.startswith("facestyle_faces_total ")), 0))  # noqa: E731
    assert faces(text) - faces(before) == 2
    assert 'facestyle_request_seconds_count{method="POST",route="/stylize",status="200"}' in text
    assert "facestyle_model_faces_run" in text


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["weights"] and r.json()["redis"] and r.json()["workers"] >= 1


def test_a_registered_style_is_listed_adapts_to_ready_and_can_be_deleted(client, style_id):
    deadline = time.time() + 120
    while time.time() < deadline:
        s = client.get(f"/styles/{style_id}").json()
        if s["status"] in ("ready", "failed"):
            break
        time.sleep(0.5)
    assert s["status"] == "ready" and s["progress"] == 1.0 and s["error"] is None
    ids = [x["id"] for x in client.get("/styles").json()]
    assert ids[0] == "photo" and style_id in ids


def test_style_score_and_preserve_color(client, style_id, style_reference, astronaut):
    r = client.post(f"/styles/{style_id}/score", files={"image": ("r.png", png(style_reference), "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["style"] == style_id and body["faces"] == 1 and 0.0 <= body["score"] <= 1.0
    err(client.post("/styles/photo/score", files={"image": ("r.png", png(astronaut), "image/png")}), 409, "no_critic")
    small = np.asarray(Image.fromarray(astronaut).resize((256, 256)))
    f = {"image": ("a.png", png(small), "image/png")}
    plain = np.asarray(Image.open(io.BytesIO(client.post("/stylize", files=f, data={"style": style_id}).content))).astype(float)
    kept = np.asarray(Image.open(io.BytesIO(client.post("/stylize", files=f, data={"style": style_id, "preserve_color": "true"}).content))).astype(float)
    # the style turns the skin blue (channels rotated); preserve_color keeps the face's own red-dominant skin
    face = (slice(40, 80), slice(95, 130))  # the face in the 256 px picture (MTCNN box ~ [90, 31, 134, 86])
    assert kept[face][..., 0].mean() > kept[face][..., 2].mean()
    assert np.abs(kept - plain)[face].mean() > 3


def test_stylize_returns_the_picture_with_every_face(client, two_faces, style_id):
    r = client.post("/stylize", files={"image": ("two.png", png(two_faces), "image/png")}, data={"style": style_id})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png" and r.headers["x-faces"] == "2"
    out = np.asarray(Image.open(io.BytesIO(r.content)))
    assert out.shape == two_faces.shape
    # the background is kept exactly, the faces changed
    assert np.array_equal(out[-20:], two_faces[-20:])
    assert np.abs(out.astype(int) - two_faces).mean() > 1


def test_strength_zero_is_the_photo_and_scale_4_super_resolves(client, astronaut, style_id):
    small = np.asarray(Image.fromarray(astronaut).resize((256, 256)))
    f = {"image": ("a.png", png(small), "image/png")}
    photo = small.astype(int)
    zero = np.asarray(Image.open(io.BytesIO(client.post("/stylize", files=f, data={"style": style_id, "strength": 0}).content))).astype(int)
    full = np.asarray(Image.open(io.BytesIO(client.post("/stylize", files=f, data={"style": style_id}).content))).astype(int)
    assert np.array_equal(zero, photo) and np.abs(full - photo).mean() > 1  # strength blends toward the photo
    for style in ("photo", style_id):
        r = client.post("/stylize", files=f, data={"style": style, "scale": 4, "format": "jpeg"})
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(r.content)).size == (1024, 1024)


def test_json_answer_lists_faces_and_carries_the_image(client, two_faces):
    r = client.post("/stylize", files={"image": ("two.png", png(two_faces), "image/png")}, data={"style": "photo"},
                    headers={"Accept": "application/json"})
    body = r.json()
    assert len(body["faces"]) == 2 and all(len(f["landmarks"]) == 5 and f["score"] > 0.9 for f in body["faces"])
    assert Image.open(io.BytesIO(base64.b64decode(body["image"]))).size == (two_faces.shape[1], two_faces.shape[0])


def test_no_face_is_422_unless_passthrough(client):
    sky = np.zeros((120, 160, 3), np.uint8)
    sky[..., 2] = 200
    f = {"image": ("sky.png", png(sky), "image/png")}
    err(client.post("/stylize", files=f, data={"style": "photo"}), 422, "no_face")
    r = client.post("/stylize", files=f, data={"style": "photo", "on_no_face": "passthrough"})
    assert r.status_code == 200 and r.headers["x-faces"] == "0"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(r.content))), sky)
    n = len(client.get("/styles").json())
    r = client.post("/styles", files=f)
    err(r, 422, "no_landmarks")  # a reference no detector reads: the message says what to send
    assert "landmarks" in r.json()["message"] and "68" in r.json()["message"]
    assert len(client.get("/styles").json()) == n  # nothing half-written


def test_landmarks_field_registers_a_reference_no_detector_reads(client, astronaut, two_faces):
    """A flat painting with no face MTCNN finds, and the astronaut's 68 points given for it: registered, its
    exemplar keeps those points (as the crop sees them), and its faces are built from its pixels."""
    from facestyle.faces.detect import FaceDetector
    from facestyle.faces.landmarks import dense_landmarks

    pts = dense_landmarks(astronaut, FaceDetector().detect(astronaut)[0].box)
    flat = np.zeros_like(astronaut)
    flat[...] = (40, 120, 200)
    f = {"image": ("flat.png", png(flat), "image/png")}
    err(client.post("/styles", files=f, data={"landmarks": "[[1, 2]]"}), 422, "invalid_field")
    err(client.post("/styles", files=f, data={"landmarks": "not json"}), 422, "invalid_field")
    r = client.post("/styles", files=f, data={"landmarks": json.dumps(pts.tolist()), "name": "flat"})
    assert r.status_code == 202, r.text
    ex = client.app.state.store.exemplar(r.json()["id"])
    from facestyle.exemplar import Exemplar

    expected = Exemplar.of(astronaut, pts)  # the same alignment of the same points, on the astronaut's pixels
    assert np.abs(ex.landmarks - expected.landmarks).max() < 0.01 and ex.crop.shape == expected.crop.shape
    out = np.asarray(Image.open(io.BytesIO(client.post("/stylize", files={"image": ("t.png", png(two_faces), "image/png")},
                                                        data={"style": r.json()["id"], "keep_faces": "false"}).content)))
    face = out[95:160, 115:175].reshape(-1, 3).astype(int)  # the first face's inner part, now made of the flat blue
    assert np.abs(face - (40, 120, 200)).sum(1).mean() < np.abs(two_faces[95:160, 115:175].reshape(-1, 3) - (40, 120, 200)).sum(1).mean() / 2


@pytest.mark.parametrize("shape", [(1, 1), (5, 3000), (19, 19)])
def test_pictures_too_small_for_a_face_are_no_face_not_an_error(client, shape):
    f = {"image": ("t.png", png(np.full((*shape, 3), 90, np.uint8)), "image/png")}
    err(client.post("/stylize", files=f, data={"style": "photo"}), 422, "no_face")
    err(client.post("/styles", files=f), 422, "no_landmarks")
    r = client.post("/upscale", files=f)
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (shape[1] * 4, shape[0] * 4)


def test_upscale_is_4x_and_refuses_pictures_over_the_limit(client, astronaut):
    small = np.asarray(Image.fromarray(astronaut).resize((100, 80)))
    r = client.post("/upscale", files={"image": ("a.png", png(small), "image/png")})
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (400, 320)
    err(client.post("/upscale", files={"image": ("a.png", png(astronaut), "image/png")}), 413, "too_many_pixels")


@pytest.mark.parametrize("data,status,code", [
    (b"", 400, "empty_file"),
    (b"this is not an image at all", 422, "not_an_image"),
    (None, 422, "corrupt_image"),  # truncated JPEG, filled in below
    (bomb_png(), 413, "too_many_pixels"),
    (b"\xff" * 3_000_001, 413, "too_large"),
])
def test_bad_images_get_a_clear_4xx(client, astronaut, data, status, code):
    if data is None:
        full = jpeg(astronaut[::2, ::2].copy())  # small enough for every endpoint: corruption, not size, is the fault
        data = full[: len(full) // 2]
    n = len(client.get("/styles").json())
    for path, form in (("/stylize", {"style": "photo"}), ("/styles", {}), ("/upscale", {})):
        err(client.post(path, files={"image": ("x.jpg", data, "image/jpeg")}, data=form), status, code)
    assert len(client.get("/styles").json()) == n


@pytest.mark.parametrize("form,status,code", [
    ({"style": "photo", "strength": "1.5"}, 422, "invalid_field"),
    ({"style": "photo", "strength": "-0.1"}, 422, "invalid_field"),
    ({"style": "photo", "strength": "lots"}, 422, "invalid_field"),
    ({"style": "photo", "scale": "2"}, 422, "invalid_field"),
    ({"style": "photo", "format": "bmp"}, 422, "invalid_field"),
    ({}, 422, "missing_field"),
    ({"style": "no-such-style"}, 404, "style_not_found"),
])
def test_bad_fields(client, astronaut, form, status, code):
    r = client.post("/stylize", files={"image": ("a.png", png(astronaut), "image/png")}, data=form)
    err(r, status, code)


def test_missing_image_unknown_style_and_photo_delete(client):
    err(client.post("/stylize", data={"style": "photo"}), 422, "missing_field")
    err(client.get("/styles/nope"), 404, "style_not_found")
    err(client.delete("/styles/nope"), 404, "style_not_found")
    err(client.delete("/styles/photo"), 409, "builtin_style")
    err(client.get("/no/such/route"), 404, "not_found")


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16"])
def test_odd_modes_are_stylized_and_answered_in_their_mode(client, astronaut, mode):
    small = np.asarray(Image.fromarray(astronaut).resize((256, 256)))
    im = Image.fromarray(small)
    if mode == "I;16":
        im = Image.fromarray((np.asarray(im.convert("L")).astype(np.uint16) * 257))
    elif mode == "RGBA":
        im = im.convert("RGBA")
        im.putalpha(Image.fromarray(np.full((256, 256), 200, np.uint8)))
    else:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format="JPEG" if mode == "CMYK" else "PNG")
    fmt = "jpeg" if mode == "CMYK" else "png"
    r = client.post("/stylize", files={"image": ("a", buf.getvalue(), "application/octet-stream")},
                    data={"style": "photo", "format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["x-faces"] == "1"
    out = Image.open(io.BytesIO(r.content))
    expected = {"L": "L", "RGBA": "RGBA", "P": "RGB", "CMYK": "CMYK", "I;16": "I;16"}[mode]
    assert out.mode.startswith(expected[:3]) if mode == "I;16" else out.mode == expected
    if mode == "RGBA":
        assert np.asarray(out)[..., 3].min() == 200


def test_exif_rotated_photo_is_turned_upright_first(client, astronaut):
    small = Image.fromarray(astronaut).resize((256, 256)).rotate(90, expand=True)  # stored on its side
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    buf = io.BytesIO()
    small.save(buf, format="JPEG", exif=exif.tobytes())
    r = client.post("/stylize", files={"image": ("a.jpg", buf.getvalue(), "image/jpeg")}, data={"style": "photo"})
    assert r.status_code == 200 and r.headers["x-faces"] == "1"  # upright: MTCNN finds the face


def test_animated_gif_uses_the_first_frame(client, astronaut):
    small = Image.fromarray(astronaut).resize((200, 200))
    frames = [small, Image.new("RGB", (200, 200), "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    r = client.post("/stylize", files={"image": ("a.gif", buf.getvalue(), "image/gif")}, data={"style": "photo"})
    assert r.status_code == 200 and r.headers["x-faces"] == "1"


def test_deleting_a_style_removes_it_everywhere(client, astronaut):
    r = client.post("/styles", files={"image": ("x.png", png(astronaut[:, ::-1].copy()), "image/png")})
    sid = r.json()["id"]
    assert client.delete(f"/styles/{sid}").status_code == 204
    err(client.get(f"/styles/{sid}"), 404, "style_not_found")
    assert sid not in [s["id"] for s in client.get("/styles").json()]
    time.sleep(1.0)  # the job, if it ran, must not bring it back
    err(client.get(f"/styles/{sid}"), 404, "style_not_found")


def test_faces_report_the_strength_they_were_made_at_and_keep_faces_can_be_turned_off(client, two_faces, style_id):
    f = {"image": ("two.png", png(two_faces), "image/png")}
    answers = {keep: client.post("/stylize", files=f, data={"style": style_id, "strength": 0.9, "keep_faces": keep},
                                 headers={"Accept": "application/json"}) for keep in ("true", "false")}
    for keep, r in answers.items():
        assert r.status_code == 200, r.text
        strengths = [face["strength"] for face in r.json()["faces"]]
        assert len(strengths) == 2 and all(0 <= s <= 0.9 for s in strengths)
        assert r.headers["x-faces-weakened"] == str(sum(s < 0.9 for s in strengths))
    assert [face["strength"] for face in answers["false"].json()["faces"]] == [0.9, 0.9]
    weakened = int(answers["true"].headers["x-faces-weakened"])
    images = [answers[k].json()["image"] for k in ("true", "false")]
    assert (images[0] == images[1]) == (weakened == 0)  # a weakened face is a different picture


def test_style_reference_is_the_stored_exemplar_and_a_thumbnail(client, style_id):
    r = client.get(f"/styles/{style_id}/reference")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    full = Image.open(io.BytesIO(r.content))
    assert full.size[0] == full.size[1] >= 256  # the exemplar: the reference face aligned at its own resolution
    thumb = Image.open(io.BytesIO(client.get(f"/styles/{style_id}/reference", params={"size": 64}).content))
    assert max(thumb.size) == 64
    err(client.get("/styles/nope/reference"), 404, "style_not_found")
    err(client.get("/styles/photo/reference"), 404, "no_reference")
    err(client.get(f"/styles/{style_id}/reference", params={"size": 0}), 422, "invalid_field")
