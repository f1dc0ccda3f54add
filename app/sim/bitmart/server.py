"""`BitmartSim`: both BitMart protocols served from one simulated market.

The legacy openws front-end and the v3 spot front-end listen on their own ports (127.0.0.1)
and publish the same `Exchange` (the simulator's venue-neutral market generator), so a legacy
client and a v3 client see one consistent market. The legacy port also answers REST
`GET /v2/symbols_details` (each symbol's precision range). Pass an existing `Exchange` to share
the market of another simulator front-end (it then keeps driving it); otherwise the simulator
creates one and drives it at `rate` actions per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from app.feeds.bitmart import constants as c
from app.feeds.events import Side
from app.sim.bitmart.legacy import DEPTH_LEVELS as LEGACY_LEVELS
from app.sim.bitmart.legacy import LegacyFront, LegacySimOptions
from app.sim.bitmart.market import BitmartMarket
from app.sim.bitmart.rest import legacy_process_request
from app.sim.bitmart.v3 import V3Front, V3SimOptions
from app.sim.market.exchange import Exchange

DEFAULT_SYMBOLS = ["BTC_USDT", "ETH_USDT"]
TICK_INTERVAL = 0.05


@dataclass
class BitmartSimConfig:
    """Where and how the BitMart simulator runs."""

    host: str = "127.0.0.1"
    legacy_port: int = 0
    v3_port: int = 0
    seed: int = 1
    rate: float = 50.0
    symbols: list[str] = field(default_factory=lambda: list(DEFAULT_SYMBOLS))
    legacy: LegacySimOptions = field(default_factory=LegacySimOptions)
    v3: V3SimOptions = field(default_factory=V3SimOptions)


class BitmartSim:
    """Legacy and v3 BitMart servers over one market."""

    def __init__(
        self,
        config: BitmartSimConfig | None = None,
        *,
        exchange: Exchange | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or BitmartSimConfig()
        self.owns_exchange = exchange is None
        self.exchange = exchange or Exchange(
            list(self.config.symbols), seed=self.config.seed, demo_activity=False
        )
        self.market = BitmartMarket(self.exchange)
        self.legacy = LegacyFront(self.market, self.config.legacy, clock)
        self.v3 = V3Front(self.market, self.config.v3, clock)
        self._servers: list[Server] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.legacy_port = 0
        self.v3_port = 0
        self.frozen = False
        self.last_error = ""

    @property
    def legacy_url(self) -> str:
        """URL of the legacy openws front-end."""
        return f"ws://{self.config.host}:{self.legacy_port}{c.LEGACY_SIM_PATH}"

    @property
    def details_url(self) -> str:
        """URL of the legacy front-end's REST symbol details (same port as its socket)."""
        return f"http://{self.config.host}:{self.legacy_port}{c.LEGACY_DETAILS_PATH}"

    @property
    def v3_url(self) -> str:
        """URL of the v3 spot front-end."""
        return f"ws://{self.config.host}:{self.v3_port}{c.V3_SIM_PATH}?{c.V3_QUERY}"

    @property
    def symbols(self) -> list[str]:
        """Simulated symbols."""
        return list(self.market.views)

    async def start(self) -> None:
        """Listen on both ports and start publishing."""
        cfg = self.config
        legacy = await serve(
            self.legacy.handle,
            cfg.host,
            cfg.legacy_port,
            ping_interval=None,
            process_request=legacy_process_request(self.market, c.LEGACY_SIM_PATH),
        )
        v3 = await serve(
            self.v3.handle,
            cfg.host,
            cfg.v3_port,
            ping_interval=None,
            process_request=_path_filter(c.V3_SIM_PATH),
        )
        self._servers = [legacy, v3]
        self.legacy_port = _port(legacy)
        self.v3_port = _port(v3)
        self._tasks = [asyncio.create_task(self._publish_loop())]
        if self.owns_exchange:
            self._tasks.append(asyncio.create_task(self._drive_loop()))

    async def stop(self) -> None:
        """Close every connection and both servers."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers = []
        self.market.close()

    async def __aenter__(self) -> BitmartSim:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- loops ------------------------------------------------------------------------------
    async def _drive_loop(self) -> None:
        """Advance the market: `rate` actions per second plus time-driven state."""
        budget = 0.0
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_INTERVAL)
            now = time.monotonic()
            budget += (now - last) * self.config.rate
            last = now
            if self.frozen:
                budget = 0.0
                continue
            self.exchange.tick()
            while budget >= 1.0:
                self.exchange.step()
                budget -= 1.0

    async def _publish_loop(self) -> None:
        legacy_every = self.config.legacy.push_interval
        last_legacy = 0.0
        while True:
            await asyncio.sleep(min(TICK_INTERVAL, self.config.v3.increase_interval))
            try:
                await self.v3.publish()
                now = time.monotonic()
                if now - last_legacy >= legacy_every:
                    last_legacy = now
                    await self.legacy.publish()
            except Exception as exc:  # a bad push must not stop the simulator
                self.last_error = f"{type(exc).__name__}: {exc}"

    # --- truth and faults ---------------------------------------------------------------------
    def truth(
        self,
        symbol: str,
        venue: str = c.VENUE_V3,
        depth: int | None = None,
        precision: int | None = None,
    ) -> dict[str, Any]:
        """The book of `symbol` in the `depthdesk feed --book-out` JSON shape.

        With `precision`, the book as the legacy order channel shows it: top 20 levels grouped
        to that many decimals.
        """
        out = self.market.truth(symbol, venue, depth)
        if precision is not None:
            sides: tuple[tuple[str, Side], ...] = (("bids", "Buy"), ("asks", "Sell"))
            for key, side in sides:
                levels = self.market.grouped(symbol, side, precision, depth or LEGACY_LEVELS)
                out[key] = [[float(p), float(q)] for p, q, _ in levels]
        return out

    def gap(self, symbol: str, count: int = 1) -> None:
        """Make every increase100 subscriber of `symbol` see a version gap."""
        self.v3.gap(symbol, count)

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or resume) market activity; what already happened is still published."""
        self.frozen = frozen

    def stall(self, stalled: bool = True) -> None:
        """Stop (or resume) market activity, pushes and replies; connections stay open."""
        self.frozen = stalled
        self.legacy.paused = stalled
        self.v3.paused = stalled

    def send_malformed(self, count: int = 1) -> None:
        """The next `count` v3 data pushes are preceded by a corrupt binary frame."""
        self.v3.malformed_next += count

    async def drop_connections(self) -> None:
        """Close every client connection on both front-ends."""
        await self.legacy.drop_connections()
        await self.v3.drop_connections()


def _port(server: Server) -> int:
    for sock in server.sockets:
        return int(sock.getsockname()[1])
    raise RuntimeError("server has no socket")


def _path_filter(path: str) -> Callable[[ServerConnection, Request], Response | None]:
    def check(connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != path:
            return connection.respond(404, "unknown path\n")
        return None

    return check
