"""All settings in one place, from the environment (FACESTYLE_*, and REDIS_URL)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACESTYLE_", extra="ignore")

    # unset: embedded mode, fakeredis plus an in-process worker thread (no Redis server, no GPU)
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "FACESTYLE_REDIS_URL"))
    device: str = "auto"  # auto | cpu | cuda
    model: str | None = None  # lite | full; default lite on CPU, full on CUDA
    precision: str = "auto"  # auto | fp32 | bf16: the generator's float type (auto: bf16 on AMX CPUs and GPUs)
    lr_size: int = 64  # aligned face size fed to the generator (output is 4x)
    # small faces may run smaller, down to this (pipeline.face_lr_size): crowded pictures 2x faster (the 28
    # faces of the Solvay photo 2.5 s -> 1.2 s on 2 cores), small faces a little softer; = lr_size: off
    min_lr_size: int = 64
    max_batch: int = 8
    max_wait_ms: float = 10.0
    max_upload_bytes: int = 20 * 2**20
    max_pixels: int = 40_000_000  # decoded picture size limit (decompression bombs stop at the header)
    max_upscale_pixels: int = 2_000_000  # /upscale input: the output has 16x the pixels
    max_video_bytes: int = 50 * 2**20
    max_video_seconds: float = 60.0
    max_video_pixels: int = 1920 * 1080
    adapt_steps: int = 200
    # a cap on a style's adaptation: a slower machine stops early with the steps it has done (the AVX2-only
    # 2-core machine does ~170 of the 200 in it; an AMX one all 200 in ~110 s)
    adapt_seconds: float | None = 170.0
    # video and /stream: a tracked face goes through the generator at least every N frames, and at once when
    # its aligned input changes (a blink, the mouth); in between its last generation follows the head
    generate_every: int = Field(4, ge=1)
    # ... and each new generation is blended with the face's last output moved by optical flow, this much of
    # it new (tracking.flow_blend): sketch flicker on the talking clip 1.41 -> 1.16; 1 = off
    temporal_blend: float = Field(0.5, gt=0, le=1)
    job_timeout: int = 900
    job_retries: int = 2
    queue_name: str = "facestyle"
    key_prefix: str = "facestyle"

    # tenants: `name:key` pairs, comma-separated, and/or a file of one pair a line; none: the service is open.
    # SecretStr so that a logged or printed Settings never shows a key
    api_keys: SecretStr | None = None
    api_keys_file: Path | None = None
    # per key (per client address when open), shared by API replicas through Redis, e.g. "10/second";
    # unset: unlimited. rate_limit counts every request, style_rate_limit each POST /styles (a GPU job each)
    rate_limit: str | None = None
    style_rate_limit: str | None = None
    # overload: past this many faces waiting for the generator, or picture requests in this process at once,
    # answer 503 with Retry-After at once instead of letting latency grow without bound
    max_queue: int = Field(256, ge=1)
    max_inflight: int = Field(64, ge=1)
    # workers: a running job's heartbeat every N s, expiring after 3 N; a job whose worker died (SIGKILL, OOM,
    # a lost machine) is retried by the next maintenance pass of any worker after that (rq's own default is a
    # 10-minute pass and, for a SimpleWorker, the job timeout + 60 s of heartbeat)
    job_heartbeat_seconds: int = Field(10, ge=1)
    worker_maintenance_seconds: int = Field(30, ge=1)

    @field_validator("rate_limit", "style_rate_limit")
    @classmethod
    def _limit(cls, v: str | None) -> str | None:
        if v:
            from limits import parse_many

            parse_many(v)  # a typo fails at startup, not on the first request
        return v or None

    def api_key_table(self) -> dict[str, str]:
        """{key: name} from FACESTYLE_API_KEYS and FACESTYLE_API_KEYS_FILE; empty: open mode. A malformed entry,
        a repeated name or key, or an unreadable file is an error (a typo must not silently open the service)."""
        lines: list[str] = []
        if self.api_keys is not None:
            lines += self.api_keys.get_secret_value().split(",")
        if self.api_keys_file is not None:
            lines += self.api_keys_file.read_text().splitlines()
        table: dict[str, str] = {}
        names: set[str] = set()
        for i, raw in enumerate(lines):
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            name, sep, key = (part.strip() for part in entry.partition(":"))
            if not sep or not name or not key:  # the entry is not echoed: it may hold a key
                raise ValueError(f"API key entry {i + 1} is not name:key")
            if name in names or key in table:
                raise ValueError(f"API key entry {i + 1} repeats a name or a key")
            names.add(name)
            table[key] = name
        return table

    @property
    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    @property
    def resolved_model(self) -> str:
        return self.model or ("full" if self.resolved_device == "cuda" else "lite")


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
