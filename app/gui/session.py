"""One venue connection as the window sees it: MarketState + Bridge + the feed client task.

`FeedSession` is what features bind to (`session.state`, `session.bridge`, `session.symbol`,
`session.price_step()`). It runs the client of the venue's protocol: BitMEX realtime, BitMart
v3 spot or BitMart legacy openws, or plays a recording through the same engines (`REPLAY`).
`SimHost` owns the embedded simulator for the demo venues, started in-process on free loopback
ports and kept across switches: the BitMEX server, and on demand the BitMart front-ends over
the same market.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from app.bridge import Bridge
from app.feeds.bitmart import constants as bm
from app.gui import venues
from app.widgets.format import infer_tick

if TYPE_CHECKING:
    from app.sim import SimServer
    from app.sim.bitmart.server import BitmartSim
    from app.state.market import MarketState

log = logging.getLogger(__name__)

GUI_PING_INTERVAL_S = 10.0
"""How often the window measures the feed's ping round trip."""


@dataclass(frozen=True)
class SessionSpec:
    """Which venue and symbol to connect to."""

    venue_key: str  # a key of app.gui.venues
    symbol: str
    url: str | None = None  # explicit URL (custom venue, the demo simulator's URL, a recording)
    speed: float = 1.0  # replay pace (1 = as recorded, 0 = as fast as possible)

    @property
    def label(self) -> str:
        """Human-readable venue name."""
        return venues.label(self.venue_key)

    @property
    def protocol(self) -> str:
        """The wire protocol (venues.BITMEX / BITMART_V3 / BITMART_LEGACY)."""
        return venues.protocol(self.venue_key)


@dataclass
class VenueHints:
    """What the window knows about a market before (or instead of) an instrument table."""

    tick: float | None = None  # price tick of the symbol
    precision: int | None = None  # legacy order-book precision (decimal digits) to start with
    precision_range: tuple[int, int] | None = None  # legacy precisions the venue accepts
    lot_step: float | None = None  # order-size step of the symbol, when the venue tells it
    symbols: list[str] = field(default_factory=list)  # symbols to offer in the selector
    # The embedded simulator's BitMEX endpoint and demo account (any demo venue): the account
    # panel logs in there even while the window shows a BitMart front-end.
    demo_url: str | None = None
    demo_credentials: Any = field(default=None, repr=False)


async def legacy_hints(url: str, symbol: str) -> VenueHints:
    """What the legacy venue at `url` tells about `symbol` before connecting: its precision
    range and size step from the symbol details (empty hints when they cannot be had;
    the feed then reports why). The starting precision is the feed's default clamped into the
    range, as the feed itself would send it."""
    from app.feeds.bitmart.details_fetch import load_details
    from app.feeds.bitmart.legacy_precision import clamp_precision
    from app.feeds.bitmart.symbols_details import DetailsError, symbols_details_url

    try:
        details = await load_details(symbols_details_url(url))
    except DetailsError:
        return VenueHints()
    entry = details.get(symbol)
    hints = VenueHints(symbols=sorted(details))
    if entry is not None:
        hints.precision_range = entry.precision_range
        hints.precision = clamp_precision(bm.LEGACY_DEFAULT_PRECISION, entry.precision_range)
        if entry.size_step is not None:
            hints.lot_step = float(entry.size_step)
    return hints


def replay_hints(path: str) -> VenueHints:
    """What a recording tells before it plays: the symbols it is about."""
    from app.headless.recording import recorded_symbols

    try:
        return VenueHints(symbols=recorded_symbols(path))
    except (OSError, UnicodeDecodeError):
        return VenueHints()


def legacy_step(precision: int, tick: float | None) -> float:
    """Price step of a legacy book grouped at `precision` decimals: the grouping, or the
    symbol's tick when the grouping is finer and the tick lies on it (0.5 at 0.1)."""
    group = 10.0**-precision
    if tick and tick >= group:
        ratio = tick / group
        if abs(ratio - round(ratio)) < 1e-9:
            return float(tick)
    return float(round(group, 12))


