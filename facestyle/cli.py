"""`facestyle` command line: serve, worker, stylize, upscale, adapt, train-sr, train-styles, eval-sr, eval-style.

Imports stay inside the commands so that training runs on machines without the web stack, and so that
`facestyle --help` and argument errors answer before torch loads (about 2 s on 2 cores).

Run as the process (the console script, `python -m facestyle.cli`), the one-shot commands load with Python's
cyclic garbage collector off and then freeze what they loaded (`gc.freeze`): importing torch, torchvision (which
imports torch._dynamo) and scipy makes millions of long-lived objects, and each full collection walked them
all, during the imports and again, several times, while the interpreter shut down. See `_loaded`.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

# commands that load the models, run once and exit: their start-up runs with the collector off (main, _loaded)
ONE_SHOT = frozenset({"stylize", "upscale", "adapt", "video", "eval-style", "eval-video"})
_startup = {"collector_off": False}


def _train_sr(a: argparse.Namespace) -> int:
    from facestyle.train.sr import TrainConfig, Trainer

    cfg = TrainConfig(model=a.model, stage=a.stage, steps=a.steps, batch=a.batch, crop=a.crop, lr=a.lr, loss=a.loss,
                      init=a.init, out=a.out, eval_every=a.eval_every, save_every=a.save_every, seed=a.seed,
                      time_limit=a.time_limit, faces=not a.no_faces, **({"data": a.data} if a.data else {}),
                      **({"device": a.device} if a.device else {}))
    Trainer(cfg).run()
    print(f"weights written to {cfg.out}")
    return 0


def _train_styles(a: argparse.Namespace) -> int:
    import torch

    from facestyle.data import data_root, face_split
    from facestyle.faces import FaceDetector
    from facestyle.style.prior import aligned_crops
    from facestyle.train.sr import TrainConfig, build_sampler
    from facestyle.train.styles import StyleTrainConfig, StyleTrainer
    from facestyle.weights import load_generator, style_heads

    root = Path(a.data) if a.data else data_root()
    init = a.init or f"srresnet_{a.model}"
    crops = aligned_crops(face_split(root / "faces/single")[0], FaceDetector())
    print(f"{len(crops)} training faces", flush=True)
    sampler = build_sampler(TrainConfig(model=a.model, data=str(root), faces=False, device="cpu", seed=a.seed))  # T91 + BSD200
    trainer = StyleTrainer(load_generator(init), crops, sampler,
                           StyleTrainConfig(seconds=a.minutes * 60, steps=a.steps, seed=a.seed),
                           style_heads=style_heads(init))
    trainer.run()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    torch.save(trainer.checkpoint(init=init, faces=len(crops), device="cpu"), a.out)
    print(f"{trainer.step} steps in {trainer.seconds:.0f} s; weights written to {a.out}")
    return 0


def _eval_sr(a: argparse.Namespace) -> int:
    from facestyle.data import data_root
    from facestyle.eval.sr import (
        bicubic_upscaler,
        evaluate,
        markdown_table,
        model_upscaler,
    )
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


def open_to_network(host: str, settings) -> bool:
    """Whether serving on `host` without API keys lets the network in (anything but a loopback address)."""
    import ipaddress

    if settings.api_key_table():
        return False
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return True


def _serve(a: argparse.Namespace) -> int:
    import uvicorn

    try:
        exposed = open_to_network(a.host, _settings())
    except (OSError, ValueError) as exc:  # a malformed key list or an unreadable keys file: refuse to start
        raise SystemExit(f"facestyle serve: {exc}") from exc
    if exposed:
        print(f"warning: serving on {a.host} without API keys: anyone who can reach it may use, list and delete "
              "every style (set FACESTYLE_API_KEYS or FACESTYLE_API_KEYS_FILE)", file=sys.stderr)
    uvicorn.run("service.main:create_app", factory=True, host=a.host, port=a.port, workers=a.workers)
    return 0


def _worker(a: argparse.Namespace) -> int:
    from worker.main import run

    run(burst=a.burst, name=a.name)
    return 0


def _settings():
    from facestyle.config import get_settings

    return get_settings()


def _runtime(model: str | None):
    from facestyle.runtime import runtime_for

    rt = runtime_for(_settings(), model)
    _loaded()
    return rt


def _loaded() -> None:
    """Start-up is over: what was loaded moves to the collector's permanent generation (never walked again) and
    the collector runs again for what the command makes from here on."""
    if _startup["collector_off"]:
        _startup["collector_off"] = False
        gc.freeze()
        gc.enable()


def _read(path: str):
    from facestyle.imageio import decode_image

    return decode_image(Path(path).read_bytes(), max_bytes=2**31, max_pixels=400_000_000)


def _write(path: str, decoded, rgb) -> None:
    from facestyle.imageio import encode_image

    fmt = {".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}.get(Path(path).suffix.lower(), "png")
    Path(path).write_bytes(encode_image(decoded, rgb, fmt)[0])


def load_style_file(path: str) -> dict:
    import torch

    style = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(style, dict) or "head" not in style or "model" not in style:
        raise SystemExit(f"{path} is not a facestyle style file")
    return style


def style_file_exemplar(style: dict, path: str):
    """The style file's exemplar (reference face and its 68 landmarks); files written before exemplars are refused."""
    from facestyle.exemplar import Exemplar

    if style.get("exemplar") is None or style.get("landmarks") is None:
        raise SystemExit(f"{path} was written by an older facestyle, before faces were built from the reference: "
                         "make it again with `facestyle adapt REFERENCE -o STYLEFILE`")
    return Exemplar(style["exemplar"].numpy(), style["landmarks"].numpy().astype("float64"))


