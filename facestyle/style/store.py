"""Styles in Redis, so every API replica and worker sees them and a restart loses nothing.

One hash per style (metadata, head bytes, the aligned reference PNG, the exemplar: the reference face at its
own resolution as PNG and its 68 landmarks as JSON) plus a sorted set as the index, and one per owner (the API
key's name that made it; styles made in open mode have none).
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
class CorruptStyle(ValueError):
    """A style's stored record cannot be read (truncated or overwritten bytes): an error for that style alone."""

    def __init__(self, style_id: str, what: str):
        super().__init__(f"style {style_id!r}: {what}")
        self.style_id, self.what = style_id, what


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
    owner: str | None = None  # the API key name that made it; None: made in open mode (or the built-in photo)
    corrupt: str | None = None  # why the stored record cannot be used, when it cannot (it still lists and deletes)

    def public(self) -> dict:
        status, error = ("failed", f"the stored style is corrupt ({self.corrupt}); delete it and register it again") \
            if self.corrupt else (self.status, self.error)
        return {"id": self.id, "name": self.name, "status": status, "progress": round(self.progress, 4),
                "error": error, "model": self.model, "job": self.job, "created": self.created}

    def usable(self) -> "Style":
        """The style, or CorruptStyle when its record cannot be used."""
        if self.corrupt:
            raise CorruptStyle(self.id, self.corrupt)
        return self


def photo_style(model: str) -> Style:
    return Style(id=PHOTO, name="photo", status="ready", model=model, progress=1.0, created=0.0)


class StyleStore:
    def __init__(self, conn: redis.Redis, prefix: str = "facestyle"):
        self.r = conn
        self.prefix = prefix
        self.index = f"{prefix}:styles"

    def key(self, style_id: str) -> str:
        return f"{self.prefix}:style:{style_id}"

    def owner_index(self, owner: str) -> str:
        return f"{self.prefix}:styles:owner:{owner}"

    def create(self, name: str, model: str, head: torch.Tensor, reference_png: bytes, job: str | None = None,
               style_id: str | None = None, colour: ColourTarget | None = None, exemplar: Exemplar | None = None,
               owner: str | None = None) -> Style:
        style = Style(id=style_id or uuid.uuid4().hex[:16], name=name, status="queued", model=model, job=job, head=head,
                      colour=colour, owner=owner)
        fields = {"id": style.id, "name": name, "status": style.status, "model": model, "progress": 0.0,
                  "created": style.created, "job": job or "", "error": "", "owner": owner or "",
                  "head": head.detach().cpu().float().numpy().tobytes(), "reference": reference_png,
                  "colour": colour.to_bytes() if colour is not None else b""}
        if exemplar is not None:
            fields["exemplar"], fields["landmarks"] = exemplar.to_bytes()
        with self.r.pipeline(transaction=True) as p:
            p.hset(self.key(style.id), mapping=fields)
            p.zadd(self.index, {style.id: style.created})
            if owner:
                p.zadd(self.owner_index(owner), {style.id: style.created})
            p.execute()
        return style

    def exists(self, style_id: str) -> bool:
        return bool(self.r.exists(self.key(style_id)))

    def get(self, style_id: str) -> Style | None:
        """The style; a record whose bytes cannot be read comes back with `corrupt` saying why (not an exception),
        so that one damaged style still lists and deletes and leaves the others alone."""
        fields = ["id", "name", "status", "model", "progress", "error", "job", "created", "owner", "head", "colour"]
        raw = dict(zip(fields, self.r.hmget(self.key(style_id), fields)))  # not the PNGs: they are read when needed
        if not any(v is not None for v in raw.values()):
            return None
        d = {k: v for k, v in raw.items() if v is not None}
        problems: list[str] = []

        def text(k: str) -> str:
            try:
                return d[k].decode() if k in d else ""
            except UnicodeDecodeError:
                problems.append(f"{k} is not text")
                return ""

        def number(k: str) -> float:
            try:
                return float(text(k) or 0)
            except ValueError:
                problems.append(f"{k} is not a number")
                return 0.0

        head = colour = None
        if d.get("head"):
            if len(d["head"]) % 4:
                problems.append(f"head is {len(d['head'])} bytes, not whole float32s")
            else:
                head = torch.from_numpy(np.frombuffer(d["head"], dtype=np.float32).copy())
                if not torch.isfinite(head).all():
                    problems.append("head holds non-finite numbers")
        else:  # every stored style has a head (the built-in photo style is never stored)
            problems.append("head is missing")
        if d.get("colour"):
            try:
                colour = ColourTarget.from_bytes(d["colour"])
            except ValueError as exc:
                problems.append(f"colour target unreadable ({exc})")
        status = text("status")
        if status not in STATUSES:
            problems.append(f"status {status!r} unknown")
            status = "failed"
        return Style(id=text("id") or style_id, name=text("name"), status=status, model=text("model"),
                     progress=number("progress"), error=text("error") or None, job=text("job") or None,
                     created=number("created"), head=head, colour=colour, owner=text("owner") or None,
                     corrupt="; ".join(problems) or None)

    def reference(self, style_id: str) -> bytes | None:
        return self.r.hget(self.key(style_id), "reference")

    def exemplar(self, style_id: str) -> Exemplar | None:
        """The reference face and its 68 landmarks, which stills are built from; None for a style stored before
        exemplars existed (it has to be registered again)."""
        png, landmarks = self.r.hmget(self.key(style_id), ["exemplar", "landmarks"])
        if not (png and landmarks):
            return None
        try:
            return Exemplar.from_bytes(png, landmarks)
        except Exception as exc:  # PIL and json raise several kinds on damaged bytes; all mean the same here
            raise CorruptStyle(style_id, f"exemplar unreadable ({type(exc).__name__})") from exc

    def critic(self, style_id: str) -> bytes | None:
        """The style's trained patch critic (torch state dict bytes), once adaptation has run."""
        return self.r.hget(self.key(style_id), "critic") or None

    def list(self, owner: str | None = None) -> list[Style]:
        """Every style, oldest first; with `owner`, only that owner's (from its own index)."""
        ids = [i.decode() for i in self.r.zrange(self.owner_index(owner) if owner else self.index, 0, -1)]
        return [s for s in (self.get(i) for i in ids) if s is not None]

    def update(self, style_id: str, head: torch.Tensor | None = None, **fields) -> bool:
        """Set fields (and the head) only if the style still exists; returns whether it did."""
        mapping = {k: ("" if v is None else v) for k, v in fields.items()}
        if "status" in mapping and mapping["status"] not in STATUSES:
            raise ValueError(f"bad status {mapping['status']!r}")
        if head is not None:
            mapping["head"] = head.detach().cpu().float().numpy().tobytes()
        return hset_if_exists(self.r, self.key(style_id), mapping)

    def delete(self, style_id: str, owner: str | None = None) -> bool:
        with self.r.pipeline(transaction=True) as p:
            p.delete(self.key(style_id))
            p.zrem(self.index, style_id)
            if owner:
                p.zrem(self.owner_index(owner), style_id)
            removed = p.execute()[0]
        return bool(removed)
