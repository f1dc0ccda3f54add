"""orderBookL2 deltas and trade inserts in the feed's own shape take the typed (msgspec) paths;
any other shape of the same message takes the generic (orjson dict) path. Both must give the
same events and counters."""

from __future__ import annotations

import json
from typing import Any

import orjson
from test_engine_capture import server_frames

from app.feeds.bitmex import engine as engine_module
from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.bitmex.l2_wire import (
    BYTE_PREFIXES,
    TEXT_PREFIXES,
    UNSET,
    L2Row,
    decode_l2_delta,
)
from app.feeds.events import BookLevels, FeedError, Resync, Trades
from bench.l2_stream import make_stream

PARTIAL = {
    "table": "orderBookL2",
    "action": "partial",
    "keys": ["symbol", "id", "side"],
    "filter": {"symbol": "XBTUSD"},
    "data": [
        {"symbol": "XBTUSD", "id": 1, "side": "Sell", "size": 10, "price": 101.0},
        {"symbol": "XBTUSD", "id": 2, "side": "Buy", "size": 20, "price": 100.0},
    ],
}


def compact(msg: dict[str, Any]) -> str:
    """The feed's own shape: compact JSON, keys in wire order."""
    return orjson.dumps(msg).decode()


def spaced(frame: str) -> str:
    """The same message with spaces after separators: not the feed's shape."""
    return json.dumps(orjson.loads(frame))


def delta(action: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"table": "orderBookL2", "action": action, "data": rows}


def counting_decoder(monkeypatch: Any) -> list[int]:
    """Count the engine's typed decodes that succeed."""
    hits = [0]
    real = engine_module.decode_l2_delta

    def wrapped(frame: str | bytes) -> Any:
        typed = real(frame)
        if typed is not None:
            hits[0] += 1
        return typed

    monkeypatch.setattr(engine_module, "decode_l2_delta", wrapped)
    return hits


def test_prefixes_cover_both_l2_tables_and_the_three_delta_actions() -> None:
    assert len(TEXT_PREFIXES) == 6
    assert all(p.startswith('{"table":"orderBookL2') for p in TEXT_PREFIXES)
    assert tuple(p.encode() for p in TEXT_PREFIXES) == BYTE_PREFIXES


def test_feed_shaped_frames_decode_to_typed_rows_with_absent_fields_unset() -> None:
    frame = compact(delta("update", [{"symbol": "XBTUSD", "id": 2, "side": "Buy", "size": 5}]))
    typed = decode_l2_delta(frame)
    assert typed is not None and typed.action == "update"
    (row,) = typed.data
    assert isinstance(row, L2Row) and row.size == 5
    assert row.price is UNSET and row.timestamp is UNSET
    assert decode_l2_delta(compact(delta("update", [{"symbol": "XBTUSD", "side": "Buy"}]))) is None
    assert decode_l2_delta(compact(delta("update", [[1, 2]]))) is None


def test_bench_stream_gives_identical_events_on_both_paths(monkeypatch: Any) -> None:
    stream = make_stream(2_000, 1_500, 50.0)
    hits = counting_decoder(monkeypatch)
    typed_engine, generic_engine = BitmexEngine(), BitmexEngine()
    for engine in (typed_engine, generic_engine):
        engine.apply(stream.partial)
        engine.apply(stream.trade_partial)
    for frame in stream.deltas:
        assert typed_engine.apply(frame) == generic_engine.apply(spaced(frame))
    l2_frames = sum(1 for f in stream.deltas if f.startswith(TEXT_PREFIXES))
    assert l2_frames > 1_000 and hits[0] == l2_frames
    assert typed_engine.stats.as_dict() == generic_engine.stats.as_dict()


def test_real_capture_gives_identical_events_on_both_paths() -> None:
    typed_engine, generic_engine = BitmexEngine(), BitmexEngine()
    typed_books = 0
    for frame in server_frames():
        typed_events = typed_engine.apply(frame)
        assert typed_events == generic_engine.apply(spaced(frame))
        typed_books += sum(isinstance(e, BookLevels) for e in typed_events)
    assert typed_books > 100
    assert typed_engine.stats.unknown_keys == 0


def test_bytes_frames_take_the_typed_path(monkeypatch: Any) -> None:
    hits = counting_decoder(monkeypatch)
    engine = BitmexEngine()
    engine.apply(compact(PARTIAL).encode())
    rows = [{"symbol": "XBTUSD", "id": 2, "side": "Buy", "size": 7, "price": 100.0}]
    (event,) = engine.apply(compact(delta("update", rows)).encode())
    assert hits[0] == 1
    assert isinstance(event, BookLevels) and event.bids == [(100.0, 7)]


