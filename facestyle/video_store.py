"""Video jobs in Redis: metadata hash plus the input and result MP4 bytes, all expiring after `ttl` seconds.

Redis holds the bytes so API replicas and workers need no shared disk; the size limit keeps that sane.
"""

from __future__ import annotations

import time
import uuid

import redis

from facestyle.redis_tx import hset_if_exists


class VideoStore:
    def __init__(self, conn: redis.Redis, prefix: str = "facestyle", ttl: int = 24 * 3600):
        self.r, self.prefix, self.ttl = conn, prefix, ttl

    def key(self, vid: str, part: str = "meta") -> str:
        return f"{self.prefix}:video:{vid}:{part}"

    def create(self, style: str, strength: float, data: bytes, job: str, info: dict, owner: str | None = None) -> dict:
        vid = uuid.uuid4().hex[:16]
        meta = {"id": vid, "style": style, "strength": strength, "status": "queued", "progress": 0.0, "error": "",
                "job": job, "created": time.time(), "owner": owner or "", **{f"info_{k}": v for k, v in info.items()}}
        with self.r.pipeline(transaction=True) as p:
            p.hset(self.key(vid), mapping={k: str(v) for k, v in meta.items()})
            p.set(self.key(vid, "input"), data)
            p.expire(self.key(vid), self.ttl)
            p.expire(self.key(vid, "input"), self.ttl)
            p.execute()
        return self.get(vid)

    def get(self, vid: str) -> dict | None:
        raw = self.r.hgetall(self.key(vid))
        if not raw:
            return None
        d = {k.decode(): v.decode() for k, v in raw.items()}
        return {"id": d["id"], "style": d["style"], "strength": float(d["strength"]), "status": d["status"],
                "progress": float(d["progress"]), "error": d["error"] or None, "job": d["job"],
                "created": float(d["created"]), "frames": int(float(d.get("info_frames", 0))),
                "seconds": float(d.get("info_seconds", 0)), "fps": float(d.get("info_fps", 0)),
                "owner": d.get("owner") or None}

    def input(self, vid: str) -> bytes | None:
        return self.r.get(self.key(vid, "input"))

    def result(self, vid: str) -> bytes | None:
        return self.r.get(self.key(vid, "result"))

    def update(self, vid: str, **fields) -> bool:
        return hset_if_exists(self.r, self.key(vid), {k: "" if v is None else str(v) for k, v in fields.items()})

    def finish(self, vid: str, result: bytes) -> None:
        with self.r.pipeline(transaction=True) as p:
            p.set(self.key(vid, "result"), result, ex=self.ttl)
            p.hset(self.key(vid), mapping={"status": "done", "progress": "1.0", "error": ""})
            p.delete(self.key(vid, "input"))
            p.execute()
