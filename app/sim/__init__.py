"""Embedded exchange simulator: a venue-neutral market behind venue wire protocols. No Qt.

- `app.sim.market`: the market itself — instruments, a price-time priority matching engine,
  market-maker/taker agents around a seeded random-walk fair price, bins, demo accounts with
  orders, positions, margin and liquidations (`Exchange`). It reports venue-neutral events.
- `app.sim.bitmex`: the BitMEX realtime protocol served over a real `websockets` server
  (`SimServer`): /realtime and /realtimemd, auth, all public and private tables, faults.
- `app.sim.bitmart`: the BitMart front-ends over the same `Exchange`.

    async with SimServer(SimConfig(port=0, seed=1)) as sim:
        url, creds = sim.url, sim.accounts[0]
        sim.account(creds.key).place_limit("XBTUSD", "Buy", 100, 59000.0)
        sim.freeze()
        truth = sim.truth("XBTUSD")  # same JSON shape as `depthdesk feed --book-out`
"""

from __future__ import annotations

from app.sim.bitmex.handles import DemoAccountHandle, DemoCredentials, SimFaults
from app.sim.bitmex.server import SimServer
from app.sim.config import FaultSpec, SimConfig

__all__ = [
    "DemoAccountHandle",
    "DemoCredentials",
    "FaultSpec",
    "SimConfig",
    "SimFaults",
    "SimServer",
]
