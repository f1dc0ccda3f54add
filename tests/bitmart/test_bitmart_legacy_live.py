"""Legacy client ↔ simulator over real sockets: channels, dedup, rate limit, subscribe deadline."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from bitmart_helpers import (
    FAST_INTERVAL,
    Collector,
    fast_gate,
    fast_sim_config,
    unused_port_url,
    wait_until,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.feeds.bitmart.client_legacy import BitmartLegacyClient, BitmartLegacyConfig
from app.feeds.bitmart.parse_legacy import LegacyTicker
from app.feeds.bitmart.rate_limit import ConnectionGate
from app.feeds.bitmart.subscriptions import TopicError
from app.feeds.events import (
    Bars,
    BookLevels,
    FeedError,
    FeedStatus,
    Latency,
    Reset,
    SubscriptionAck,
    Trades,
)
from app.sim.bitmart.server import BitmartSim


def _client(
    sim: BitmartSim,
    sink: Collector,
    topics: list[str],
    gate: ConnectionGate | None = None,
    **kw: object,
) -> BitmartLegacyClient:
    options: dict[str, object] = {
        "ping_interval": 0.2,
        "watchdog_idle": 0.5,
        "pong_timeout": 1.0,
        "backoff_initial": 0.05,
        "backoff_max": 0.2,
    }
    options.update(kw)
    config = BitmartLegacyConfig(
        url=sim.legacy_url,
        symbols=["BTC_USDT"],
        topics=topics,
        default_precision=2,
        **options,  # type: ignore[arg-type]
    )
    return BitmartLegacyClient(config, sink, gate=gate or fast_gate())


@pytest.mark.asyncio
async def test_every_channel_over_the_wire() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        client = _client(sim, sink, ["price", "kline:BTC_USDT:5", "order:BTC_USDT:1", "trade"])
        task = asyncio.create_task(client.run())
        try:
            await wait_until(
                lambda: (
                    all(sink.of(k) for k in (LegacyTicker, Bars, BookLevels, Latency))
                    and len(sink.of(Trades)) >= 3
                    and len(sink.of(SubscriptionAck)) == 4
                )
            )
            assert sink.of(Reset) and not sink.of(FeedError)
            topics = {a.topic for a in sink.of(SubscriptionAck)}
            assert topics == {
                "price:BTC_USDT",
                "kline:BTC_USDT:5",
                "order:BTC_USDT:1",
                "trade:BTC_USDT:2",
            }
            ticker = sink.of(LegacyTicker)[-1]
            assert ticker.rate_unit == "USD" and ticker.last is not None
            bars = sink.of(Bars)[-1]
            assert bars.timeframe == "5m" and bars.bars[0].open_time % 300 == 0
            # order requests come back as depth, grouped at precision 1, best first, top 20
            book = sink.of(BookLevels)[-1]
            assert book.snapshot and 0 < len(book.bids) <= 20
            assert all(round(p, 1) == p for p, _ in book.bids + book.asks)
            assert book.bids[0][0] < book.asks[0][0]
            sim.freeze()
            await asyncio.sleep(0.15)
            last = sink.of(BookLevels)[-1]
            truth = sim.truth("BTC_USDT", "bitmart-legacy", precision=1)
            assert [list(lv) for lv in last.bids] == truth["bids"]
            assert [list(lv) for lv in last.asks] == truth["asks"]
            # the de-duplicated tape equals the simulator's prints since subscribing
            trades = [t for batch in sink.of(Trades) for t in batch.trades]
            prints = list(sim.market.views["BTC_USDT"].prints)[-len(trades) :]
            assert [(t.side, t.price, t.size, t.timestamp) for t in trades] == [
                (p.side, float(p.price), float(p.qty), p.time_ms / 1000) for p in prints
            ]
            assert client.parser.duplicates > 0  # the simulator repeats trades on every push
            assert all(t.notional == pytest.approx(t.price * t.size) for t in trades)
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_precision_change_and_unsubscribe() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        client = _client(sim, sink, ["order:BTC_USDT:2"])
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: bool(sink.of(BookLevels)))
            await client.set_precision("BTC_USDT", 0)
            await wait_until(
                lambda: any(a.topic == "order:BTC_USDT:0" for a in sink.of(SubscriptionAck))
            )
            await wait_until(lambda: all(p == int(p) for p, _ in sink.of(BookLevels)[-1].bids))
            await client.unsubscribe(["order:BTC_USDT"])
            await wait_until(lambda: any(a.op == "unsubscribe" for a in sink.of(SubscriptionAck)))
            count = len(sink.of(BookLevels))
            await asyncio.sleep(0.2)
            assert len(sink.of(BookLevels)) == count
            with pytest.raises(TopicError):
                await client.subscribe(["kline:BTC_USDT:7"])
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_server_error_message_is_surfaced() -> None:
    closed_port_url = unused_port_url()
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        # beyond the symbol's max precision; without symbol details only the server can say so
        client = _client(sim, sink, ["order:BTC_USDT:11"], symbols_details_url=closed_port_url)
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: len(sink.of(FeedError)) >= 2)
            first, second = sink.of(FeedError)[:2]
            assert first.message.startswith(f"symbol details unavailable from {closed_port_url}")
            assert "precision 11 out of range 0..6" in second.message
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_second_connection_inside_the_interval_waits_instead_of_failing() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        gate = fast_gate(FAST_INTERVAL + 0.25)  # a margin over the server's own interval
        sinks = [Collector(), Collector()]
        clients = [_client(sim, sinks[i], ["price"], gate=gate) for i in range(2)]
        started = time.monotonic()
        tasks = [asyncio.create_task(c.run()) for c in clients]
        try:
            await wait_until(lambda: all(s.of(LegacyTicker) for s in sinks))
            assert time.monotonic() - started >= FAST_INTERVAL
            assert gate.waits == 1
            assert sim.legacy.stats.refused_rate_limit == 0
            assert sim.legacy.stats.connections == 2
            # reconnects go through the same gate
            await sim.drop_connections()
            await wait_until(lambda: all(len(s.of(Reset)) == 2 for s in sinks))
            assert sim.legacy.stats.refused_rate_limit == 0
            assert gate.waits >= 2
        finally:
            for client in clients:
                await client.close()
            await asyncio.gather(*tasks)


@pytest.mark.asyncio
async def test_ungated_second_connection_is_refused_by_the_server() -> None:
    async with BitmartSim(fast_sim_config(connect_interval=5.0)) as sim:
        async with connect(sim.legacy_url) as first:
            await first.send(json.dumps({"subscribe": "price", "symbol": "BTC_USDT"}))
            assert json.loads(await first.recv())["subscribe"] == "price"
            async with connect(sim.legacy_url) as second:
                error = json.loads(await second.recv())
                assert "rate-limited" in error["message"]
                with pytest.raises(ConnectionClosed):
                    await second.recv()
        assert sim.legacy.stats.refused_rate_limit == 1


@pytest.mark.asyncio
async def test_no_subscribe_within_the_deadline_closes_the_connection() -> None:
    async with BitmartSim(fast_sim_config(subscribe_deadline=0.2)) as sim:
        async with connect(sim.legacy_url) as ws:
            await ws.send(json.dumps({"subscribe": "ping"}))
            assert json.loads(await ws.recv()) == {"subscribe": "pong"}
            error = json.loads(await asyncio.wait_for(ws.recv(), 2.0))
            assert "no subscribe" in error["message"]
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert sim.legacy.stats.closed_no_subscribe == 1


@pytest.mark.asyncio
async def test_client_without_subscriptions_does_not_connect() -> None:
    async with BitmartSim(fast_sim_config(subscribe_deadline=0.2)) as sim:
        sink = Collector()
        client = _client(sim, sink, [])
        task = asyncio.create_task(client.run())
        try:
            await asyncio.sleep(0.4)
            assert sim.legacy.stats.connections == 0 and not sink.of(FeedStatus)
            await client.subscribe(["trade:BTC_USDT:2"])
            await wait_until(lambda: bool(sink.of(Trades)))
            await asyncio.sleep(0.4)  # past the deadline: the subscribe went out in time
            assert sim.legacy.stats.closed_no_subscribe == 0
            assert client.stats.connects == 1
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_silent_server_triggers_ping_then_reconnect() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        sink = Collector()
        client = _client(sim, sink, ["trade"], pong_timeout=0.2)
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: bool(sink.of(Trades)))
            sim.stall()  # the server keeps the socket but sends nothing, not even pongs
            await wait_until(
                lambda: any(s.state == "stale" for s in sink.of(FeedStatus)), within=5.0
            )
            await wait_until(lambda: client.stats.watchdog_reconnects >= 1, within=5.0)
            sim.stall(False)
            count = len(sink.of(Trades))
            await wait_until(lambda: len(sink.of(Trades)) > count)
            assert len(sink.of(Reset)) >= 2
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_gate_reserves_distinct_slots_with_an_injected_clock() -> None:
    now = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gate = ConnectionGate(4.0, 1, clock=lambda: now[0], sleep=fake_sleep)
    assert await gate.acquire() == 0.0
    assert gate.reserve() == 104.0
    assert gate.reserve() == 108.0  # a third caller gets the slot after the second
    now[0] = 120.0
    assert await gate.acquire() == 0.0
    assert await gate.acquire() == 4.0 and slept == [4.0]
    window = ConnectionGate(60.0, 30, clock=lambda: now[0], sleep=fake_sleep)
    assert [window.reserve() for _ in range(31)][-2:] == [now[0], now[0] + 60.0]


@pytest.mark.asyncio
async def test_close_while_waiting_for_a_slot_ends_without_connecting() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        gate = ConnectionGate(30.0, 1)
        gate.reserve()  # another socket just connected: the next slot is 30 s away
        sink = Collector()
        client = _client(sim, sink, ["price"], gate=gate)
        task = asyncio.create_task(client.run())
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await client.close()
        await asyncio.wait_for(task, 2.0)
        assert time.monotonic() - started < 2.0
        assert sim.legacy.stats.connections == 0 and client.stats.connects == 0
        assert sink.of(FeedStatus)[-1].state == "down"


def test_clients_share_one_process_wide_gate_per_host() -> None:
    from app.feeds.bitmart import constants as c
    from app.feeds.bitmart.client_v3 import BitmartClient, BitmartConfig

    def legacy(url: str) -> BitmartLegacyClient:
        return BitmartLegacyClient(BitmartLegacyConfig(url=url, topics=["price:A_B"]), print)

    first, second = legacy("wss://openws.bitmart.com"), legacy("wss://OPENWS.bitmart.com/")
    assert first.gate is second.gate
    assert first.gate.window >= c.LEGACY_CONNECT_INTERVAL and first.gate.limit == 1
    assert legacy("ws://127.0.0.2:1/").gate is not first.gate
    v3 = BitmartClient(BitmartConfig(topics=["spot/trade:A_B"]), print)
    assert v3.gate is not first.gate
    assert (v3.gate.limit, v3.gate.window) == (c.V3_MAX_CONNECTS_PER_WINDOW, c.V3_CONNECT_WINDOW)
