"""Styles in Redis, so every API replica and worker sees them and a restart loses nothing.

One hash per style (metadata, head bytes, the aligned reference PNG, the exemplar: the reference face at its
own resolution as PNG and its 68 landmarks as JSON) plus a sorted set as the index.
Creation is one MULTI; updates are WATCHed transactions that do nothing once the style is deleted,
so a job finishing after a DELETE cannot resurrect half a style.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import redis
import torch

from facestyle.exemplar import Exemplar
from facestyle.redis_tx import hset_if_exists
from facestyle.style.colour import ColourTarget

STATUSES = ("queued", "adapting", "ready", "failed")
PHOTO = "photo"


@dataclass
class Style:
    id: str
    name: str
    status: str
    model: str
    progress: float = 0.0
    error: str | None = None
    job: str | None = None
    created: float = field(default_factory=time.time)
    head: torch.Tensor | None = None  # None for the built-in photo style: the generator's own head
    colour: ColourTarget | None = None  # the reference face's colours, which each generated face is moved onto

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "status": self.status, "progress": round(self.progress, 4),
                "error": self.error, "model": self.model, "job": self.job, "created": self.created}


def photo_style(model: str) -> Style:
    return Style(id=PHOTO, name="photo", status="ready", model=model, progress=1.0, created=0.0)


class StyleStore:
    def __init__(self, conn: redis.Redis, prefix: str = "facestyle"):
        self.r = conn
        self.prefix = prefix
        self.index = f"{prefix}:styles"

    def key(self, style_id: str) -> str:
        return f"{self.prefix}:style:{style_id}"

    def create(self, name: str, model: str, head: torch.Tensor, reference_png: bytes, job: str | None = None,
               style_id: str | None = None, colour: ColourTarget | None = None, exemplar: Exemplar | None = None) -> Style:
        style = Style(id=style_id or uuid.uuid4().hex[:16], name=name, status="queued", model=model, job=job, head=head,
                      colour=colour)
        fields = {"id": style.id, "name": name, "status": style.status, "model": model, "progress": 0.0,
                  "created": style.created, "job": job or "", "error": "",
                  "head": head.detach().cpu().float().numpy().tobytes(), "reference": reference_png,
                  "colour": colour.to_bytes() if colour is not None else b""}
        if exemplar is not None:
            fields["exemplar"], fields["landmarks"] = exemplar.to_bytes()
        with self.r.pipeline(transaction=True) as p:
            p.hset(self.key(style.id), mapping=fields)
            p.zadd(self.index, {style.id: style.created})
            p.execute()
        return style

    def exists(self, style_id: str) -> bool:
        return bool(self.r.exists(self.key(style_id)))

    def get(self, style_id: str) -> Style | None:
        raw = self.r.hgetall(self.key(style_id))
        if not raw:
            return None
        d = {k.decode(): v for k, v in raw.items()}
        s = lambda k: d[k].decode() if k in d else ""  # noqa: E731
        head = torch.from_numpy(np.frombuffer(d["head"], dtype=np.float32).copy()) if d.get("head") else None
        colour = ColourTarget.from_bytes(d["colour"]) if d.get("colour") else None
        return Style(id=s("id"), name=s("name"), status=s("status"), model=s("model"), progress=float(s("progress") or 0),
                     error=s("error") or None, job=s("job") or None, created=float(s("created") or 0), head=head,
                     colour=colour)

    def reference(self, style_id: str) -> bytes | None:
        return self.r.hget(self.key(style_id), "reference")

    def exemplar(self, style_id: str) -> Exemplar | None:
        """The reference face and its 68 landmarks, which stills are built from; None for a style stored before
        exemplars existed (it has to be registered again)."""
        png, landmarks = self.r.hmget(self.key(style_id), ["exemplar", "landmarks"])
        return Exemplar.from_bytes(png, landmarks) if png and landmarks else None

    def critic(self, style_id: str) -> bytes | None:
        """The style's trained patch critic (torch state dict bytes), once adaptation has run."""
        return self.r.hget(self.key(style_id), "critic") or None

    def list(self) -> list[Style]:
        ids = [i.decode() for i in self.r.zrange(self.index, 0, -1)]
        return [s for s in (self.get(i) for i in ids) if s is not None]

    def update(self, style_id: str, head: torch.Tensor | None = None, **fields) -> bool:
        """Set fields (and the head) only if the style still exists; returns whether it did."""
        mapping = {k: ("" if v is None else v) for k, v in fields.items()}
        if "status" in mapping and mapping["status"] not in STATUSES:
            raise ValueError(f"bad status {mapping['status']!r}")
        if head is not None:
            mapping["head"] = head.detach().cpu().float().numpy().tobytes()
        return hset_if_exists(self.r, self.key(style_id), mapping)

    def delete(self, style_id: str) -> bool:
        with self.r.pipeline(transaction=True) as p:
            p.delete(self.key(style_id))
            p.zrem(self.index, style_id)
            removed, _ = p.execute()
        return bool(removed)
