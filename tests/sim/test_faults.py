"""Every fault mode leads Depthdesk's BitmexClient back to a book equal to the simulator's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest

from app.feeds.bitmex.client import BitmexClient, BitmexConfig
from app.feeds.events import BookLevels, Event, FeedError, Reset, Resync
from app.sim import SimConfig, SimServer
from app.state.book import L2Book

SYMBOL = "XBTUSD"


class Harness:
    """A BitmexClient on the simulator, folding its book events into an L2Book."""

    def __init__(self, sim: SimServer, **overrides: float) -> None:
        settings: dict[str, float] = {
            "watchdog_idle": 0.3,
            "pong_timeout": 0.3,
            "partial_timeout": 3.0,
            "backoff_initial": 0.05,
            "backoff_max": 0.2,
        }
        settings.update(overrides)
        config = BitmexConfig(
            url=sim.url,
            symbols=[SYMBOL],
            topics=["orderBookL2"],
            **settings,  # type: ignore[arg-type]
        )
        self.sim = sim
        self.book = L2Book(SYMBOL, 0.5)
        self.events: list[Event] = []
        self.client = BitmexClient(config, self.on_event)
        self.task: asyncio.Task[None] | None = None

    def on_event(self, ev: Event) -> None:
        self.events.append(ev)
        if isinstance(ev, Reset):
            self.book.clear()
        elif isinstance(ev, BookLevels) and ev.symbol == SYMBOL:
            self.book.apply(ev)

    def start(self) -> Harness:
        self.task = asyncio.create_task(self.client.run())
        return self

    async def stop(self) -> None:
        await self.client.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 5.0)

    def matches_truth(self) -> bool:
        truth = self.sim.truth(SYMBOL)
        bids = [list(x) for x in self.book.bids()]
        asks = [list(x) for x in self.book.asks()]
        return bids == truth["bids"] and asks == truth["asks"]

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)


async def wait_for(pred: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def settle_and_compare(h: Harness) -> None:
    """Let the market run a little, freeze it, and require the client's book to converge."""
    await asyncio.sleep(0.3)
    h.sim.freeze()
    await wait_for(h.matches_truth)


def _sim(**kw: object) -> SimServer:
    base: dict[str, object] = {"seed": 5, "rate": 300.0, "symbols": [SYMBOL, "ETHUSD"]}
    base.update(kw)
    return SimServer(SimConfig(**base))  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_dropped_connections_reconnect_to_a_correct_book() -> None:
    async with _sim() as sim:
        h = Harness(sim).start()
        await wait_for(lambda: len(h.book.bids()) > 0)
        assert sim.drop_connections() == 1
        await wait_for(lambda: h.client.stats.reconnects >= 1)
        await settle_and_compare(h)
        assert h.count(Reset) >= 1
        await h.stop()


@pytest.mark.asyncio
async def test_stalled_connection_is_abandoned_and_book_rebuilt() -> None:
    async with _sim() as sim:
        h = Harness(sim).start()
        await wait_for(lambda: len(h.book.bids()) > 0)
        sim.stall()
        await wait_for(lambda: h.client.stats.reconnects >= 1)
        sim.release()  # the abandoned socket may now finish its close handshake
        await settle_and_compare(h)
        await h.stop()


@pytest.mark.asyncio
async def test_timed_stall_releases_and_flushes_in_order() -> None:
    async with _sim() as sim:
        h = Harness(sim, watchdog_idle=5.0, pong_timeout=5.0).start()
        await wait_for(lambda: len(h.book.bids()) > 0)
        sim.stall(0.3)
        await asyncio.sleep(0.5)
        await settle_and_compare(h)
        assert h.client.stats.reconnects == 0
        await h.stop()


@pytest.mark.asyncio
async def test_malformed_frame_is_reported_and_book_stays_correct() -> None:
    async with _sim() as sim:
        h = Harness(sim).start()
        await wait_for(lambda: len(h.book.bids()) > 0)
        assert sim.send_malformed() == 1
        await wait_for(lambda: h.count(FeedError) >= 1)
        await settle_and_compare(h)
        await h.stop()


@pytest.mark.asyncio
async def test_unknown_row_update_triggers_resync_to_a_correct_book() -> None:
    async with _sim() as sim:
        h = Harness(sim).start()
        await wait_for(lambda: len(h.book.bids()) > 0)
        assert sim.faults.send_unknown_row(SYMBOL) == 1
        await wait_for(lambda: h.count(Resync) >= 1)
        await settle_and_compare(h)
        assert h.client.engine.stats.unknown_keys >= 1
        await h.stop()


@pytest.mark.asyncio
async def test_delayed_partials_drop_early_deltas_then_converge() -> None:
    async with _sim() as sim:
        sim.faults.delay_partials(0.4)
        h = Harness(sim).start()
        await wait_for(lambda: len(h.book.bids()) > 0)
        assert h.client.engine.stats.dropped_before_partial > 0
        await settle_and_compare(h)
        await h.stop()


@pytest.mark.asyncio
async def test_scheduled_faults_from_config() -> None:
    from app.sim.config import FaultSpec

    faults = FaultSpec.parse_list("unknown-row@0.3:XBTUSD,drop@0.6,burst@0.8:3000:0.3")
    async with _sim(faults=faults) as sim:
        h = Harness(sim).start()
        await wait_for(lambda: h.client.stats.reconnects >= 1 and h.count(Resync) >= 1)
        await asyncio.sleep(0.5)
        await settle_and_compare(h)
        await h.stop()


@pytest.mark.asyncio
async def test_start_stop_with_connected_client_leaves_no_tasks() -> None:
    before = asyncio.all_tasks()
    sim = _sim()
    await sim.start()
    h = Harness(sim).start()
    await wait_for(lambda: len(h.book.bids()) > 0)
    sim.stall()
    await sim.stop()
    await h.stop()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before


@pytest.mark.asyncio
async def test_client_heartbeat_keeps_a_heartbeat_socket_open() -> None:
    async with _sim(heartbeat_close_after=0.4) as sim:
        config = BitmexConfig(
            url=sim.url,
            symbols=[SYMBOL],
            topics=["quote"],
            heartbeat_mode=True,
            heartbeat_interval=0.1,
            watchdog_idle=5.0,
            pong_timeout=5.0,
        )
        client = BitmexClient(config, lambda ev: None)
        task = asyncio.create_task(client.run())
        await wait_for(lambda: any(link.heartbeat for link in sim.links))
        await asyncio.sleep(1.0)
        assert client.stats.reconnects == 0
        assert all(not link.closing for link in sim.links)
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5.0)
