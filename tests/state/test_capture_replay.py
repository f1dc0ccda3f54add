"""The real 2021 capture through the feed engine into MarketState, checked against plain folds."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from app.feeds.bitmex.engine import BitmexEngine
from app.state.candles import floor_time
from app.state.market import MarketState
from app.state.units import parse_time

CAPTURE = Path(__file__).resolve().parent.parent / "fixtures" / "bitmex" / "capture_2021-04-17.log"


def received_frames() -> list[str]:
    """The frames the server sent ("<epoch>: <json>" lines; client lines have an arrow)."""
    out = []
    for line in CAPTURE.read_text().splitlines():
        if " <- " in line or " <-> " in line or ": " not in line:
            continue
        out.append(line.split(": ", 1)[1])
    return out


def plain_fold(
    frames: list[str],
) -> tuple[dict[str, dict[str, dict[float, float]]], dict[str, list[dict[str, Any]]]]:
    """Books by (symbol, side, id) the obvious way, and trade rows per symbol."""
    levels: dict[str, dict[tuple[str, int], tuple[float, float]]] = defaultdict(dict)
    trades: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for frame in frames:
        msg = json.loads(frame)
        table = msg.get("table") if isinstance(msg, dict) else None
        if table == "trade":
            for r in msg["data"]:
                trades[r["symbol"]].append(r)
        if table != "orderBookL2":
            continue
        action = msg["action"]
        if action == "partial":
            for sym in {r["symbol"] for r in msg["data"]} | {msg.get("filter", {}).get("symbol")}:
                if sym:
                    levels[sym] = {}
        for r in msg["data"]:
            key = (r["side"], r["id"])
            book = levels[r["symbol"]]
            if action in ("partial", "insert"):
                book[key] = (r["price"], r["size"])
            elif action == "update":
                book[key] = (r.get("price", book[key][0]), r["size"])
            else:
                book.pop(key, None)
    out: dict[str, dict[str, dict[float, float]]] = {}
    for sym, book in levels.items():
        sides: dict[str, dict[float, float]] = {"Buy": {}, "Sell": {}}
        for (side, _id), (price, size) in book.items():
            sides[side][price] = size
        out[sym] = sides
    return out, trades


def test_capture_books_tapes_and_candles_match_plain_folds() -> None:
    frames = received_frames()
    assert len(frames) > 1500
    engine = BitmexEngine()
    state = MarketState("bitmex")
    aspects: set[str] = set()
    for frame in frames:
        for ev in engine.apply(frame):
            aspects |= state.apply(ev)
    books, trades = plain_fold(frames)
    assert state.crossed_events == 0 and state.resyncs == 0
    assert len(books) >= 10
    assert sum(len(r) for r in trades.values()) >= 18
    for sym, sides in books.items():
        book = state.book(sym)
        assert book.bids() == sorted(sides["Buy"].items(), reverse=True), sym
        assert book.asks() == sorted(sides["Sell"].items()), sym
        assert not book.is_crossed(), sym
        assert f"book:{sym}" in aspects
    for sym, rows in trades.items():
        tape = state.tape(sym)
        assert tape.trades_seen == len(rows), sym
        assert tape.last_trade is not None and tape.last_trade.trade_id == rows[-1]["trdMatchID"]
        # tape sizes add up to every print (nothing lost by aggregation within the ring)
        if len(rows) < tape.maxlen:
            assert sum(r.size for r in tape.rows()) == sum(float(r["size"]) for r in rows)
        # 1m candles equal a direct fold of the prints
        expected: dict[float, list[float]] = {}
        for r in rows:
            ts = parse_time(r["timestamp"])
            assert ts is not None
            k = floor_time(ts, 60)
            p = float(r["price"])
            e = expected.setdefault(k, [p, p, p, p, 0.0])
            e[1], e[2], e[3], e[4] = max(e[1], p), min(e[2], p), p, e[4] + float(r["size"])
        got = {
            b.open_time: [b.open, b.high, b.low, b.close, b.volume]
            for b in state.candles(sym).series("1m").bars()
        }
        assert got == expected, sym