def style_file_colour(style: dict | None):
    """The style file's colour target (files written before targets existed have none)."""
    from facestyle.style.colour import ColourTarget

    if style is None or style.get("colour") is None:
        return None
    return ColourTarget.from_array(style["colour"].numpy())


def _style_head(a: argparse.Namespace):
    """The runtime for the style's model, and the head and colour target at the asked strength (a style file
    or 'photo')."""
    from facestyle.pipeline import style_at

    style = None if a.style == "photo" else load_style_file(a.style)
    rt = _runtime(style["model"] if style else a.model)
    head, colour = style_at(rt.stylizer.photo_head, style["head"] if style else None, style_file_colour(style), a.strength)
    return rt, head, colour


def _stylize(a: argparse.Namespace) -> int:
    from facestyle.exemplar import guards

    img = _read(a.input)
    if a.style == "photo":  # the generator's photo head: restoration, and 4x with --scale 4
        rt, head, colour = _style_head(a)
        out, faces, kept = rt.stylizer.stylize_keeping_faces(img.rgb, head, a.scale, preserve_color=a.preserve_color,
                                                             colour=colour, ladder=())
    else:
        style = load_style_file(a.style)
        exemplar = style_file_exemplar(style, a.style)
        rt = _runtime(style["model"])
        out, faces, kept = rt.exemplar.stylize(img.rgb, exemplar, a.strength, preserve_color=a.preserve_color,
                                               **guards(not a.no_keep_faces))
        out = rt.stylizer.upscale(out) if a.scale == 4 else out
    _write(a.output, img, out)
    weakened = sum(k < 1 for k in kept)
    print(f"{len(faces)} face(s) -> {a.output}" + (f" ({weakened} made with less of the style to stay a face)" if weakened else ""))
    return 0 if faces else 1


def _upscale(a: argparse.Namespace) -> int:
    rt = _runtime(a.model)
    img = _read(a.input)
    _write(a.output, img, rt.stylizer.upscale(img.rgb))
    print(f"{img.rgb.shape[1]}x{img.rgb.shape[0]} -> {a.output} (4x, {a.model or rt.model})")
    return 0


def _steps(a: argparse.Namespace) -> int:
    """--steps, else the adaptation's default (AdaptConfig.steps: importing it loads torch, so not at parse time)."""
    if a.steps is not None:
        return a.steps
    from facestyle.style.adapt import AdaptConfig

    return AdaptConfig.steps


def _max_seconds(a: argparse.Namespace) -> float | None:
    """--max-seconds, else the settings' cap (FACESTYLE_ADAPT_SECONDS); 0 means none."""
    cap = a.max_seconds if a.max_seconds is not None else _settings().adapt_seconds
    return cap or None


