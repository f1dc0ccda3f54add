"""A client applying the simulator's deltas ends with exactly the simulator's book.

Each public book table is consumed on its own socket through BitmexEngine into app.state's
L2Book; after a freeze every book is compared with `SimServer.truth()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import BookLevels, Quote, TableRows, Trades
from app.sim import SimConfig, SimServer
from app.state.book import L2Book

SYMBOLS = ["XBTUSD", "ETHUSD"]
TICKS = {"XBTUSD": 0.5, "ETHUSD": 0.05}


@dataclass
class Consumer:
    """One socket subscribed to one table for every symbol, applied through the engine."""

    table: str
    ws: ClientConnection
    engine: BitmexEngine = field(default_factory=BitmexEngine)
    books: dict[str, L2Book] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    instruments: dict[str, dict[str, object]] = field(default_factory=dict)
    trades: int = 0
    frames: int = 0
    pong: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        async for frame in self.ws:
            assert isinstance(frame, str)
            if frame == "pong":
                self.pong.set()
                continue
            self.frames += 1
            for ev in self.engine.apply(frame):
                if isinstance(ev, BookLevels):
                    book = self.books.setdefault(ev.symbol, L2Book(ev.symbol, TICKS[ev.symbol]))
                    book.apply(ev)
                elif isinstance(ev, Quote):
                    self.quotes[ev.symbol] = ev
                elif isinstance(ev, Trades):
                    self.trades += len(ev.trades)
                elif isinstance(ev, TableRows) and ev.table == "instrument":
                    for row in ev.rows:
                        self.instruments[row["symbol"]] = row

    async def sync(self) -> None:
        self.pong.clear()
        await self.ws.send("ping")
        await asyncio.wait_for(self.pong.wait(), 5.0)


async def _consumers(sim: SimServer, tables: list[str]) -> list[Consumer]:
    out = []
    for table in tables:
        ws = await connect(sim.url, max_queue=None)
        consumer = Consumer(table, ws)
        await ws.send(
            '{"op":"subscribe","args":[' + ",".join(f'"{table}:{s}"' for s in SYMBOLS) + "]}"
        )
        out.append(consumer)
    return out


def _levels(book: L2Book) -> tuple[list[list[float]], list[list[float]]]:
    return [list(x) for x in book.bids()], [list(x) for x in book.asks()]


async def _run_and_compare(sim: SimServer, seconds: float, burst: float | None = None) -> None:
    tables = ["orderBookL2", "orderBookL2_25", "orderBook10", "quote", "trade", "instrument"]
    consumers = await _consumers(sim, tables)
    readers = [asyncio.create_task(c.read()) for c in consumers]
    try:
        if burst is not None:
            sim.burst(burst, seconds)
        await asyncio.sleep(seconds)
        sim.freeze()
        for c in consumers:
            await c.sync()
        by_table = {c.table: c for c in consumers}
        for sym in SYMBOLS:
            truth = sim.truth(sym)
            assert truth["bids"] and truth["asks"]
            assert truth["bids"][0][0] < truth["asks"][0][0]
            l2 = by_table["orderBookL2"].books[sym]
            assert _levels(l2) == (truth["bids"], truth["asks"])
            l25 = by_table["orderBookL2_25"].books[sym]
            assert _levels(l25) == (truth["bids"][:25], truth["asks"][:25])
            ob10 = by_table["orderBook10"].books[sym]
            assert _levels(ob10) == (truth["bids"][:10], truth["asks"][:10])
            q = by_table["quote"].quotes[sym]
            assert [q.bid_price, q.bid_size] == truth["bids"][0]
            assert [q.ask_price, q.ask_size] == truth["asks"][0]
            inst = by_table["instrument"].instruments[sym]
            assert truth["last_trade"] is not None
            assert inst["lastPrice"] == truth["last_trade"]["price"]
        for c in consumers:
            assert c.engine.stats.unknown_keys == 0
            assert c.engine.stats.malformed == 0
            assert c.engine.stats.errors == 0
        assert by_table["trade"].trades > 0
        assert by_table["orderBookL2"].frames > 0
    finally:
        for task in readers:
            task.cancel()
        for c in consumers:
            await c.ws.close()
        for task in readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.mark.asyncio
async def test_every_public_book_table_matches_the_truth() -> None:
    async with SimServer(SimConfig(seed=7, rate=800.0)) as sim:
        await _run_and_compare(sim, 1.0)


@pytest.mark.asyncio
async def test_books_match_after_a_burst() -> None:
    async with SimServer(SimConfig(seed=11, rate=50.0)) as sim:
        await _run_and_compare(sim, 0.6, burst=5000.0)
        # A burst really happened: ten times what the base rate gives in that time (the exact
        # count depends on how much CPU the machine has to spare, so no throughput is asserted).
        assert sim.steps > 10 * 50.0 * 0.6


@pytest.mark.asyncio
async def test_freeze_after_goes_quiet_and_truth_is_stable() -> None:
    async with SimServer(SimConfig(seed=3, rate=300.0, freeze_after=0.3)) as sim:
        ws = await connect(
            sim.url + "?subscribe=orderBookL2,trade,instrument,quote", max_queue=None
        )
        await asyncio.sleep(0.5)
        assert sim.frozen
        before = [sim.truth(s) for s in SYMBOLS]
        sent = sim.messages_sent
        await asyncio.sleep(0.3)
        assert [sim.truth(s) for s in SYMBOLS] == before
        assert sim.messages_sent == sent > 0
        await ws.close()
        truth = before[0]
        assert set(truth) == {
            "venue",
            "symbol",
            "bids",
            "asks",
            "trades",
            "last_trade",
            "resyncs",
            "reconnects",
            "dropped_before_partial",
        }
        assert truth["resyncs"] == truth["reconnects"] == truth["dropped_before_partial"] == 0
        if truth["last_trade"] is not None:
            assert truth["last_trade"]["symbol"] == "XBTUSD"


@pytest.mark.asyncio
async def test_serving_a_shared_exchange_driven_elsewhere() -> None:
    from app.sim.market.exchange import Exchange

    exchange = Exchange(SYMBOLS, seed=4)
    async with SimServer(SimConfig(), exchange=exchange) as sim:
        assert sim.exchange is exchange
        ws = await connect(sim.url + "?subscribe=orderBookL2:XBTUSD")
        consumer = Consumer("orderBookL2", ws)
        reader = asyncio.create_task(consumer.read())
        await asyncio.sleep(0.1)
        for _ in range(500):
            exchange.step()
        await consumer.sync()
        assert sim.steps == 0
        book = consumer.books["XBTUSD"]
        truth = sim.truth("XBTUSD")
        assert _levels(book) == (truth["bids"], truth["asks"])
        reader.cancel()
        await ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    assert exchange.listeners == []


@pytest.mark.asyncio
async def test_periodic_burst_mode() -> None:
    config = SimConfig(rate=10.0, burst_every=0.2, burst_rate=4000.0, burst_seconds=0.1)
    async with SimServer(config) as sim:
        await asyncio.sleep(0.7)
        assert sim.steps > 300  # 10/s alone would give about 7
