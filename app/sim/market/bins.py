"""Trade bins (OHLCV candles) stamped by their END time, with a plausible back-history."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass

from app.sim.market.instruments import InstrumentSpec

TIMEFRAMES: dict[str, int] = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
HISTORY_BINS = 500


@dataclass(slots=True)
class Bin:
    """One closed or accumulating bin. `end` is the bin's end time (epoch seconds)."""

    end: float
    open: float
    high: float
    low: float
    close: float
    trades: int = 0
    volume: int = 0
    turnover: int = 0
    home_notional: float = 0.0
    foreign_notional: float = 0.0
    last_size: int | None = None
    notional_px: float = 0.0  # sum(price * size) for the vwap

    @property
    def vwap(self) -> float | None:
        """Volume-weighted price, None for an empty bin."""
        return self.notional_px / self.volume if self.volume else None


class BinSeries:
    """Closed bins of one timeframe (bounded history) plus the bin being filled."""

    def __init__(self, interval: int, now: float, price: float) -> None:
        self.interval = interval
        self.history: deque[Bin] = deque(maxlen=HISTORY_BINS)
        end = (math.floor(now / interval) + 1) * interval
        self.current = Bin(end=end, open=price, high=price, low=price, close=price)

    def add_trade(self, spec: InstrumentSpec, price: float, size: int) -> None:
        """Account one print in the current bin."""
        cur = self.current
        if cur.trades == 0:
            cur.open = cur.high = cur.low = price
        cur.high = max(cur.high, price)
        cur.low = min(cur.low, price)
        cur.close = price
        cur.trades += 1
        cur.volume += size
        cur.turnover += abs(spec.value(size, price))
        cur.home_notional += spec.home_notional(size, price)
        cur.foreign_notional += spec.foreign_notional(size, price)
        cur.last_size = size
        cur.notional_px += price * size

    def roll(self, now: float) -> list[Bin]:
        """Close every bin whose end time has passed; empty bins carry the last close."""
        closed: list[Bin] = []
        while now >= self.current.end:
            done = self.current
            self.history.append(done)
            closed.append(done)
            c = done.close
            self.current = Bin(end=done.end + self.interval, open=c, high=c, low=c, close=c)
        return closed

    def seed_history(self, rng: random.Random, spec: InstrumentSpec, price: float) -> None:
        """Fill `history` with bins walking backwards from `price` (the live price)."""
        sigma = spec.volatility * math.sqrt(self.interval) * 1.2
        bins: list[Bin] = []
        close = price
        end = self.current.end - self.interval
        for _ in range(HISTORY_BINS):
            open_ = close * math.exp(rng.gauss(0.0, sigma))
            hi = max(open_, close) * (1 + abs(rng.gauss(0.0, sigma / 2)))
            lo = min(open_, close) * (1 - abs(rng.gauss(0.0, sigma / 2)))
            o, h, lo_, c = (spec.price(spec.ticks(x)) for x in (open_, hi, lo, close))
            trades = int(rng.randint(20, 400) * math.sqrt(self.interval / 60))
            volume = trades * rng.randint(1, 30) * spec.lot_size
            vwap = (o + h + lo_ + c) / 4
            bins.append(
                Bin(
                    end=end,
                    open=o,
                    high=h,
                    low=lo_,
                    close=c,
                    trades=trades,
                    volume=volume,
                    turnover=abs(spec.value(volume, vwap)),
                    home_notional=spec.home_notional(volume, vwap),
                    foreign_notional=spec.foreign_notional(volume, vwap),
                    last_size=rng.randint(1, 500) * spec.lot_size,
                    notional_px=vwap * volume,
                )
            )
            close = open_
            end -= self.interval
        self.history.extend(reversed(bins))
        self.current.open = self.current.high = self.current.low = self.current.close = price
