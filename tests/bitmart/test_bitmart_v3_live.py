"""v3 client ↔ simulator over real sockets: every channel, deflate, gaps, reconnects, limits."""

from __future__ import annotations

import asyncio
import json
import zlib
from decimal import Decimal

import pytest
from bitmart_helpers import Collector, LocalBook, fast_gate, fast_sim_config, wait_until
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.feeds.bitmart.client_v3 import BitmartClient, BitmartConfig
from app.feeds.bitmart.deflate import inflate
from app.feeds.bitmart.rate_limit import V3_OPEN_SOCKETS
from app.feeds.events import (
    Bars,
    BookLevels,
    FeedError,
    Latency,
    Quote,
    Reset,
    Resync,
    SubscriptionAck,
    Ticker,
    Trades,
)
from app.sim.bitmart.server import BitmartSim


def _client(sim: BitmartSim, sink: Collector, topics: list[str], **kw: object) -> BitmartClient:
    config = BitmartConfig(
        url=sim.v3_url,
        symbols=["BTC_USDT"],
        topics=topics,
        ping_interval=0.2,
        watchdog_idle=0.2,
        pong_timeout=1.0,
        backoff_initial=0.05,
        backoff_max=0.2,
        snapshot_timeout=1.0,
        **kw,  # type: ignore[arg-type]
    )
    return BitmartClient(config, sink, gate=fast_gate(0.0))


@pytest.mark.asyncio
async def test_every_channel_and_an_exact_incremental_book() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        topics = [
            "spot/ticker",
            "spot/kline1m",
            "spot/depth5",
            "spot/trade",
            "spot/depth/increase100:ETH_USDT",
        ]
        client = _client(sim, sink, topics)
        task = asyncio.create_task(client.run())
        try:
            await wait_until(
                lambda: (
                    all(
                        sink.of(kind) for kind in (Ticker, Quote, Bars, Trades, Latency, BookLevels)
                    )
                    and len(sink.of(SubscriptionAck)) == 5
                )
            )
            assert sink.of(Reset) and not sink.of(FeedError)
            assert client.parser.stats.binary > 0
            depth5 = [e for e in sink.of(BookLevels) if e.symbol == "BTC_USDT"]
            assert depth5 and all(e.snapshot and len(e.bids) <= 5 for e in depth5)
            assert {b.timeframe for b in sink.of(Bars)} == {"1m"}
            # the ETH book from snapshot + versioned updates equals the simulator's book
            await wait_until(lambda: any(not e.snapshot for e in sink.of(BookLevels)))
            sim.freeze()
            await asyncio.sleep(0.2)
            book = LocalBook("ETH_USDT")
            for event in sink.events:
                book.apply(event)
            truth = sim.truth("ETH_USDT")
            assert book.top() == (truth["bids"], truth["asks"])
            assert book.snapshots == 1
            # trades arrive oldest first and match the simulator's prints
            prints = list(sim.market.views["BTC_USDT"].prints)
            got = [t for batch in sink.of(Trades) for t in batch.trades]
            tail = prints[-len(got) :]
            assert [(t.price, t.size) for t in got] == [
                (float(p.price), float(p.qty)) for p in tail
            ]
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_version_gap_emits_resync_and_requests_a_snapshot() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        client = _client(sim, sink, ["spot/depth/increase100:ETH_USDT"])
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: any(not e.snapshot for e in sink.of(BookLevels)))
            sim.gap("ETH_USDT", 3)
            await wait_until(lambda: len([e for e in sink.of(BookLevels) if e.snapshot]) >= 2)
            (resync,) = sink.of(Resync)
            assert resync.symbol == "ETH_USDT" and "gap" in resync.reason
            assert sim.v3.stats.snapshot_requests == 1
            assert client.stats.resyncs == 1 and client.stats.reconnects == 0
            await wait_until(lambda: client.parser.depth_version("ETH_USDT") is not None)
            sim.freeze()
            await asyncio.sleep(0.2)
            book = LocalBook("ETH_USDT")
            for event in sink.events:
                book.apply(event)
            truth = sim.truth("ETH_USDT")
            assert book.top() == (truth["bids"], truth["asks"])
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_reconnect_resubscribes_and_restarts_from_snapshot() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        client = _client(sim, sink, ["spot/depth/increase100:BTC_USDT", "spot/trade"])
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: bool(sink.of(BookLevels)))
            await sim.drop_connections()
            await wait_until(lambda: len(sink.of(Reset)) == 2)
            await wait_until(lambda: len([e for e in sink.of(BookLevels) if e.snapshot]) == 2)
            assert client.stats.reconnects == 1
            assert V3_OPEN_SOCKETS.count("127.0.0.1") == 1
        finally:
            await client.close()
            await task
        assert V3_OPEN_SOCKETS.count("127.0.0.1") == 0