def _adapt(a: argparse.Namespace) -> int:
    import time

    import torch
    from tqdm import tqdm

    from facestyle.exemplar import NoLandmarks
    from facestyle.faces.landmarks import parse_landmarks
    from facestyle.style.colour import ColourTarget

    rt = _runtime(a.model)
    rgb = _read(a.reference).rgb
    points = None
    if a.landmarks:
        try:
            points = parse_landmarks(json.loads(Path(a.landmarks).read_text()), rgb.shape[1], rgb.shape[0])
        except (ValueError, OSError) as exc:
            raise SystemExit(f"{a.landmarks}: {exc}") from exc
    t0 = time.perf_counter()
    try:
        exemplar = rt.exemplar.exemplar(rgb, points)
    except NoLandmarks as exc:
        raise SystemExit(f"{exc} (facestyle adapt --landmarks FILE.json)") from exc
    crop = rt.head_crop(exemplar)
    info = {"exemplar_seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    head = rt.instant_head(crop)
    steps = _steps(a)
    info |= {"instant_seconds": time.perf_counter() - t0, "steps": steps}
    if steps > 0:
        bar = tqdm(total=steps, desc="adapting")
        head, history = rt.adapt(crop, head, steps, max_seconds=_max_seconds(a),
                                 progress=lambda s, n, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.4f}")))
        bar.close()
        info.update(steps=len(history), loss_first=history[0]["loss"], loss_last=history[-1]["loss"], adapt_seconds=history[-1]["seconds"])
    colour = torch.from_numpy(ColourTarget.of(crop).to_array())
    torch.save({"model": rt.model, "head": head, "colour": colour, "name": Path(a.reference).stem, "info": info,
                "exemplar": torch.from_numpy(exemplar.crop.copy()), "landmarks": torch.from_numpy(exemplar.landmarks)},
               a.output)
    print(json.dumps(info))
    return 0


def _eval_style(a: argparse.Namespace) -> int:
    from facestyle.data import data_root, face_split, list_images, load_rgb
    from facestyle.eval.style import (
        contact_sheet,
        dlib_embedder,
        evaluate_styles,
        markdown,
        summary,
    )
    from facestyle.imresize import fit_within

    root = data_root()
    face_paths = list_images(Path(a.faces)) if a.faces else face_split(root / "faces/single")[1]
    style_paths = list_images(Path(a.styles) if a.styles else root / "styles")
    faces = [(p.name, fit_within(load_rgb(p), 512 if a.variant == "generator" else 768)) for p in face_paths[: a.limit_faces]]
    styles = [(p.name, load_rgb(p)) for p in style_paths[: a.limit_styles]]
    rt, embedder = _runtime(a.model), None if a.no_identity else dlib_embedder()
    if a.variant == "served":
        from facestyle.eval import served

        rows, made = served.evaluate_served(rt, faces, styles, embedder)
        result = served.summary(rows)
        table = served.markdown(result)
        sheet = (lambda: served.contact_sheet(made)) if made["styles"] else None
    else:
        reports = evaluate_styles(rt, faces, styles, _steps(a), max_seconds=_max_seconds(a), embedder=embedder)
        result = summary(reports)
        table = markdown(result)
        sheet = (lambda: contact_sheet(reports)) if reports else None
    print(table)
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    if a.sheet and sheet is not None:
        from PIL import Image

        Path(a.sheet).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sheet()).save(a.sheet)
    return 0


def _video(a: argparse.Namespace) -> int:
    from tqdm import tqdm

    from facestyle.video import VideoError, probe, stylize_video

    try:  # before the models load: a file that is not a video is refused at once
        info = probe(Path(a.input))
    except VideoError as exc:
        raise SystemExit(f"{a.input}: {exc.message}") from exc
    rt, head, colour = _style_head(a)
    bar = tqdm(total=info.frames, unit="frame")
    stats = stylize_video(Path(a.input), Path(a.output), rt.stylizer, head, detect_every=a.detect_every,
                          generate_every=a.generate_every or _settings().generate_every, colour=colour,
                          blend=_blend(a), progress=lambda done, total: bar.update(done - bar.n))
    bar.close()
    print(f"{stats.frames} frames, {stats.fps:.1f} fps, {stats.detector_calls} detector calls -> {a.output}")
    return 0


def _blend(a: argparse.Namespace) -> float:
    return a.blend if a.blend is not None else _settings().temporal_blend


