"""L2 order book: one sorted map per side, O(log n) per level, grouping by exact tick arithmetic."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sortedcontainers import SortedDict

from app.feeds.events import BookLevels, PriceSize, Side
from app.state.units import tick_decimals

# When nobody drains take_changed_prices() (headless runs), the set is dropped past this size:
# flashes are cosmetic, memory is not.
FLASH_SET_LIMIT = 20_000


class L2Book:
    """Price -> size per side. Bids and asks are read best first.

    Prices are kept as the venue's own floats. Lookups by a computed price (for example a ladder
    row at `k * tick`) snap to the nearest stored level within half a tick, so float noise in
    the caller's arithmetic never misses a level.
    """

    def __init__(self, symbol: str = "", tick_size: float | None = None) -> None:
        self.symbol = symbol
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self._changed: set[float] = set()
        self._tick: float | None = None
        self._decimals = 8
        self.tick_size = tick_size
        self.version = 0
        self.timestamp: float | None = None
        self.snapshots = 0
        # True while the venue state behind this book is void (reset or resync) and no fresh
        # snapshot has arrived yet; the book is empty then.
        self.stale = False

    # ------------------------------------------------------------------ tick
    @property
    def tick_size(self) -> float | None:
        """Minimum price increment, or None when unknown."""
        return self._tick

    @tick_size.setter
    def tick_size(self, tick: float | None) -> None:
        self._tick = tick if tick is not None and tick > 0 else None
        self._decimals = tick_decimals(self._tick)

    @property
    def price_decimals(self) -> int:
        """Decimals that print every multiple of the tick exactly."""
        return self._decimals

    # ----------------------------------------------------------------- apply
    def apply(self, ev: BookLevels) -> None:
        """Apply a snapshot (replace everything) or a delta (size <= 0 removes the price)."""
        if ev.snapshot:
            self._replace(ev.bids, ev.asks)
        else:
            changed = self._changed
            self._apply_side(self._bids, ev.bids, changed)
            self._apply_side(self._asks, ev.asks, changed)
            if len(changed) > FLASH_SET_LIMIT:
                changed.clear()
        if ev.timestamp is not None:
            self.timestamp = ev.timestamp
        self.version += 1

    @staticmethod
    def _apply_side(book: SortedDict, levels: list[PriceSize], changed: set[float]) -> None:
        for price, size in levels:
            if price != price:  # NaN can't be ordered; ignore the level
                continue
            if size > 0:
                book[price] = size
            else:
                book.pop(price, None)
            changed.add(price)

    def _replace(self, bids: list[PriceSize], asks: list[PriceSize]) -> None:
        new_bids = SortedDict({p: s for p, s in bids if s > 0 and p == p})
        new_asks = SortedDict({p: s for p, s in asks if s > 0 and p == p})
        if self._bids or self._asks:
            changed = self._changed
            for old, new in ((self._bids, new_bids), (self._asks, new_asks)):
                for price, size in new.items():
                    if old.get(price) != size:
                        changed.add(price)
                for price in old:
                    if price not in new:
                        changed.add(price)
            if len(changed) > FLASH_SET_LIMIT:
                changed.clear()
        self._bids = new_bids
        self._asks = new_asks
        self.snapshots += 1
        self.stale = False

    def clear(self, stale: bool = False) -> None:
        """Drop every level (reset/resync); `stale=True` marks it as awaiting a snapshot."""
        if self._bids or self._asks:
            self._changed.clear()
        self._bids = SortedDict()
        self._asks = SortedDict()
        self.stale = stale
        self.version += 1

    def take_changed_prices(self) -> set[float]:
        """Prices whose size changed since the last call (for the ladder's flash)."""
        changed = self._changed
        self._changed = set()
        return changed

    # ----------------------------------------------------------------- reads
    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)

    def best_bid(self) -> tuple[float, float] | None:
        """(price, size) of the highest bid."""
        if not self._bids:
            return None
        price, size = self._bids.peekitem(-1)
        return price, size

    def best_ask(self) -> tuple[float, float] | None:
        """(price, size) of the lowest ask."""
        if not self._asks:
            return None
        price, size = self._asks.peekitem(0)
        return price, size

    def spread(self) -> float | None:
        """Best ask minus best bid (rounded to the tick's decimals), None if a side is empty."""
        if not self._bids or not self._asks:
            return None
        return round(self._asks.peekitem(0)[0] - self._bids.peekitem(-1)[0], self._decimals + 2)

    def mid(self) -> float | None:
        """Midpoint of the best prices, None if a side is empty."""
        if not self._bids or not self._asks:
            return None
        return (self._asks.peekitem(0)[0] + self._bids.peekitem(-1)[0]) / 2.0

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (a book that cannot be right)."""
        if not self._bids or not self._asks:
            return False
        return bool(self._bids.peekitem(-1)[0] >= self._asks.peekitem(0)[0])

    def bids(self, n: int | None = None) -> list[tuple[float, float]]:
        """Bid levels, best (highest) first; at most n."""
        if n is not None and n <= 0:
            return []
        book = self._bids
        keys = book.keys()
        chosen = keys[-n:] if n is not None and n < len(keys) else list(keys)
        return [(p, book[p]) for p in reversed(chosen)]

    def asks(self, n: int | None = None) -> list[tuple[float, float]]:
        """Ask levels, best (lowest) first; at most n."""
        if n is not None and n <= 0:
            return []
        book = self._asks
        keys = book.keys()
        chosen = keys[:n] if n is not None else list(keys)
        return [(p, book[p]) for p in chosen]

    def depth(self, side: Side) -> int:
        """Number of levels on one side."""
        return len(self._bids if side == "Buy" else self._asks)

    def _side(self, side: Side) -> SortedDict:
        return self._bids if side == "Buy" else self._asks

    def _tolerance(self, price: float) -> float:
        if self._tick is not None:
            return self._tick * 0.5
        return abs(price) * 1e-12

    def size_at(self, side: Side, price: float) -> float:
        """Size at `price` on one side (0.0 if none); computed prices snap within 1/2 tick."""
        book = self._side(side)
        size = book.get(price)
        if size is not None:
            return float(size)
        tol = self._tolerance(price)
        if tol <= 0:
            return 0.0
        best: float | None = None
        for p in book.irange(price - tol, price + tol, inclusive=(False, False)):
            if best is None or abs(p - price) < abs(best - price):
                best = p
        return float(book[best]) if best is not None else 0.0

    def levels_between(self, side: Side, low: float, high: float) -> list[tuple[float, float]]:
        """Levels with low <= price <= high on one side, best first."""
        if high < low:
            low, high = high, low
        book = self._side(side)
        eps = self._tolerance(max(abs(low), abs(high))) * 1e-3
        keys = book.irange(low - eps, high + eps, reverse=(side == "Buy"))
        return [(p, book[p]) for p in keys]

    def _iter_best_first(self, side: Side) -> Iterator[tuple[float, float]]:
        book = self._side(side)
        keys: Iterable[float] = reversed(book.keys()) if side == "Buy" else book.keys()
        for p in keys:
            yield p, book[p]

    # -------------------------------------------------------------- grouping
    def round_price(self, price: float) -> float:
        """`price` snapped to the nearest tick and printed-exact (float noise removed)."""
        tick = self._tick
        if tick is None:
            return price
        return round(round(price / tick) * tick, self._decimals)

    def bucket_price(self, side: Side, price: float, group: float) -> float:
        """The group row a price falls in: bids floor to the group step, asks ceil."""
        tick = self._tick
        if tick is not None:
            step = max(1, round(group / tick)) if group > 0 else 1
            ticks = round(price / tick)
            bucket = (ticks // step) * step if side == "Buy" else -((-ticks) // step) * step
            return round(bucket * tick, self._decimals)
        if group <= 0:
            return price
        g = Decimal(repr(group))
        q = (Decimal(repr(price)) / g).to_integral_value(
            ROUND_FLOOR if side == "Buy" else ROUND_CEILING
        )
        return float(q * g)

    def group_step(self, group: float) -> float:
        """The group actually used: a whole multiple (>= 1) of the tick when the tick is known."""
        tick = self._tick
        if tick is None or group <= 0:
            return group if group > 0 else (tick or 0.0)
        return round(max(1, round(group / tick)) * tick, self._decimals)

    def grouped(self, side: Side, group: float, n: int) -> list[tuple[float, float, float]]:
        """Up to n grouped rows (price, size, cumulative size), best first.

        Bids floor to the group step and asks ceil, so a group never mixes prices that would be
        on the wrong side of the row's label. With a known tick all arithmetic is on integer
        tick counts (exact for 0.5 and 1e-8 ticks); without one it is done with Decimal.
        """
        out: list[tuple[float, float, float]] = []
        if n <= 0:
            return out
        tick = self._tick
        is_bid = side == "Buy"
        cum = 0.0
        cur_key: int | Decimal | None = None
        acc = 0.0
        if tick is not None:
            return self._grouped_ticks(is_bid, tick, group, n)
        if group <= 0:
            for price, size in self._iter_best_first(side):
                cum += size
                out.append((price, size, cum))
                if len(out) >= n:
                    break
            return out
        g = Decimal(repr(group))
        rounding = ROUND_FLOOR if is_bid else ROUND_CEILING
        for price, size in self._iter_best_first(side):
            dkey = (Decimal(repr(price)) / g).to_integral_value(rounding)
            if dkey != cur_key:
                if cur_key is not None:
                    cum += acc
                    out.append((float(Decimal(cur_key) * g), acc, cum))
                    if len(out) >= n:
                        return out
                cur_key = dkey
                acc = 0.0
            acc += size
        if cur_key is not None:
            cum += acc
            out.append((float(Decimal(cur_key) * g), acc, cum))
        return out

    def _grouped_ticks(
        self, is_bid: bool, tick: float, group: float, n: int
    ) -> list[tuple[float, float, float]]:
        """Grouping on integer tick counts; one bisect per row and C-level sums of the sizes.

        A level belongs to tick count round(price / tick); the row with tick count K holds
        [K, K + step) for bids and (K - step, K] for asks, i.e. prices within half a tick of
        those counts, so each row is a single key range of the sorted side.
        """
        out: list[tuple[float, float, float]] = []
        book = self._bids if is_bid else self._asks
        if not book:
            return out
        size_of = book.__getitem__
        irange = book.irange
        step = max(1, round(group / tick)) if group > 0 else 1
        decimals = self._decimals
        half = tick * 0.5
        cum = 0.0
        price: float | None = book.peekitem(-1 if is_bid else 0)[0]
        while price is not None and len(out) < n:
            ticks = round(price / tick)
            if is_bid:
                row = (ticks // step) * step
                low = row * tick - half
                size = float(sum(map(size_of, irange(low, price, inclusive=(True, True)))))
                price = next(irange(maximum=low, inclusive=(True, False), reverse=True), None)
            else:
                row = -((-ticks) // step) * step
                high = row * tick + half
                size = float(sum(map(size_of, irange(price, high, inclusive=(True, False)))))
                price = next(irange(minimum=high), None)
            cum += size
            out.append((round(row * tick, decimals), size, cum))
        return out

    def grouped_between(
        self, side: Side, group: float, low: float, high: float
    ) -> dict[float, float]:
        """Grouped sizes {row price: size} for levels within [low, high] (ladder rows)."""
        out: dict[float, float] = {}
        for price, size in self.levels_between(side, low, high):
            key = self.bucket_price(side, price, group)
            out[key] = out.get(key, 0.0) + size
        return out

    def total_size(self, side: Side, n: int | None = None) -> float:
        """Sum of sizes of the best n levels on one side (all levels when n is None)."""
        levels = self.bids(n) if side == "Buy" else self.asks(n)
        return float(sum(s for _, s in levels))

    def imbalance(self, n: int = 10) -> float | None:
        """(bid size - ask size) / (bid size + ask size) over the best n levels, in [-1, 1]."""
        bid = self.total_size("Buy", n)
        ask = self.total_size("Sell", n)
        total = bid + ask
        return (bid - ask) / total if total > 0 else None
