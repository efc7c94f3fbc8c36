import fakeredis
import pytest
import torch

from facestyle.style.store import CorruptStyle, StyleStore


@pytest.fixture
def store():
    return StyleStore(fakeredis.FakeRedis(), prefix="t")


def test_create_get_list_and_head_round_trip(store):
    head = torch.randn(50)
    a = store.create("ink", "lite", head, b"PNG...", job="j1")
    b = store.create("oil", "lite", torch.zeros(50), b"PNG2")
    got = store.get(a.id)
    assert (got.name, got.status, got.model, got.job, got.progress) == ("ink", "queued", "lite", "j1", 0.0)
    torch.testing.assert_close(got.head, head)
    assert store.reference(a.id) == b"PNG..."
    assert [s.id for s in store.list()] == [a.id, b.id]
    assert store.get("nope") is None


def test_update_sets_fields_and_the_head(store):
    s = store.create("ink", "lite", torch.zeros(4), b"x")
    assert store.update(s.id, status="adapting", progress=0.5)
    assert store.update(s.id, head=torch.ones(4), status="ready", progress=1.0, error=None)
    got = store.get(s.id)
    assert (got.status, got.progress, got.error) == ("ready", 1.0, None)
    torch.testing.assert_close(got.head, torch.ones(4))
    with pytest.raises(ValueError):
        store.update(s.id, status="bogus")


def test_an_update_after_delete_does_not_resurrect_the_style(store):
    s = store.create("ink", "lite", torch.zeros(4), b"x")
    assert store.delete(s.id)
    assert not store.update(s.id, status="ready", progress=1.0, head=torch.ones(4))
    assert store.get(s.id) is None and not store.exists(s.id)
    assert store.list() == [] and store.r.keys("t:*") == []
    assert not store.delete(s.id)


def test_the_colour_target_round_trips_and_old_styles_have_none(store):
    import numpy as np

    from facestyle.style.colour import ColourTarget

    target = ColourTarget(np.array([0.5, 0.4, 0.3]), np.diag([0.01, 0.02, 0.03]))
    a = store.create("ink", "lite", torch.zeros(4), b"x", colour=target)
    b = store.create("old", "lite", torch.zeros(4), b"x")
    got = store.get(a.id).colour
    np.testing.assert_allclose(got.mean, target.mean, rtol=1e-6)
    np.testing.assert_allclose(got.cov, target.cov, rtol=1e-6)
    assert store.get(b.id).colour is None


def test_a_video_update_after_expiry_does_not_recreate_the_hash():
    from facestyle.video_store import VideoStore

    videos = VideoStore(fakeredis.FakeRedis(), prefix="t", ttl=60)
    v = videos.create("photo", 1.0, b"mp4", job="j", info={"frames": 3})
    assert videos.update(v["id"], status="processing", progress=0.5)
    assert videos.get(v["id"])["status"] == "processing"
    videos.r.delete(videos.key(v["id"]))  # expired
    assert not videos.update(v["id"], progress=0.9)
    assert videos.get(v["id"]) is None and not videos.r.exists(videos.key(v["id"]))


def test_owners_have_their_own_index(store):
    a = store.create("a", "lite", torch.zeros(4), b"x", owner="alice")
    b = store.create("b", "lite", torch.zeros(4), b"x", owner="bob")
    legacy = store.create("c", "lite", torch.zeros(4), b"x")
    assert [s.id for s in store.list(owner="alice")] == [a.id] and store.get(a.id).owner == "alice"
    assert [s.id for s in store.list()] == [a.id, b.id, legacy.id] and store.get(legacy.id).owner is None
    assert store.delete(a.id, "alice")
    assert store.list(owner="alice") == [] and [s.id for s in store.list(owner="bob")] == [b.id]


@pytest.mark.parametrize("field,value,why", [
    ("head", b"\x00" * 7, "whole float32s"),
    ("head", b"", "missing"),
    ("head", b"\x00\x00\xc0\x7f" * 4, "non-finite"),  # NaN
    ("colour", b"\x00" * 8, "colour"),
    ("status", b"exploded", "status"),
    ("progress", b"half", "progress"),
])
def test_an_unreadable_record_is_marked_not_raised(store, field, value, why):
    s = store.create("ink", "lite", torch.zeros(4), b"x")
    other = store.create("oil", "lite", torch.ones(4), b"x")
    store.r.hset(store.key(s.id), field, value)
    got = store.get(s.id)
    assert got.corrupt and why in got.corrupt
    assert got.public()["status"] == "failed" and "corrupt" in got.public()["error"]
    with pytest.raises(CorruptStyle):
        got.usable()
    assert store.get(other.id).corrupt is None and store.get(other.id).usable() is not None
    assert len(store.list()) == 2  # the list still answers


def test_a_damaged_exemplar_raises_corrupt_style(store):
    s = store.create("ink", "lite", torch.zeros(4), b"x")
    store.r.hset(store.key(s.id), mapping={"exemplar": b"not a png", "landmarks": b"[[1, 2]]"})
    with pytest.raises(CorruptStyle) as e:
        store.exemplar(s.id)
    assert e.value.style_id == s.id