def _eval_video(a: argparse.Namespace) -> int:
    from PIL import Image

    from facestyle.data import data_root, load_rgb
    from facestyle.eval.video import camera_clip, compare, frame_strip

    rt = _runtime(a.model)
    style = load_style_file(a.style) if a.style else None
    head = style["head"] if style else rt.stylizer.photo_head
    colour = style_file_colour(style)
    import skimage.data

    stills = [("astronaut", skimage.data.astronaut(), False)]
    group = data_root() / "faces/group/deepface_couple.jpg"
    if not a.quick:
        stills.append(("astronaut talking", skimage.data.astronaut(), True))
        if group.exists():
            stills.append(("couple", load_rgb(group), False))
    rows = ["| clip | config | fps | detector calls/frame | faces generated | flicker (out/in) | "
            "around the face: flicker, change (grey levels) |", "|---|---|---|---|---|---|---|"]
    results = {}
    for name, still, talk in stills:
        clip = camera_clip(still, rt.stylizer.detect, n=a.frames, talk=talk)
        r = compare(rt.stylizer, head, clip, detect_every=a.detect_every, blend=_blend(a),
                    generate_every=a.generate_every or _settings().generate_every,
                    colour=colour, matte=False if a.no_matte else None)
        for cfg in ("tracked", "baseline"):
            m = r[cfg]
            rows.append(f"| {name} | {cfg} | {m['fps']:.1f} | {m['detector_calls_per_frame']:.2f} | "
                        f"{m['generated_share']:.0%} | {m['flicker']:.3f} | "
                        f"{m['backdrop_flicker']:.3f}, {m['backdrop_change']:.1f} |")
        rows.append(f"| {name} | tracked vs baseline | {r['fps_ratio']:.2f}x | | | "
                    f"{r['flicker_reduction']:+.0%} less | |")
        results[name] = {k: ({kk: vv for kk, vv in v.items() if kk != "outputs"} if isinstance(v, dict) else v)
                         for k, v in r.items()}
        if a.strip:
            Image.fromarray(frame_strip(clip, r)).save(Path(a.strip).with_suffix(f".{name.replace(' ', '_')}.png"))
    print("\n".join(rows))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))
    return 0


