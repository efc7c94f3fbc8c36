"""One guarded write shared by the Redis stores."""

from __future__ import annotations

import redis


def hset_if_exists(conn: redis.Redis, key: str, mapping: dict) -> bool:
    """HSET only while the hash exists (WATCHed): a late writer cannot bring back a deleted or expired item
    (which would come back half-written and, for expiring keys, without its TTL). Returns whether it wrote."""
    with conn.pipeline(transaction=True) as p:
        while True:
            try:
                p.watch(key)
                if not p.exists(key):
                    p.reset()
                    return False
                p.multi()
                p.hset(key, mapping=mapping)
                p.execute()
                return True
            except redis.WatchError:
                continue
