"""The whole real 2021 BitMEX capture (10 symbols, orderBookL2/quote/trade) through BitmexEngine.

Every symbol's final book, folded from the engine's BookLevels events, must equal a plain
fold of the raw frames computed here; no book may be crossed and no key may be unknown.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
import pytest
from conftest import read_frames

from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import BookLevels, Event, Quote, Resync, Trades

Levels = dict[float, float]


def server_frames() -> list[str]:
    """Server frames of the recorder format (`<ts>: <json>`; client lines hold ` <- `)."""
    out = []
    for line in read_frames("bitmex/capture_2021-04-17.log"):
        if " <- " in line or " <-> " in line:
            continue
        out.append(line.split(": ", 1)[1])
    return out


def reference_books(frames: list[str]) -> dict[str, tuple[Levels, Levels]]:
    """Straightforward fold: rows by (side, id) per symbol -> [price, size], then by price."""
    rows: dict[str, dict[tuple[str, int], list[Any]]] = {}
    for frame in frames:
        msg = orjson.loads(frame)
        if msg.get("table") != "orderBookL2":
            continue
        action = msg["action"]
        if action == "partial":
            rows[msg["filter"]["symbol"]] = {}
        for row in msg["data"]:
            book = rows[row["symbol"]]
            key = (row["side"], row["id"])
            if action in ("partial", "insert"):
                book[key] = [row["price"], row["size"]]
            elif action == "update":
                book[key][1] = row["size"]
                if "price" in row:
                    book[key][0] = row["price"]
            else:
                del book[key]
    result: dict[str, tuple[Levels, Levels]] = {}
    for symbol, book in rows.items():
        bids = {price: size for (side, _), (price, size) in book.items() if side == "Buy"}
        asks = {price: size for (side, _), (price, size) in book.items() if side == "Sell"}
        result[symbol] = (bids, asks)
    return result


def fold_events(events: list[Event]) -> dict[str, tuple[Levels, Levels]]:
    """Books built only from the engine's BookLevels events."""
    books: dict[str, tuple[Levels, Levels]] = defaultdict(lambda: ({}, {}))
    for event in events:
        if not isinstance(event, BookLevels):
            continue
        if event.snapshot:
            books[event.symbol] = ({}, {})
        for side, levels in zip(books[event.symbol], (event.bids, event.asks), strict=True):
            for price, size in levels:
                if size == 0:
                    side.pop(price, None)
                else:
                    side[price] = size
    return dict(books)


def run(frames: list[Any], decoded: bool = False) -> tuple[BitmexEngine, list[Event]]:
    engine = BitmexEngine()
    events: list[Event] = []
    for frame in frames:
        events.extend(engine.apply_message(frame) if decoded else engine.apply(frame))
    return engine, events


def test_whole_capture_matches_independent_fold() -> None:
    frames = server_frames()
    assert len(frames) > 2000
    engine, events = run(frames)
    expected = reference_books(frames)
    got = fold_events(events)
    assert sorted(got) == sorted(expected) and len(expected) == 10
    for symbol, (bids, asks) in expected.items():
        assert got[symbol] == (bids, asks), symbol
        assert bids and asks, symbol
        assert max(bids) < min(asks), f"crossed book {symbol}"
        assert engine.level_count("orderBookL2", symbol) == len(bids) + len(asks)
    stats = engine.stats
    assert stats.messages == len(frames)
    assert (stats.unknown_keys, stats.resyncs, stats.malformed, stats.errors) == (0, 0, 0, 0)
    assert stats.dropped_before_partial == 0
    assert engine.waiting_for_partial() == [] and engine.take_resubscribe() == []
    assert not [e for e in events if isinstance(e, Resync)]


def test_capture_trades_and_quotes_are_all_emitted() -> None:
    frames = server_frames()
    _, events = run(frames)
    trade_rows = quote_rows = 0
    for frame in frames:
        msg = orjson.loads(frame)
        if msg.get("table") == "trade":
            trade_rows += len(msg["data"])
        elif msg.get("table") == "quote":
            quote_rows += len(msg["data"])
    assert sum(len(e.trades) for e in events if isinstance(e, Trades)) == trade_rows
    assert sum(1 for e in events if isinstance(e, Quote)) == quote_rows


@pytest.mark.parametrize("form", ["bytes", "decoded"])
def test_bytes_and_decoded_frames_give_identical_events(form: str) -> None:
    frames = server_frames()
    _, reference = run(frames)
    if form == "bytes":
        _, events = run([f.encode() for f in frames])
    else:
        _, events = run([orjson.loads(f) for f in frames], decoded=True)
    assert events == reference


def test_a_lost_frame_is_detected_and_the_book_resynced() -> None:
    """Drop one insert whose level is later updated or deleted: the engine must notice."""
    frames = server_frames()
    later_keys: dict[int, set[tuple[str, str, int]]] = {}
    for i, frame in enumerate(frames):
        msg = orjson.loads(frame)
        if msg.get("table") == "orderBookL2" and msg["action"] in ("update", "delete"):
            later_keys[i] = {(r["symbol"], r["side"], r["id"]) for r in msg["data"]}
    victim = None
    for i, frame in enumerate(frames):
        msg = orjson.loads(frame)
        if msg.get("table") != "orderBookL2" or msg["action"] != "insert":
            continue
        keys = {(r["symbol"], r["side"], r["id"]) for r in msg["data"]}
        if any(keys & later for j, later in later_keys.items() if j > i):
            victim = i
            symbol = msg["data"][0]["symbol"]
            break
    assert victim is not None
    engine, events = run(frames[:victim] + frames[victim + 1 :])
    resyncs = [e for e in events if isinstance(e, Resync)]
    assert resyncs and resyncs[0].symbol == symbol
    assert engine.stats.unknown_keys >= 1
    assert f"orderBookL2:{symbol}" in engine.take_resubscribe()
    assert f"orderBookL2:{symbol}" in engine.waiting_for_partial()
    # Every other symbol is still exactly right.
    expected = reference_books(frames)
    got = fold_events(events)
    for other in expected:
        if other != symbol:
            assert got[other] == expected[other], other