def test_sparse_update_and_moved_price_on_the_typed_path(monkeypatch: Any) -> None:
    hits = counting_decoder(monkeypatch)
    engine = BitmexEngine()
    engine.apply(compact(PARTIAL))
    (sparse,) = engine.apply(
        compact(delta("update", [{"symbol": "XBTUSD", "id": 2, "side": "Buy", "size": 3}]))
    )
    assert isinstance(sparse, BookLevels) and sparse.bids == [(100.0, 3)]
    moved_row = {"symbol": "XBTUSD", "id": 1, "side": "Sell", "size": 4, "price": 102.0}
    (moved,) = engine.apply(compact(delta("update", [moved_row])))
    assert isinstance(moved, BookLevels) and moved.asks == [(101.0, 0.0), (102.0, 4)]
    (deleted,) = engine.apply(
        compact(delta("delete", [{"symbol": "XBTUSD", "id": 1, "side": "Sell"}]))
    )
    assert isinstance(deleted, BookLevels) and deleted.asks == [(102.0, 0.0)]
    assert hits[0] == 3


def test_unusable_rows_in_the_feed_shape_fall_back_and_are_reported_the_same_way() -> None:
    rows: list[Any] = [
        {"symbol": "XBTUSD", "id": 2, "side": "Buy", "size": 9, "price": 100.0},
        {"symbol": "XBTUSD", "id": 1, "size": 1},
    ]
    results = []
    for frame in (compact(delta("update", rows)), spaced(compact(delta("update", rows)))):
        engine = BitmexEngine()
        engine.apply(compact(PARTIAL))
        results.append(engine.apply(frame))
    assert results[0] == results[1]
    assert [type(e) for e in results[0]] == [FeedError, Resync]
    assert "missing field 'side'" in results[0][0].message  # type: ignore[union-attr]
    for frame in (compact(delta("insert", [[1, 2, 3]])), json.dumps(delta("insert", [[1, 2, 3]]))):
        engine = BitmexEngine()
        engine.apply(compact(PARTIAL))
        events = engine.apply(frame)
        assert [type(e) for e in events] == [FeedError]  # no symbol: no book to void
        assert "not an object" in events[0].message  # type: ignore[union-attr]


TRADE_PARTIAL = {
    "table": "trade",
    "action": "partial",
    "keys": [],
    "filter": {"symbol": "XBTUSD"},
    "data": [],
}


def trade_row(symbol: str = "XBTUSD", **fields: Any) -> dict[str, Any]:
    row = {
        "timestamp": "2026-03-02T12:00:01.250Z",
        "symbol": symbol,
        "side": "Sell",
        "size": 300,
        "price": 60000.5,
        "trdMatchID": "00000000-006d-1000-0000-000000000001",
        "foreignNotional": 300,
    }
    row.update(fields)
    return row


def test_trade_inserts_take_the_typed_path_with_the_same_events(monkeypatch: Any) -> None:
    hits = [0]
    real = engine_module.decode_trade_insert

    def wrapped(frame: str | bytes) -> Any:
        typed = real(frame)
        hits[0] += typed is not None
        return typed

    monkeypatch.setattr(engine_module, "decode_trade_insert", wrapped)
    frames = [
        delta("insert", [trade_row(), trade_row(side="Buy", size=5, price=60001)]),
        delta("insert", [trade_row("ETHUSD"), trade_row()]),  # ETHUSD is not subscribed
        delta("insert", [trade_row(timestamp="2026-03-02T12:00:01Z")]),  # unusual timestamp
        delta("insert", [trade_row(timestamp="yesterday"), trade_row()]),  # unusable timestamp
        delta("insert", [trade_row(side="Both")]),  # does not fit the typed shape
    ]
    typed_engine, generic_engine = BitmexEngine(), BitmexEngine()
    for engine in (typed_engine, generic_engine):
        engine.apply(compact(TRADE_PARTIAL))
    for msg in frames:
        msg = {**msg, "table": "trade"}
        frame = compact(msg)
        assert typed_engine.apply(frame) == generic_engine.apply(spaced(frame)), frame
    assert hits[0] == 4  # all but the bad side decode; the bad timestamp then falls back
    assert typed_engine.stats.as_dict() == generic_engine.stats.as_dict()
    assert typed_engine.stats.dropped_before_partial == 1
    events = typed_engine.apply(compact({**frames[0], "table": "trade"}))
    (trades,) = events
    assert isinstance(trades, Trades) and [t.price for t in trades.trades] == [60000.5, 60001.0]
    assert trades.trades[0].timestamp == 1772452801.25 and trades.trades[1].notional == 300.0


def test_trade_inserts_before_the_trade_partial_are_dropped_on_both_paths() -> None:
    frame = compact({**delta("insert", [trade_row()]), "table": "trade"})
    typed_engine, generic_engine = BitmexEngine(), BitmexEngine()
    assert typed_engine.apply(frame) == generic_engine.apply(spaced(frame)) == []
    assert typed_engine.stats.dropped_before_partial == 1
    assert typed_engine.stats.as_dict() == generic_engine.stats.as_dict()
