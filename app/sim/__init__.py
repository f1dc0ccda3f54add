"""Embedded exchange simulator: a venue-neutral market (app.sim.market) behind venue wire
protocols (app.sim.bitmex, app.sim.bitmart) served on 127.0.0.1. No Qt imports."""

from __future__ import annotations

from app.sim.bitmex.server import DemoAccountHandle, DemoCredentials, SimFaults, SimServer
from app.sim.config import FaultSpec, SimConfig

__all__ = [
    "DemoAccountHandle",
    "DemoCredentials",
    "FaultSpec",
    "SimConfig",
    "SimFaults",
    "SimServer",
]
