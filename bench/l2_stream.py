"""A deterministic orderBookL2 stream as raw JSON frames, shaped like the current BitMEX feed.

One partial of N levels (half bids, half asks, 0.5 ticks around a mid), then messages of 1-20
rows of one action each (update / insert / delete, all keyed by arbitrary level ids, every row
carrying price and timestamp as the feed has since 2023), with trade inserts mixed in. A trade
partial comes with the book's, as after subscribing to both, so the trade inserts are applied
like in the real client rather than dropped. The generator keeps its own book so every update
and delete names a live level.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from sortedcontainers import SortedList

SYMBOL = "XBTUSD"
TICK = 0.5
MID = 60_000.0
_KEYS = ["symbol", "id", "side"]
_TYPES = {
    "symbol": "symbol",
    "id": "long",
    "side": "symbol",
    "size": "long",
    "price": "float",
    "timestamp": "timestamp",
}


@dataclass
class Stream:
    """The frames of one benchmark run."""

    levels: int
    skew: float | None
    partial: str
    trade_partial: str  # the trade subscription's image: trade inserts are applied, not dropped
    deltas: list[str]  # orderBookL2 insert/update/delete and trade inserts, in wire order
    delta_rows: int
    trade_frames: int


class _Side:
    """Live and free price slots of one side, sorted so that levels can be picked by their
    distance from the touch."""

    def __init__(self, prices: list[float], best_is_high: bool) -> None:
        self.free = SortedList(prices)
        self.live = SortedList()
        self.ids: dict[float, int] = {}
        self.best_is_high = best_is_high

    def _index(self, size: int, rng: random.Random, skew: float | None) -> int:
        """A rank from the touch: exponential with mean `skew` levels, or uniform if None."""
        if skew is None:
            return rng.randrange(size)
        rank = min(int(rng.expovariate(1.0 / skew)), size - 1)
        return size - 1 - rank if self.best_is_high else rank

    def open(
        self, rng: random.Random, next_id: int, skew: float | None = None
    ) -> tuple[float, int]:
        price = float(self.free.pop(self._index(len(self.free), rng, skew)))
        self.live.add(price)
        self.ids[price] = next_id
        return price, next_id

    def close(self, rng: random.Random, skew: float | None) -> tuple[float, int]:
        price = float(self.live.pop(self._index(len(self.live), rng, skew)))
        self.free.add(price)
        return price, self.ids.pop(price)

    def pick(self, rng: random.Random, skew: float | None) -> tuple[float, int]:
        price = float(self.live[self._index(len(self.live), rng, skew)])
        return price, self.ids[price]


def _price(row: dict[str, object]) -> float:
    price = row["price"]
    assert isinstance(price, float)
    return price


def _stamp(base: datetime, ms: int) -> str:
    return (base + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _trade(ts: str, side: str, size: int, price: float, match: int) -> dict[str, object]:
    """One trade row as the feed sends it."""
    return {
        "timestamp": ts,
        "symbol": SYMBOL,
        "side": side,
        "size": size,
        "price": price,
        "tickDirection": "ZeroPlusTick",
        "trdMatchID": f"00000000-006d-1000-0000-{match:012x}",
        "grossValue": 1000,
        "homeNotional": 0.001,
        "foreignNotional": 60.0,
        "trdType": "Regular",
    }


def make_stream(levels: int, messages: int, skew: float | None = 100.0, seed: int = 7) -> Stream:
    """A partial of `levels` levels followed by `messages` delta frames (about 1 in 10 trades).

    `skew`: mean distance from the touch, in levels, of the levels that change (activity
    concentrates near the best prices, as on a real book); None spreads it uniformly over the
    whole book (the cache worst case).
    """
    rng = random.Random(seed)
    half = levels // 2
    slots = half + half // 2 + 20  # a third of the band stays free for inserts
    bids = _Side([MID - TICK * (k + 1) for k in range(slots)], best_is_high=True)
    asks = _Side([MID + TICK * k for k in range(slots)], best_is_high=False)
    base = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    next_id = 1_000_000_000
    clock = 0
    rows: list[dict[str, object]] = []
    for side_name, side in (("Sell", asks), ("Buy", bids)):
        for _ in range(half):
            price, level_id = side.open(rng, next_id, skew=1.0)
            next_id += rng.randrange(1, 50)
            rows.append(
                {
                    "symbol": SYMBOL,
                    "id": level_id,
                    "side": side_name,
                    "size": rng.randrange(1, 500) * 100,
                    "price": price,
                    "timestamp": _stamp(base, clock),
                }
            )
    rows.sort(key=_price, reverse=True)  # the server sends the partial by price, descending
    partial = {
        "table": "orderBookL2",
        "action": "partial",
        "keys": _KEYS,
        "types": _TYPES,
        "foreignKeys": {"symbol": "instrument", "side": "side"},
        "attributes": {"symbol": "grouped"},
        "filter": {"symbol": SYMBOL},
        "data": rows,
    }
    trade_partial = {
        "table": "trade",
        "action": "partial",
        "keys": [],
        "filter": {"symbol": SYMBOL},
        "data": [_trade(_stamp(base, clock), "Buy", 100, MID, k) for k in range(10)],
    }
    deltas: list[str] = []
    delta_rows = 0
    trade_frames = 0
    last_price = MID
    for _ in range(messages):
        clock += rng.randrange(1, 40)
        ts = _stamp(base, clock)
        if rng.random() < 0.1:
            n = rng.randrange(1, 4)
            side_name = "Buy" if rng.random() < 0.5 else "Sell"
            trades = [
                _trade(ts, side_name, rng.randrange(1, 50) * 100, last_price, rng.randrange(16**12))
                for _ in range(n)
            ]
            frame = {"table": "trade", "action": "insert", "data": trades}
            deltas.append(orjson.dumps(frame).decode())
            trade_frames += 1
            continue
        roll = rng.random()
        action = "update" if roll < 0.6 else "insert" if roll < 0.8 else "delete"
        n = rng.randrange(1, 21)
        data: list[dict[str, object]] = []
        used: set[tuple[str, int]] = set()
        for _ in range(n):
            side_name = "Buy" if rng.random() < 0.5 else "Sell"
            side = bids if side_name == "Buy" else asks
            if action == "insert":
                price, level_id = side.open(rng, next_id, skew)
                next_id += rng.randrange(1, 50)
            elif action == "delete":
                price, level_id = side.close(rng, skew)
            else:
                price, level_id = side.pick(rng, skew)
                if (side_name, level_id) in used:
                    continue
            row: dict[str, object] = {"symbol": SYMBOL, "id": level_id, "side": side_name}
            if action != "delete":
                row["size"] = rng.randrange(1, 500) * 100
            row["price"] = price
            row["timestamp"] = ts
            used.add((side_name, level_id))
            data.append(row)
            last_price = price
        delta_rows += len(data)
        deltas.append(
            orjson.dumps({"table": "orderBookL2", "action": action, "data": data}).decode()
        )
    return Stream(
        levels,
        skew,
        orjson.dumps(partial).decode(),
        orjson.dumps(trade_partial).decode(),
        deltas,
        delta_rows,
        trade_frames,
    )
