"""Turns raw BitMEX table frames into the normalized events the state stores consume.

A deliberately plain re-statement of the table rules (partial replaces, updates merge sparse
rows by key, delete removes), so the state tests do not depend on the feed engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.feeds.events import Bar, Bars, TableRows, Trade, Trades
from app.state.units import parse_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bitmex"

DEFAULT_KEYS = {
    "order": ["orderID"],
    "execution": ["execID"],
    "position": ["account", "symbol"],
    "margin": ["account", "currency"],
    "wallet": ["account", "currency"],
    "instrument": ["symbol"],
    "liquidation": ["orderID"],
}
BIN_SECONDS = {
    "tradeBin1m": ("1m", 60),
    "tradeBin5m": ("5m", 300),
    "tradeBin1h": ("1h", 3600),
    "tradeBin1d": ("1d", 86400),
}


def load(name: str) -> list[Any]:
    """Decoded frames of a tests/fixtures/bitmex file (JSON lines, or one JSON document)."""
    text = (FIXTURES / name).read_text()
    if name.endswith(".json"):
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class MiniEngine:
    """Keyed-table merger producing TableRows / Trades / Bars like the feed engine does."""

    def __init__(self, received_at: float = 1000.0) -> None:
        self.keys: dict[str, list[str]] = {}
        self.rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.received_at = received_at

    def apply(self, msg: Any) -> list[Any]:
        if isinstance(msg, list):  # /realtimemd packet [type, id, topic, payload]
            msg = msg[3]
        table, action, data = msg["table"], msg["action"], msg["data"]
        if table == "trade":
            trades = [
                Trade(
                    "bitmex",
                    r["symbol"],
                    r["side"],
                    float(r["price"]),
                    float(r["size"]),
                    parse_time(r["timestamp"]) or 0.0,
                    r.get("trdMatchID"),
                    r.get("foreignNotional"),
                )
                for r in data
            ]
            return (
                [Trades("bitmex", trades[0].symbol, trades, action == "partial")] if trades else []
            )
        if table in BIN_SECONDS:
            tf, seconds = BIN_SECONDS[table]
            bars = [
                Bar(
                    (parse_time(r["timestamp"]) or 0.0) - seconds,
                    r["open"],
                    r["high"],
                    r["low"],
                    r["close"],
                    r["volume"],
                    r.get("trades"),
                )
                for r in data
            ]
            return (
                [Bars("bitmex", data[0]["symbol"], tf, bars, action == "partial")] if bars else []
            )
        keys = msg.get("keys") or self.keys.get(table) or DEFAULT_KEYS[table]
        self.keys[table] = keys
        store = self.rows.setdefault(table, {})
        if action == "partial":
            store.clear()
        out_rows = []
        for row in data:
            key = tuple(row.get(k) for k in keys)
            if action == "delete":
                old = store.pop(key, None)
                out_rows.append(old if old is not None else dict(row))
            elif action == "update":
                merged = store.get(key)
                if merged is None:  # curated captures skip frames: no row to merge into
                    continue
                merged.update(row)
                out_rows.append(dict(merged))
            else:
                store[key] = dict(row)
                out_rows.append(dict(row))
        return [TableRows("bitmex", table, action, list(keys), out_rows, self.received_at)]

    def apply_all(self, msgs: list[Any]) -> list[Any]:
        out: list[Any] = []
        for msg in msgs:
            out.extend(self.apply(msg))
        return out