def _styled(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("input")
    p.add_argument("-s", "--style", required=True, help="a style file (facestyle adapt) or 'photo'")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--strength", type=float, default=1.0)
    return p


_BLEND_HELP = ("tracked: the weight of a new generation, blended with the face's last output moved by optical flow "
               "(1 = off; default FACESTYLE_TEMPORAL_BLEND, 0.5)")


STEPS_DEFAULT_HELP = "default 200, AdaptConfig.steps"  # a test holds it to AdaptConfig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="facestyle", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    sv = sub.add_parser("serve", help="run the HTTP API (embedded queue and worker when REDIS_URL is unset)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1, help="API processes (needs REDIS_URL for more than one)")
    sv.set_defaults(func=_serve)

    w = sub.add_parser("worker", help="run an RQ worker on REDIS_URL")
    w.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    w.add_argument("--name")
    w.set_defaults(func=_worker)

    st = _styled(sub.add_parser("stylize", help="stylize every face of a picture"))
    st.add_argument("--scale", type=int, default=1, choices=[1, 4])
    st.add_argument("--model", choices=["lite", "full"], help="for the photo style (a style file names its own)")
    st.add_argument("--preserve-color", action="store_true", help="keep the faces' own colours")
    st.add_argument("--no-keep-faces", action="store_true",
                    help="paste every face at the full style even where the style makes it undetectable "
                         "or no longer the person")
    st.set_defaults(func=_stylize)

    up = sub.add_parser("upscale", help="4x super-resolve a picture")
    up.add_argument("input")
    up.add_argument("-o", "--output", required=True)
    up.add_argument("--model", choices=["lite", "full"])
    up.set_defaults(func=_upscale)

    ad = sub.add_parser("adapt", help="one-shot adaptation of a style head from one reference picture")
    ad.add_argument("reference")
    ad.add_argument("-o", "--output", required=True)
    ad.add_argument("--model", choices=["lite", "full"])
    ad.add_argument("--landmarks", help="a JSON file of the reference's 68 [x, y] points, for a reference no detector "
                    "reads (dlib/iBUG 68-point layout)")
    ad.add_argument("--steps", type=int, help=f"0 writes the instant estimate alone ({STEPS_DEFAULT_HELP})")
    ad.add_argument("--max-seconds", type=float, help="stop early after this long (default FACESTYLE_ADAPT_SECONDS, "
                    "170; 0: no cap)")
    ad.set_defaults(func=_adapt)

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

    ts = sub.add_parser("train-styles", help="fine-tune a trained generator multi-style on procedural styles (a "
                        "head each) so that style heads have a space to move in; the photo head keeps its SR loss")
    ts.add_argument("--model", default="lite", choices=["lite", "full"])
    ts.add_argument("--init", help="weights to start from (default: weights/srresnet_MODEL.pt; its style heads too)")
    ts.add_argument("--minutes", type=float, default=30)
    ts.add_argument("--steps", type=int)
    ts.add_argument("--out", default="runs/srresnet_lite_styles.pt")
    ts.add_argument("--data", help="data folder (default ../shared/data or $FACESTYLE_DATA)")
    ts.add_argument("--seed", type=int, default=0)
    ts.set_defaults(func=_train_styles)

    e = sub.add_parser("eval-sr", help="4x PSNR/SSIM (Y, shave 4) on the SR benchmarks")
    e.add_argument("--data", help="folder holding Set5/Set14/BSD100 (default ../shared/data/sr)")
    e.add_argument("--sets", default="Set5,Set14,BSD100,Faces", help="Faces = the held-out fifth of faces/single")
    e.add_argument("--models", default="bicubic,srresnet_lite,srresnet_full,srgan_full",
                   help="bicubic, shipped weight names (weights/NAME.pt) or .pt paths")
    e.add_argument("--limit", type=int, help="first N images of each set")
    e.add_argument("--device", default="cpu")
    e.add_argument("--json", help="also write the results here")
    e.set_defaults(func=_eval_sr)

    es = sub.add_parser("eval-style", help="faces x style references: face kept, drift, identity, colour/texture gain")
    es.add_argument("--faces", help="folder of face photos (default: the held-out fifth of faces/single)")
    es.add_argument("--styles", help="folder of style references (default: ../shared/data/styles)")
    es.add_argument("--variant", choices=["served", "generator"], default="served",
                    help="served: stills as served (built from the reference) with the trivial baselines; generator: "
                         "the generator's instant and fine-tuned heads")
    es.add_argument("--steps", type=int, help=f"generator: adaptation steps ({STEPS_DEFAULT_HELP})")
    es.add_argument("--max-seconds", type=float, help="each style's adaptation cap, as `adapt` (default: settings')")
    es.add_argument("--model", choices=["lite", "full"])
    es.add_argument("--limit-faces", type=int)
    es.add_argument("--limit-styles", type=int)
    es.add_argument("--no-identity", action="store_true", help="skip dlib even where it is installed")
    es.add_argument("--json")
    es.add_argument("--sheet", help="write the contact sheet PNG here (rows faces; input, then per style: "
                                    "reference, instant, fine-tuned)")
    es.set_defaults(func=_eval_style)

    v = _styled(sub.add_parser("video", help="stylize every face of a video (tracked, smoothed); H.264 MP4, audio copied"))
    v.add_argument("--detect-every", type=int, default=10)
    v.add_argument("--generate-every", type=int, default=None,
                   help="generate a tracked face at least every N frames, and whenever it changes (1 = every frame; default FACESTYLE_GENERATE_EVERY, 4)")
    v.add_argument("--blend", type=float, default=None, help=_BLEND_HELP)
    v.add_argument("--model", choices=["lite", "full"])
    v.set_defaults(func=_video)

    ev = sub.add_parser("eval-video", help="fps, detector calls and flicker: tracked vs detect-every-frame")
    ev.add_argument("--style", help="a style file (default: photo)")
    ev.add_argument("--frames", type=int, default=60)
    ev.add_argument("--detect-every", type=int, default=10)
    ev.add_argument("--blend", type=float, default=None, help=_BLEND_HELP)
    ev.add_argument("--no-matte", action="store_true", help="paste without the background matte (a halo may show)")
    ev.add_argument("--generate-every", type=int, default=None,
                    help="tracked: generate a face at least every N frames, and whenever it changes (1 = every frame)")
    ev.add_argument("--model", choices=["lite", "full"])
    ev.add_argument("--quick", action="store_true", help="the astronaut clip only")
    ev.add_argument("--strip", help="write frame strips (input | baseline | tracked) next to this path")
    ev.add_argument("--json")
    ev.set_defaults(func=_eval_video)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    process = argv is None  # the console script or `python -m facestyle.cli`: this call is the whole process
    if process and args.command in ONE_SHOT:
        gc.disable()  # until _loaded: the imports and weights of start-up are never garbage
        _startup["collector_off"] = True
    try:
        return args.func(args)
    finally:
        _loaded()
        if process:  # the interpreter's shutdown collects several times: not through everything loaded
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
