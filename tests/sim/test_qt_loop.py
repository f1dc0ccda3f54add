"""The simulator runs on Qt's event loop (qasync), as `depthdesk --demo` hosts it."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from app.sim import SimConfig, SimServer
from sim.helpers import Raw, is_table


@pytest.mark.qt_loop
@pytest.mark.asyncio
async def test_start_serve_stop_on_qasync_loop() -> None:
    before = asyncio.all_tasks()
    sim = SimServer(SimConfig(rate=200.0))
    await sim.start()
    raw = Raw(await connect(sim.url + "?subscribe=orderBookL2_25:XBTUSD,tradeBin1m:XBTUSD"))
    assert "info" in await raw.recv()
    partial = await raw.until(is_table("orderBookL2_25", "partial"))
    assert len(partial["data"]) == 50
    bins = await raw.until(is_table("tradeBin1m", "partial"))
    assert len(bins["data"]) >= 100
    await raw.until(is_table("orderBookL2_25", "update"))
    await raw.ws.close()
    await sim.stop()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()
