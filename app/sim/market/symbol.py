"""One simulated instrument: its book, fair-price random walk, bins and statistics."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

from app.sim.market.bins import TIMEFRAMES, BinSeries
from app.sim.market.book import OrderBook
from app.sim.market.events import Print
from app.sim.market.instruments import InstrumentSpec


@dataclass(slots=True)
class InstrumentStats:
    """Moving instrument statistics (BitMEX instrument-table material, venue-neutral)."""

    last_price: float
    mark_price: float
    fair_price: float
    index_price: float
    prev_price_24h: float
    high_price: float
    low_price: float
    funding_rate: float
    indicative_funding_rate: float
    next_funding: float
    open_interest: int
    volume: int = 0
    volume_24h: int = 0
    turnover: int = 0
    turnover_24h: int = 0
    last_tick_direction: str = "ZeroPlusTick"
    vwap_notional: float = 0.0


class SymbolMarket:
    """Book + fair price + bins + stats of one symbol."""

    def __init__(
        self,
        spec: InstrumentSpec,
        rng: random.Random,
        now: float,
        level_ids: itertools.count[int],
        funding_interval: float,
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.book = OrderBook(level_ids)
        self.fair = spec.start_price
        self.last_walk = now
        self.trades_count = 0
        self.last_print: Print | None = None
        self.bins = {tf: BinSeries(sec, now, spec.start_price) for tf, sec in TIMEFRAMES.items()}
        for series in self.bins.values():
            series.seed_history(rng, spec, spec.start_price)
        self.funding_interval = funding_interval
        start = spec.start_price
        self.stats = InstrumentStats(
            last_price=start,
            mark_price=round(start, spec.decimals + 2),
            fair_price=round(start, spec.decimals + 2),
            index_price=round(start, spec.decimals + 2),
            prev_price_24h=spec.price(spec.ticks(start * (1 + rng.gauss(0, 0.02)))),
            high_price=spec.price(spec.ticks(start * 1.03)),
            low_price=spec.price(spec.ticks(start * 0.97)),
            funding_rate=0.0001,
            indicative_funding_rate=0.0001,
            next_funding=(math.floor(now / funding_interval) + 1) * funding_interval,
            open_interest=rng.randint(50_000, 500_000) * spec.lot_size,
            volume_24h=rng.randint(1_000_000, 9_000_000) * spec.lot_size,
        )
        self.stats.turnover_24h = abs(spec.value(self.stats.volume_24h, start))

    @property
    def fair_ticks(self) -> int:
        """The fair price in ticks."""
        return self.spec.ticks(self.fair)

    def walk(self, now: float) -> None:
        """Advance the fair-price random walk to `now` (log-normal steps, gentle mean pull)."""
        dt = now - self.last_walk
        if dt <= 0:
            return
        self.last_walk = now
        sigma = self.spec.volatility * math.sqrt(dt)
        pull = 0.02 * dt * math.log(self.spec.start_price / self.fair) / 3600.0
        self.fair *= math.exp(self.rng.gauss(0.0, sigma) + pull)

    def mid(self) -> float:
        """Book mid (fair price when a side is empty)."""
        bid = self.book.best("Buy")
        ask = self.book.best("Sell")
        if bid is None or ask is None:
            return self.fair
        return self.spec.price(bid.price + ask.price) / 2

    def record_print(self, side: str, price: float, size: int, ts: float, match_id: str) -> Print:
        """Account one print in counts, stats and bins; returns it with its tick direction."""
        prev = self.last_print
        if prev is None or price == prev.price:
            direction = (
                "ZeroPlusTick"
                if prev is None or prev.tick_direction in ("PlusTick", "ZeroPlusTick")
                else "ZeroMinusTick"
            )
        else:
            direction = "PlusTick" if price > prev.price else "MinusTick"
        p = Print(
            symbol=self.spec.symbol,
            side="Buy" if side == "Buy" else "Sell",
            price=price,
            size=size,
            timestamp=ts,
            match_id=match_id,
            tick_direction=direction,
        )
        self.last_print = p
        self.trades_count += 1
        st = self.stats
        st.last_price = price
        st.last_tick_direction = direction
        st.high_price = max(st.high_price, price)
        st.low_price = min(st.low_price, price)
        st.volume += size
        st.volume_24h += size
        value = abs(self.spec.value(size, price))
        st.turnover += value
        st.turnover_24h += value
        st.vwap_notional += price * size
        st.open_interest = max(0, st.open_interest + self.rng.choice((-1, 1)) * size)
        for series in self.bins.values():
            series.add_trade(self.spec, price, size)
        return p
