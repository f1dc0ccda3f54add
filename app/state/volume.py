"""Traded volume at price (buy/sell split) for the ladder, resettable, optionally over a window."""

from __future__ import annotations

from collections import deque

from app.feeds.events import Trades
from app.state.units import tick_decimals


class VolumeAtPrice:
    """Aggressor volume per price since the last reset, or over the last `window` seconds.

    Prices snap to the tick (when known) so a ladder row looks its volume up exactly. The
    window is measured in trade time (the newest print's timestamp), not wall time.
    """

    def __init__(self, tick_size: float | None = None, window: float | None = None) -> None:
        self._levels: dict[float, list[float]] = {}
        self._recent: deque[tuple[float, float, bool, float]] = deque()
        self._tick: float | None = None
        self._decimals = 8
        self.tick_size = tick_size
        self.window = window
        self.started_at: float | None = None
        self.version = 0

    @property
    def tick_size(self) -> float | None:
        """Tick used to snap prices."""
        return self._tick

    @tick_size.setter
    def tick_size(self, tick: float | None) -> None:
        self._tick = tick if tick is not None and tick > 0 else None
        self._decimals = tick_decimals(self._tick)

    def _key(self, price: float) -> float:
        tick = self._tick
        if tick is None:
            return price
        return round(round(price / tick) * tick, self._decimals)

    def apply(self, ev: Trades) -> None:
        """Add prints."""
        if not ev.trades:
            return
        levels = self._levels
        windowed = self.window is not None
        for trade in ev.trades:
            key = self._key(trade.price)
            cell = levels.get(key)
            if cell is None:
                cell = levels[key] = [0.0, 0.0]
            is_buy = trade.side == "Buy"
            cell[0 if is_buy else 1] += trade.size
            if windowed:
                self._recent.append((trade.timestamp, key, is_buy, trade.size))
            if self.started_at is None:
                self.started_at = trade.timestamp
        if windowed:
            self._expire(ev.trades[-1].timestamp)
        self.version += 1

    def _expire(self, now: float) -> None:
        window = self.window
        if window is None:
            return
        cutoff = now - window
        recent = self._recent
        levels = self._levels
        while recent and recent[0][0] < cutoff:
            _, key, is_buy, size = recent.popleft()
            cell = levels.get(key)
            if cell is None:
                continue
            cell[0 if is_buy else 1] -= size
            if cell[0] <= 1e-12 and cell[1] <= 1e-12:
                del levels[key]
        self.started_at = recent[0][0] if recent else None

    def set_window(self, window: float | None) -> None:
        """Change the window (None = since reset); clears the accumulated volume."""
        self.window = window
        self.reset()

    def reset(self) -> None:
        """Start counting from zero."""
        self._levels.clear()
        self._recent.clear()
        self.started_at = None
        self.version += 1

    def at(self, price: float) -> tuple[float, float]:
        """(buy volume, sell volume) at a price."""
        cell = self._levels.get(self._key(price))
        return (cell[0], cell[1]) if cell else (0.0, 0.0)

    def levels(self) -> dict[float, tuple[float, float]]:
        """{price: (buy, sell)} for every price traded."""
        return {p: (c[0], c[1]) for p, c in self._levels.items()}

    def max_total(self) -> float:
        """Largest buy+sell volume at any price (for bar scaling)."""
        return max((c[0] + c[1] for c in self._levels.values()), default=0.0)
