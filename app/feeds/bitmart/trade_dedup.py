"""De-duplication of the legacy trade channel, which has no trade id.

Every push carries the most recent trades, newest first, and may repeat trades already sent.
A trade is identified by (time, price, count, side) with exact Decimal values. Identical keys
can be genuinely different prints (same millisecond, same size), so the de-duplicator keeps a
count per key: a push containing a key k times adds only the occurrences beyond those seen.
Keys older than the retention horizon are forgotten; trades older than that horizon are
treated as already seen.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import NamedTuple


class TradeKey(NamedTuple):
    """Exact identity of a legacy trade."""

    time_ms: int
    price: Decimal
    qty: Decimal
    side: str


class TradeDeduper:
    """Counts of trade keys seen per symbol, bounded by a time horizon (ms)."""

    def __init__(self, horizon_ms: int = 10 * 60 * 1000) -> None:
        self.horizon_ms = horizon_ms
        self._seen: Counter[TradeKey] = Counter()
        self._newest_ms: int | None = None
        self.duplicates = 0

    def reset(self) -> None:
        """Forget everything (a new subscription image follows)."""
        self._seen.clear()
        self._newest_ms = None

    @property
    def is_fresh(self) -> bool:
        """True before the first trade of a subscription was seen."""
        return self._newest_ms is None

    def new_trades(self, keys: list[TradeKey]) -> list[int]:
        """Indices (into `keys`) of the trades not seen before."""
        floor = None if self._newest_ms is None else self._newest_ms - self.horizon_ms
        in_push: Counter[TradeKey] = Counter()
        fresh: list[int] = []
        for index, key in enumerate(keys):
            in_push[key] += 1
            if floor is not None and key.time_ms < floor:
                self.duplicates += 1
                continue
            if in_push[key] > self._seen[key]:
                fresh.append(index)
            else:
                self.duplicates += 1
        for key, count in in_push.items():
            if count > self._seen[key]:
                self._seen[key] = count
        if keys:
            newest = max(k.time_ms for k in keys)
            if self._newest_ms is None or newest > self._newest_ms:
                self._newest_ms = newest
        self._prune()
        return fresh

    def _prune(self) -> None:
        if self._newest_ms is None:
            return
        floor = self._newest_ms - self.horizon_ms
        if len(self._seen) > 64:
            for key in [k for k in self._seen if k.time_ms < floor]:
                del self._seen[key]
