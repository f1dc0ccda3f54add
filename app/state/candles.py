"""Candles per timeframe: venue bins as truth, higher timeframes aggregated, live bars from trades.

Each `CandleSeries` keeps its *closed* bars in growing numpy buffers (amortized O(1) append,
sorted by open time) and the *live* bar (the newest, still changing) as plain Python fields, so a
trade costs a few float operations. `arrays()` returns only the closed bars and `live_bar()` the
live one; `closed_version` changes when a closed bar is added or changed and `live_version` on
every live tick, so a chart can cache the closed candles and redraw only the live one.

Sources and their precedence for one interval (highest wins):
- VENUE: a venue bin for this timeframe (BitMEX tradeBin1m/5m/1h/1d), or an aggregate of venue
  bins of a finer timeframe that covers the whole interval (15m from 5m, 4h from 1h, ...).
  A venue candle whose interval has not ended yet by the store's clock (BitMart pushes the
  candle in progress) is kept as the live bar instead: later pushes replace it and trades
  after its receipt keep updating it.
- PARTIAL: an aggregate of the finer venue bins seen so far for an interval still in progress;
  trades after the covered part keep updating it.
- TRADES: built from prints (time floored to the interval; a new candle opens AT the price of
  the trade that opened it, never at the previous close).
Bars are upserted by open time: a venue snapshot never wipes history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from app.feeds.events import Bar, Bars, Trade, Trades

TIMEFRAMES: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3600,
    "4h": 14400,
    "1d": 86400,
}

RANK_TRADES = 0
RANK_PARTIAL = 1
RANK_VENUE = 2

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def timeframe_seconds(timeframe: str) -> int | None:
    """Seconds of a timeframe label like "1m", "15m", "4h", "1d" (None if not understood)."""
    if timeframe in TIMEFRAMES:
        return TIMEFRAMES[timeframe]
    if len(timeframe) < 2 or timeframe[-1] not in _UNITS or not timeframe[:-1].isdigit():
        return None
    count = int(timeframe[:-1])
    return count * _UNITS[timeframe[-1]] if count > 0 else None


def floor_time(ts: float, interval: int) -> float:
    """Open time of the interval containing `ts` (exact for float epoch seconds)."""
    return ts - (ts % interval)


class _Live:
    """The live bar as plain floats (cheap to update per trade)."""

    __slots__ = ("c", "cover", "h", "l", "o", "rank", "t", "v")

    def __init__(
        self, t: float, o: float, h: float, lo: float, c: float, v: float, rank: int, cover: float
    ) -> None:
        self.t = t
        self.o = o
        self.h = h
        self.l = lo
        self.c = c
        self.v = v
        self.rank = rank
        self.cover = cover


class CandleSeries:
    """OHLCV bars of one timeframe: closed bars in numpy buffers plus one live bar."""

    _FIELDS = ("t", "o", "h", "l", "c", "v", "cover")

    def __init__(self, timeframe: str, interval: int | None = None, capacity: int = 512) -> None:
        seconds = interval if interval is not None else timeframe_seconds(timeframe)
        if seconds is None or seconds <= 0:
            raise ValueError(f"unknown timeframe {timeframe!r}")
        self.timeframe = timeframe
        self.interval = seconds
        cap = max(16, capacity)
        self._buf: dict[str, np.ndarray] = {
            k: np.empty(cap, dtype=np.float64) for k in self._FIELDS
        }
        self._rank = np.empty(cap, dtype=np.int8)
        self._n = 0
        self._live: _Live | None = None
        self.closed_version = 0
        self.live_version = 0

    # ----------------------------------------------------------------- reads
    def __len__(self) -> int:
        return self._n + (1 if self._live is not None else 0)

    @property
    def closed_count(self) -> int:
        """Number of closed bars."""
        return self._n

    @property
    def version(self) -> int:
        """Changes whenever anything in the series changes."""
        return self.closed_version + self.live_version

    def arrays(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Closed bars as read-only float64 views (t, o, h, l, c, v) sorted by open time.

        The live bar is NOT included (see `live_bar()`); views stay valid until the next change.
        """
        n = self._n
        out = []
        for key in ("t", "o", "h", "l", "c", "v"):
            view = self._buf[key][:n]
            view.flags.writeable = False
            out.append(view)
        return out[0], out[1], out[2], out[3], out[4], out[5]

    def all_arrays(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Closed bars plus the live bar appended (copies), e.g. for y-range or readouts."""
        t, o, h, lo, c, v = self.arrays()
        live = self._live
        if live is None:
            return t.copy(), o.copy(), h.copy(), lo.copy(), c.copy(), v.copy()
        return (
            np.append(t, live.t),
            np.append(o, live.o),
            np.append(h, live.h),
            np.append(lo, live.l),
            np.append(c, live.c),
            np.append(v, live.v),
        )

    def live_bar(self) -> Bar | None:
        """The newest, still-changing bar (built from trades or a partial aggregate)."""
        live = self._live
        if live is None:
            return None
        return Bar(live.t, live.o, live.h, live.l, live.c, live.v)

    def bar_at(self, index: int) -> Bar:
        """Closed bar number `index` (negative counts from the end)."""
        n = self._n
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(index)
        b = self._buf
        return Bar(
            float(b["t"][i]),
            float(b["o"][i]),
            float(b["h"][i]),
            float(b["l"][i]),
            float(b["c"][i]),
            float(b["v"][i]),
        )

    def bars(self) -> list[Bar]:
        """Every bar, closed then live, oldest first (for tests and headless output)."""
        out = [self.bar_at(i) for i in range(self._n)]
        live = self.live_bar()
        if live is not None:
            out.append(live)
        return out

    def rank_at(self, open_time: float) -> int | None:
        """Source rank of the bar at `open_time` (RANK_*), None when there is none."""
        live = self._live
        if live is not None and live.t == open_time:
            return live.rank
        i, found = self._find(open_time)
        return int(self._rank[i]) if found else None

    def last_time(self) -> float | None:
        """Open time of the newest bar."""
        if self._live is not None:
            return self._live.t
        return float(self._buf["t"][self._n - 1]) if self._n else None

    # ------------------------------------------------------------ internals
    def _find(self, t: float) -> tuple[int, bool]:
        n = self._n
        if n == 0:
            return 0, False
        times = self._buf["t"]
        last = times[n - 1]
        if t > last:
            return n, False
        if t == last:
            return n - 1, True
        i = int(np.searchsorted(times[:n], t))
        return i, bool(i < n and times[i] == t)

    def _grow(self) -> None:
        cap = len(self._rank) * 2
        for key, arr in self._buf.items():
            new = np.empty(cap, dtype=np.float64)
            new[: self._n] = arr[: self._n]
            self._buf[key] = new
        rank = np.empty(cap, dtype=np.int8)
        rank[: self._n] = self._rank[: self._n]
        self._rank = rank

    def _write_closed(
        self,
        t: float,
        o: float,
        h: float,
        lo: float,
        c: float,
        v: float,
        rank: int,
        cover: float,
        *,
        only_if_rank_ok: bool = True,
    ) -> bool:
        """Insert or replace a closed bar; a lower rank never replaces a venue bar."""
        i, found = self._find(t)
        b = self._buf
        if found:
            if only_if_rank_ok and rank < RANK_VENUE and self._rank[i] == RANK_VENUE:
                return False
        else:
            n = self._n
            if n == len(self._rank):
                self._grow()
                b = self._buf
            if i < n:
                for arr in b.values():
                    arr[i + 1 : n + 1] = arr[i:n]
                self._rank[i + 1 : n + 1] = self._rank[i:n]
            self._n = n + 1
        b["t"][i] = t
        b["o"][i] = o
        b["h"][i] = h
        b["l"][i] = lo
        b["c"][i] = c
        b["v"][i] = v
        b["cover"][i] = cover
        self._rank[i] = rank
        self.closed_version += 1
        return True

    def _close_live(self) -> None:
        live = self._live
        if live is None:
            return
        self._live = None
        self._write_closed(live.t, live.o, live.h, live.l, live.c, live.v, live.rank, live.cover)
        self.live_version += 1

    # ---------------------------------------------------------------- writes
    def add_trade(self, ts: float, price: float, size: float) -> bool:
        """Fold one print into the bar of its interval; returns whether anything changed."""
        interval = self.interval
        t = ts - (ts % interval)
        live = self._live
        if live is not None:
            if t == live.t:
                if live.rank == RANK_PARTIAL and ts < live.cover:
                    return False
                if price > live.h:
                    live.h = price
                if price < live.l:
                    live.l = price
                live.c = price
                live.v += size
                self.live_version += 1
                return True
            if t > live.t:
                self._close_live()
                self._live = _Live(t, price, price, price, price, size, RANK_TRADES, t)
                self.live_version += 1
                return True
        elif self._n == 0 or t > self._buf["t"][self._n - 1]:
            self._live = _Live(t, price, price, price, price, size, RANK_TRADES, t)
            self.live_version += 1
            return True
        return self._late_trade(t, ts, price, size)

    def _late_trade(self, t: float, ts: float, price: float, size: float) -> bool:
        """A print for an interval older than the newest bar (rare: disorder or gaps)."""
        i, found = self._find(t)
        if not found:
            return self._write_closed(t, price, price, price, price, size, RANK_TRADES, t)
        rank = int(self._rank[i])
        b = self._buf
        if rank == RANK_VENUE or (rank == RANK_PARTIAL and ts < b["cover"][i]):
            return False
        b["h"][i] = max(b["h"][i], price)
        b["l"][i] = min(b["l"][i], price)
        b["c"][i] = price
        b["v"][i] += size
        self.closed_version += 1
        return True

    def add_trades(self, trades: Iterable[Trade]) -> bool:
        """Fold prints in order; returns whether anything changed."""
        changed = False
        for trade in trades:
            if self.add_trade(trade.timestamp, trade.price, trade.size):
                changed = True
        return changed

    def set_bar(self, bar: Bar, rank: int = RANK_VENUE, cover: float | None = None) -> bool:
        """Upsert a bar from a venue bin (or an aggregate). Returns whether anything changed.

        A complete bar (RANK_VENUE) is closed; a PARTIAL one for the newest interval becomes the
        live bar, and later trades at or after `cover` keep updating it.
        """
        t = bar.open_time
        end = t + self.interval
        cov = end if cover is None else cover
        live = self._live
        if rank >= RANK_VENUE:
            if live is not None:
                if live.t == t:
                    self._live = None
                    self.live_version += 1
                elif live.t < t:
                    self._close_live()
            return self._write_closed(
                t, bar.open, bar.high, bar.low, bar.close, bar.volume, RANK_VENUE, end
            )
        # lower rank: never replaces a venue bar
        if live is not None and live.t == t:
            self._live = _Live(t, bar.open, bar.high, bar.low, bar.close, bar.volume, rank, cov)
            self.live_version += 1
            return True
        if live is not None and live.t < t:
            self._close_live()
            live = None
        if live is None and (self._n == 0 or t > self._buf["t"][self._n - 1]):
            self._live = _Live(t, bar.open, bar.high, bar.low, bar.close, bar.volume, rank, cov)
            self.live_version += 1
            return True
        return self._write_closed(t, bar.open, bar.high, bar.low, bar.close, bar.volume, rank, cov)

    def window(
        self, start: float, end: float
    ) -> list[tuple[float, float, float, float, float, float, int]]:
        """Bars (t, o, h, l, c, v, rank) with start <= t < end, closed and live, oldest first."""
        n = self._n
        times = self._buf["t"][:n]
        lo = int(np.searchsorted(times, start, side="left"))
        hi = int(np.searchsorted(times, end, side="left"))
        b = self._buf
        out = [
            (
                float(b["t"][i]),
                float(b["o"][i]),
                float(b["h"][i]),
                float(b["l"][i]),
                float(b["c"][i]),
                float(b["v"][i]),
                int(self._rank[i]),
            )
            for i in range(lo, hi)
        ]
        live = self._live
        if live is not None and start <= live.t < end:
            out.append((live.t, live.o, live.h, live.l, live.c, live.v, live.rank))
        return out

    def clear(self) -> None:
        """Drop every bar."""
        self._n = 0
        self._live = None
        self.closed_version += 1
        self.live_version += 1


class CandleStore:
    """All timeframes of one symbol. Venue timeframes come from Bars; the others are aggregated
    from the coarsest venue timeframe that divides them (15m from 5m, 4h from 1h); every
    timeframe is also built live from trades."""

    def __init__(
        self,
        timeframes: Iterable[str] = TIMEFRAMES,
        clock: Callable[[], float] | None = time.time,
        clock_skew: float = 1.0,
    ) -> None:
        self.clock = clock
        # A bin that ends less than this before the local clock's now still counts as closed,
        # so a local clock slightly behind the venue's does not turn closed bins into live ones.
        self.clock_skew = clock_skew
        self._series: dict[str, CandleSeries] = {tf: CandleSeries(tf) for tf in timeframes}
        self._ordered: list[CandleSeries] = sorted(self._series.values(), key=lambda s: s.interval)
        self._venue_fed: set[str] = set()
        self.version = 0

    @property
    def timeframes(self) -> list[str]:
        """Timeframes held, shortest first."""
        return [s.timeframe for s in self._ordered]

    @property
    def venue_timeframes(self) -> set[str]:
        """Timeframes that received venue bins."""
        return set(self._venue_fed)

    def series(self, timeframe: str) -> CandleSeries:
        """The series of one timeframe (created on demand for a new valid label)."""
        s = self._series.get(timeframe)
        if s is None:
            s = CandleSeries(timeframe)  # raises ValueError for nonsense labels
            self._series[timeframe] = s
            self._ordered = sorted(self._series.values(), key=lambda x: x.interval)
        return s

    def apply_trades(self, ev: Trades) -> bool:
        """Fold prints into the live bar of every timeframe."""
        trades = ev.trades
        if not trades:
            return False
        changed = False
        for s in self._ordered:
            if s.add_trades(trades):
                changed = True
        if changed:
            self.version += 1
        return changed

    def _source_for(self, target: CandleSeries) -> CandleSeries | None:
        if target.timeframe in self._venue_fed:
            return None
        best: CandleSeries | None = None
        for tf in self._venue_fed:
            src = self._series[tf]
            divides = src.interval < target.interval and target.interval % src.interval == 0
            if divides and (best is None or src.interval > best.interval):
                best = src
        return best

    def apply_bars(self, ev: Bars) -> bool:
        """Upsert venue bins (venue is truth) and re-aggregate the timeframes built from them."""
        if not ev.bars:
            return False
        try:
            src = self.series(ev.timeframe)
        except ValueError:
            return False
        self._venue_fed.add(ev.timeframe)
        changed = False
        now = self.clock() if self.clock is not None else None
        for bar in ev.bars:
            if now is not None and bar.open_time + src.interval > now + self.clock_skew:
                ok = src.set_bar(bar, RANK_PARTIAL, cover=max(now, bar.open_time))
            else:
                ok = src.set_bar(bar, RANK_VENUE)
            if ok:
                changed = True
        for target in self._ordered:
            if self._source_for(target) is not src:
                continue
            buckets = sorted({floor_time(b.open_time, target.interval) for b in ev.bars})
            for start in buckets:
                if self._rebuild(target, src, start):
                    changed = True
        if changed:
            self.version += 1
        return changed

    def _rebuild(self, target: CandleSeries, src: CandleSeries, start: float) -> bool:
        """Aggregate the source bars of one target interval into the target series."""
        rows = src.window(start, start + target.interval)
        if not rows:
            return False
        venue_end = start
        complete = False
        last_piece = start + target.interval - src.interval
        for t, *_rest, rank in rows:
            if rank == RANK_VENUE:
                venue_end = max(venue_end, t + src.interval)
                if t == last_piece:
                    complete = True
        if venue_end == start:
            return False
        bar = Bar(
            start,
            rows[0][1],
            max(r[2] for r in rows),
            min(r[3] for r in rows),
            rows[-1][4],
            float(sum(r[5] for r in rows)),
        )
        if complete:
            return target.set_bar(bar, RANK_VENUE)
        return target.set_bar(bar, RANK_PARTIAL, cover=venue_end)

    def clear(self) -> None:
        """Drop every bar of every timeframe."""
        for s in self._ordered:
            s.clear()
        self._venue_fed.clear()
        self.version += 1