class FeedSession(QObject):
    """A running venue connection: state, bridge and client task. Close with `await close()`."""

    def __init__(
        self,
        spec: SessionSpec,
        url: str,
        credentials: Any = None,
        parent: QObject | None = None,
        hints: VenueHints | None = None,
    ) -> None:
        super().__init__(parent)
        from app.state.market import MarketState

        self.spec = spec
        self.url = url
        self.symbol = spec.symbol
        self.hints = hints or VenueHints()
        replay = self._replay_feed() if spec.protocol == venues.RECORDING else None
        self.venue = replay.venue if replay is not None else venues.state_venue(spec.venue_key)
        self.state: MarketState = MarketState(self.venue)
        self.bridge = Bridge(self.state, parent=self)
        self.precision: int | None = None
        self._inferred_step: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.has_account = False
        proto = spec.protocol
        if replay is not None:
            self.client: Any = replay
        elif proto == venues.BITMART_V3:
            self.client = self._bitmart_v3_client()
        elif proto == venues.BITMART_LEGACY:
            self.client = self._bitmart_legacy_client()
        else:
            self.client = self._bitmex_client(credentials)
        from app.state.crossed_guard import CrossedBookGuard

        # A book that stays crossed (messages were lost) is rebuilt from a fresh snapshot.
        self.crossed_guard = CrossedBookGuard(self.state, self.client.request_fresh_book)
        self.bridge.add_tap(self.crossed_guard.after_event)
        self._task: asyncio.Task[None] | None = None

    def _replay_feed(self) -> Any:
        """The recording at `spec.url` as a feed (its venue read from the file's header);
        raises OSError/ValueError when it cannot be played."""
        from app.headless.replay import ReplayFeed

        if not self.spec.url:
            raise ValueError("a replay needs a recording file")
        return ReplayFeed(self.spec.url, self._replayed, speed=self.spec.speed)

    def _replayed(self, event: Any) -> None:
        self.bridge.on_event(event)

    def _bitmex_client(self, credentials: Any) -> Any:
        from app.feeds.bitmex.client import BitmexClient, BitmexConfig

        # No `symbols`: the topics are already explicit, so whole tables stay unfiltered.
        topics = venues.topics_for(self.symbol, private=credentials is not None)
        # Heartbeat mode pings on a timer whatever the traffic, so the status bar always has a
        # round trip to show (the idle watchdog alone pings only after 5 s of silence).
        config = BitmexConfig(
            url=self.url,
            symbols=[],
            topics=topics,
            credentials=credentials,
            heartbeat_mode=True,
            heartbeat_interval=GUI_PING_INTERVAL_S,
        )
        self.has_account = credentials is not None
        return BitmexClient(config, self.bridge.on_event)

    def _bitmart_v3_client(self) -> Any:
        from app.feeds.bitmart.client_v3 import BitmartClient, BitmartConfig

        config = BitmartConfig(url=self.url, topics=venues.bitmart_v3_topics(self.symbol))
        return BitmartClient(config, self.bridge.on_event)

    def _bitmart_legacy_client(self) -> Any:
        from app.feeds.bitmart.client_legacy import BitmartLegacyClient, BitmartLegacyConfig

        precision = self.hints.precision
        if precision is None:
            precision = bm.LEGACY_DEFAULT_PRECISION
        self.precision = precision
        ranges = {self.symbol: self.hints.precision_range} if self.hints.precision_range else {}
        config = BitmartLegacyConfig(
            url=self.url,
            symbols=[self.symbol],
            topics=venues.bitmart_legacy_topics(self.symbol, precision, precision),
            precision_ranges=ranges,
        )
        return BitmartLegacyClient(config, self.bridge.on_event)

    # ---- what features read -------------------------------------------------------------
    @property
    def title(self) -> str:
        """`<venue label> · <symbol>`."""
        return f"{self.spec.label} · {self.symbol}"

    def precision_range(self) -> tuple[int, int] | None:
        """Legacy book precisions the user may pick (None: the venue has no such choice)."""
        if self.spec.protocol != venues.BITMART_LEGACY:
            return None
        return self.hints.precision_range or (bm.LEGACY_PRECISION_MIN, bm.LEGACY_PRECISION_MAX)

    def price_step(self, symbol: str | None = None) -> float | None:
        """Price step of the shown book: the instrument's tick, else the legacy grouping
        (10^-precision), else the venue's known tick, else one inferred from the book."""
        symbol = symbol or self.symbol
        tick = self.state.instruments.tick_size(symbol)
        if tick:
            return tick
        if symbol != self.symbol:
            return None
        if self.precision is not None:
            return legacy_step(self.precision, self.hints.tick)
        if self.hints.tick:
            return self.hints.tick
        if self._inferred_step is None and self.state.has_book(symbol):
            book = self.state.book(symbol)
            prices = [p for p, _ in book.bids(50)] + [p for p, _ in book.asks(50)]
            if len(prices) >= 4:
                self._inferred_step = infer_tick(prices)
        return self._inferred_step

    def set_precision(self, precision: int) -> bool:
        """Regroup a legacy book at `precision` decimal digits (False when not possible)."""
        bounds = self.precision_range()
        if bounds is None or not bounds[0] <= precision <= bounds[1]:
            return False
        if precision == self.precision:
            return True
        self.precision = precision
        set_precision = getattr(self.client, "set_precision", None)
        if set_precision is None:
            return False
        self._spawn(set_precision(self.symbol, precision))
        return True

    # ---- lifetime -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the client task (inside the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"feed:{self.spec.venue_key}:{self.symbol}"
            )

    async def _run(self) -> None:
        try:
            await self.client.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # fatal feed errors end up in the status bar, not a crash
            log.error("feed %s stopped: %s", self.spec.label, type(exc).__name__)
            from app.feeds.events import FeedStatus

            self.bridge.on_event(FeedStatus(venue=self.venue, state="down", detail=str(exc)[:200]))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("feed request failed: %s", type(task.exception()).__name__)

    @property
    def running(self) -> bool:
        """True while the client task has not finished."""
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        """Cancel the client task and close its socket; idempotent."""
        self.bridge.stop()
        for pending in list(self._tasks):
            pending.cancel()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.client.close()


