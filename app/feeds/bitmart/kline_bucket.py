"""Bucketing of legacy kline pushes into candles stamped by their open time.

The legacy kline channel pushes one candle object per message whose `timestamp` is the push
time, not the candle's open time; the candle's open is floor(timestamp / step) * step. A push
whose bucket is older than the newest bucket already seen for that (symbol, step) is stale
and dropped.
"""

from __future__ import annotations


def bucket_open_ms(timestamp_ms: int, step_minutes: int) -> int:
    """Open time (ms) of the candle that contains `timestamp_ms`."""
    width = step_minutes * 60_000
    return (timestamp_ms // width) * width


class KlineBucketer:
    """Newest bucket per (symbol, step); tells whether a push is current."""

    def __init__(self) -> None:
        self._newest: dict[tuple[str, int], int] = {}
        self.stale = 0

    def reset(self) -> None:
        """Forget all buckets (reconnect)."""
        self._newest.clear()

    def accept(self, symbol: str, step: int, timestamp_ms: int) -> int | None:
        """The push's bucket open time, or None when it is older than the newest bucket."""
        open_ms = bucket_open_ms(timestamp_ms, step)
        key = (symbol, step)
        newest = self._newest.get(key)
        if newest is not None and open_ms < newest:
            self.stale += 1
            return None
        self._newest[key] = open_ms
        return open_ms