@pytest.mark.asyncio
async def test_corrupt_binary_frame_is_reported_and_skipped() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        client = _client(sim, sink, ["spot/ticker"])
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: bool(sink.of(Ticker)))
            sim.send_malformed(1)
            await wait_until(lambda: bool(sink.of(FeedError)))
            count = len(sink.of(Ticker))
            await wait_until(lambda: len(sink.of(Ticker)) > count)
            assert "deflate" in sink.of(FeedError)[0].message
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_server_errors_and_limits_on_the_wire() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sim.config.v3.max_messages = 5
        async with connect(sim.v3_url) as ws:
            await ws.send("ping")
            assert await ws.recv() == "pong"
            await ws.send(json.dumps({"op": "subscribe", "args": ["spot/depth100:BTC_USDT"]}))
            assert json.loads(await ws.recv())["errorCode"] == "90004"
            too_many = [f"spot/trade:S{i}" for i in range(21)]
            await ws.send(json.dumps({"op": "subscribe", "args": too_many}))
            assert json.loads(await ws.recv())["errorCode"] == "90005"
            await ws.send(json.dumps({"op": "subscribe", "args": ["spot/ticker:NOPE"]}))
            assert json.loads(await ws.recv())["errorCode"] == "92001"
            await ws.send(json.dumps({"op": "subscribe", "args": ["spot/ticker:BTC_USDT"]}))
            assert json.loads(await ws.recv()) == {
                "event": "subscribe",
                "topic": "spot/ticker:BTC_USDT",
            }
            data = await ws.recv()
            assert isinstance(data, bytes)  # data pushes are raw DEFLATE
            assert json.loads(inflate(data))["table"] == "spot/ticker"
            with pytest.raises(zlib.error):
                zlib.decompress(data)  # not a zlib stream: raw deflate only
            await ws.send("ping")  # the 6th message in the window
            with pytest.raises(ConnectionClosed):
                while True:
                    frame = await ws.recv()
                    if isinstance(frame, str) and "errorCode" in frame:
                        assert json.loads(frame)["errorCode"] == "90007"
        assert sim.v3.stats.closed_rate == 1


@pytest.mark.asyncio
async def test_idle_connection_is_closed_by_the_server() -> None:
    config = fast_sim_config()
    config.v3.idle_timeout = 0.2
    async with BitmartSim(config) as sim, connect(sim.v3_url) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 3.0)
        assert sim.v3.stats.closed_idle == 1


@pytest.mark.asyncio
async def test_client_pings_keep_an_idle_connection_open() -> None:
    config = fast_sim_config()
    config.v3.idle_timeout = 0.5
    async with BitmartSim(config) as sim:
        sim.freeze()  # no data at all: only the client's text pings keep it alive
        sink = Collector()
        client = _client(sim, sink, ["spot/trade"])
        task = asyncio.create_task(client.run())
        try:
            await asyncio.sleep(1.5)
            assert len(sink.of(Latency)) >= 3
            assert client.stats.connects == 1 and sim.v3.stats.closed_idle == 0
        finally:
            await client.close()
            await task


def test_prices_on_the_wire_are_exact_decimals() -> None:
    sim = BitmartSim(fast_sim_config())
    try:
        for symbol in sim.symbols:
            for price, qty in sim.market.levels(symbol, "Buy", 10):
                assert price == price.quantize(sim.market.views[symbol].tick)
                assert isinstance(qty, Decimal)
    finally:
        sim.market.close()
