"""Depthdesk's /realtimemd client against the simulator: one socket, a public stream and two
accounts, each with its own auth, private tables and book."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest

from app.feeds.bitmex.auth import ApiCredentials
from app.feeds.bitmex.client import BitmexConfig
from app.feeds.bitmex.multiplex import MultiplexClient, StreamConfig
from app.feeds.events import AuthResult, BookLevels, Event, TableRows
from app.sim import SimConfig, SimServer
from app.state.book import L2Book

ACCOUNTS = [
    ("muxKeyA0000000000000000A", "muxSecretA-00000000000000000000000000000000000000"),
    ("muxKeyB0000000000000000B", "muxSecretB-00000000000000000000000000000000000000"),
]


async def _wait(pred: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


@pytest.mark.asyncio
async def test_multiplex_client_streams_against_the_simulator() -> None:
    config = SimConfig(rate=200.0, accounts=ACCOUNTS, demo_interval=0.2)
    async with SimServer(config) as sim:
        events: dict[str, list[Event]] = {"public": [], "a": [], "b": []}
        book = L2Book("XBTUSD", 0.5)

        def public(ev: Event) -> None:
            events["public"].append(ev)
            if isinstance(ev, BookLevels) and ev.symbol == "XBTUSD":
                book.apply(ev)

        streams = [
            (StreamConfig("market", ["XBTUSD"], ["orderBookL2"], stream_id="public"), public),
            (
                StreamConfig("a", topics=["position", "margin"], stream_id="a",
                             credentials=ApiCredentials(*ACCOUNTS[0])),
                events["a"].append,
            ),
            (
                StreamConfig("b", topics=["position", "margin"], stream_id="b",
                             credentials=ApiCredentials(*ACCOUNTS[1])),
                events["b"].append,
            ),
        ]  # fmt: skip
        client = MultiplexClient(BitmexConfig(url=sim.url), streams)
        task = asyncio.create_task(client.run())

        def accounts_of(name: str) -> set[int]:
            return {
                row["account"]
                for ev in events[name]
                if isinstance(ev, TableRows) and ev.table == "margin"
                for row in ev.rows
            }

        await _wait(lambda: accounts_of("a") and accounts_of("b") and len(book.bids()) > 0)
        assert accounts_of("a") == {100_001} and accounts_of("b") == {100_002}
        for name in ("a", "b"):
            assert any(isinstance(e, AuthResult) and e.success for e in events[name])
        sim.freeze()
        truth = sim.truth("XBTUSD")
        await _wait(lambda: [list(x) for x in book.bids()] == truth["bids"])
        assert [list(x) for x in book.asks()] == truth["asks"]
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5.0)
