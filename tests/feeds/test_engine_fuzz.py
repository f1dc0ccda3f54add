"""Damaged real frames never raise out of the engine; they become counted errors or resyncs."""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson
import pytest
from conftest import read_frames

from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import AuthResult, FeedError, Resync

JUNK: list[Any] = [None, 0, -1, 1.5, "", "Buy", "XBTUSD", [], [1, 2], {}, {"a": 1}, True]


def real_frames() -> list[str]:
    lines = read_frames("bitmex/capture_2021-04-17.log")
    out = [line.split(": ", 1)[1] for line in lines if " <- " not in line and " <-> " not in line]
    for name in (
        "moonbot_testnet_2020-05.jsonl",
        "position_margin_tradebin.jsonl",
        "private_multiplex_errors.jsonl",
        "api_connectors_orderbook_symboled_empty_partial.jsonl",
    ):
        out.extend(read_frames(f"bitmex/{name}"))
    return out


def damage(msg: Any, rng: random.Random) -> Any:
    """One random structural change to a decoded frame."""
    if not isinstance(msg, dict) or not msg:
        return rng.choice(JUNK)
    msg = copy.deepcopy(msg)
    roll = rng.random()
    key = rng.choice(list(msg))
    if roll < 0.2:
        del msg[key]
    elif roll < 0.4:
        msg[key] = rng.choice(JUNK)
    elif isinstance(msg.get("data"), list) and msg["data"]:
        i = rng.randrange(len(msg["data"]))
        row = msg["data"][i]
        if isinstance(row, dict) and row and roll < 0.85:
            field = rng.choice(list(row))
            if rng.random() < 0.5:
                del row[field]
            else:
                row[field] = rng.choice(JUNK)
        else:
            msg["data"][i] = rng.choice(JUNK)
    else:
        msg["action"] = rng.choice(["partial", "insert", "update", "delete", "upsert", None])
    return msg


@pytest.mark.parametrize("seed", [20210417, 1, 2])
def test_damaged_frames_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    frames = real_frames()
    engine = BitmexEngine(clock=lambda: 0.0)
    reported = resyncs = 0
    for _ in range(3):
        for frame in frames:
            choice = rng.random()
            if choice < 0.6:
                events = engine.apply(frame)
            elif choice < 0.75:
                events = engine.apply_message(damage(orjson.loads(frame), rng))
            elif choice < 0.9:
                events = engine.apply(orjson.dumps(damage(orjson.loads(frame), rng)))
            else:
                events = engine.apply(frame[: rng.randrange(len(frame))])
            for event in events:
                if isinstance(event, FeedError) or (
                    isinstance(event, AuthResult) and not event.success
                ):
                    reported += 1
                resyncs += isinstance(event, Resync)
            for topic in engine.take_resubscribe():
                assert isinstance(topic, str) and topic
    stats = engine.stats
    assert stats.messages == 3 * len(frames)
    # Every counted problem was reported as exactly one event, and nothing else was.
    assert reported == stats.malformed + stats.errors
    assert resyncs == stats.resyncs > 0
    assert stats.malformed > 100