class SimHost:
    """The embedded simulator for the demo venues (one per app run, started on demand)."""

    def __init__(self, seed: int = 1) -> None:
        self._seed = seed
        self.server: SimServer | None = None
        self.bitmart: BitmartSim | None = None

    async def ensure_started(self) -> SimServer:
        """Start the BitMEX simulator on a free loopback port if it is not running."""
        if self.server is None:
            from app.sim import SimConfig, SimServer

            server = SimServer(SimConfig(port=0, seed=self._seed))
            await server.start()
            self.server = server
        return self.server

    async def ensure_bitmart(self) -> BitmartSim:
        """Start the BitMart front-ends (legacy and v3) over the BitMEX simulator's market."""
        server = await self.ensure_started()
        if self.bitmart is None:
            from app.sim.bitmart.server import BitmartSim, BitmartSimConfig

            sim = BitmartSim(BitmartSimConfig(seed=self._seed), exchange=server.exchange)
            await sim.start()
            self.bitmart = sim
        return self.bitmart

    async def resolve(self, spec: SessionSpec) -> tuple[str, Any, VenueHints]:
        """URL, credentials and hints of a demo venue key (starting what it needs)."""
        server = await self.ensure_started()
        creds = self.demo_credentials()
        if spec.protocol == venues.BITMEX:
            hints = VenueHints(
                symbols=server_symbols(server), demo_url=server.url, demo_credentials=creds
            )
            return server.url, creds, hints
        sim = await self.ensure_bitmart()
        hints = VenueHints(symbols=sim.symbols, demo_url=server.url, demo_credentials=creds)
        view = sim.market.views.get(spec.symbol)
        if view is not None:
            hints.tick = float(view.tick)
            hints.precision = view.decimals
            hints.precision_range = (view.min_precision, view.max_precision)
            hints.lot_step = float(sim.market.lot_qty(spec.symbol))
        url = sim.legacy_url if spec.protocol == venues.BITMART_LEGACY else sim.v3_url
        return url, None, hints

    def symbols(self) -> list[str]:
        """Symbols of the simulated market (empty before it starts)."""
        return server_symbols(self.server) if self.server is not None else []

    def demo_credentials(self) -> Any:
        """The simulator's first demo account as ApiCredentials, or None."""
        if self.server is None or not self.server.accounts:
            return None
        from app.feeds.bitmex.auth import ApiCredentials

        account = self.server.accounts[0]
        return ApiCredentials(key=account.key, secret=account.secret)

    async def stop(self) -> None:
        """Stop the simulator if it runs (the BitMart front-ends first)."""
        bitmart, self.bitmart = self.bitmart, None
        if bitmart is not None:
            await bitmart.stop()
        server, self.server = self.server, None
        if server is not None:
            await server.stop()


def server_symbols(server: Any) -> list[str]:
    """Symbols of a running BitMEX simulator."""
    return list(server.exchange.markets)
