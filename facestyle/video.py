"""Video files through the tracker and the generator: PyAV in, H.264 out, audio copied through.

Probing and writing clips need PyAV alone: torch and the tracker load when a video is stylized, so
`facestyle video` refuses a file that is not a video before the models load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

if TYPE_CHECKING:
    import torch

    from facestyle.pipeline import Stylizer
    from facestyle.style.colour import ColourTarget


class VideoError(ValueError):
    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class VideoInfo:
    width: int
    height: int
    fps: float
    seconds: float
    frames: int
    audio: bool


def probe(path: Path) -> VideoInfo:
    """Open and check a video; corrupt or unsupported containers raise VideoError (422)."""
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise VideoError("no_video_stream", "the file has no video stream")
            v = c.streams.video[0]
            fps = float(v.average_rate or v.guessed_rate or 25)
            seconds = float(c.duration / av.time_base) if c.duration else float((v.duration or 0) * (v.time_base or 0))
            frames = v.frames or int(round(seconds * fps))
            next(c.decode(v))  # one frame must decode
            return VideoInfo(v.codec_context.width, v.codec_context.height, fps, seconds, frames, bool(c.streams.audio))
    except VideoError:
        raise
    except (av.FFmpegError, StopIteration, ValueError, OSError) as exc:
        raise VideoError("corrupt_video", f"cannot decode the video: {exc}") from exc


@dataclass
class VideoStats:
    frames: int
    seconds: float
    detector_calls: int
    faces: int

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def stylize_video(src: Path, dst: Path, stylizer: Stylizer, head: torch.Tensor, detect_every: int = 10,
                  progress: Callable[[int, int], None] | None = None, should_stop: Callable[[], bool] | None = None,
                  crf: int = 20, generate_every: int = 4, colour: ColourTarget | None = None,
                  blend: float = 0.5) -> VideoStats:
    from facestyle.tracking import FaceReuse, FaceTracker

    info = probe(src)
    tracker = FaceTracker(stylizer.detect, detect_every=detect_every, fps=info.fps)
    reuse = FaceReuse(generate_every, blend=blend)
    w, h = info.width // 2 * 2, info.height // 2 * 2  # yuv420p needs even sizes
    done = faces = 0
    t0 = time.perf_counter()
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        vin = inp.streams.video[0]
        ain = inp.streams.audio[0] if inp.streams.audio else None
        vout = out.add_stream("libx264", rate=round(info.fps) or 25)
        vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
        vout.options = {"crf": str(crf), "preset": "veryfast"}
        aout = out.add_stream_from_template(ain) if ain is not None else None
        for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
            if packet.stream is ain:
                if packet.dts is not None:
                    packet.stream = aout
                    out.mux(packet)
                continue
            for frame in packet.decode():
                if should_stop and should_stop():
                    raise InterruptedError("stopped")
                rgb = frame.to_ndarray(format="rgb24")[:h, :w]
                tracks = tracker.update(rgb)
                if tracks:
                    ids = [t.id for t in tracks]
                    again, record = reuse.for_tracks(ids)
                    rgb, _ = stylizer.stylize(rgb, head, faces=[t.face() for t in tracks], reuse=again,
                                              post=record, colour=colour)
                    faces += len(tracks)
                reuse.next_frame()
                for p in vout.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                    out.mux(p)
                done += 1
                if progress:
                    progress(done, info.frames)
        for p in vout.encode(None):
            out.mux(p)
    return VideoStats(done, time.perf_counter() - t0, tracker.detector_calls, faces)


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 25, audio_seconds: float = 0.0) -> None:
    """Encode RGB frames as H.264 MP4 (with a sine-tone AAC track when audio_seconds > 0): test clips."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", format="mp4") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        a = out.add_stream("aac", rate=44100) if audio_seconds else None
        for f in frames:
            for p in v.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in v.encode(None):
            out.mux(p)
        if a is not None:
            t = np.arange(int(44100 * audio_seconds)) / 44100
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for i in range(0, len(tone), 1024):
                chunk = tone[i : i + 1024]
                if len(chunk) < 1024:
                    chunk = np.pad(chunk, (0, 1024 - len(chunk)))
                af = av.AudioFrame.from_ndarray(chunk[None], format="fltp", layout="mono")
                af.sample_rate, af.pts = 44100, i
                for p in a.encode(af):
                    out.mux(p)
            for p in a.encode(None):
                out.mux(p)
