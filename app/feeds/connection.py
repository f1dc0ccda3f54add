"""Venue-neutral connection handling shared by every feed client.

`ConnectionHandler` owns one logical WebSocket connection: connect with exponential back-off,
jitter and a cap, a rolling-hour connection budget, handshake status handling (429 waits, 401/403
are fatal, 5xx retries), the idle watchdog (no message for `watchdog_idle` s → send a ping; no pong
or other message within `pong_timeout` s → abort the socket, without a close handshake, and
reconnect), an optional heartbeat (ping every N s), round-trip measurement, and `FeedStatus`
transitions (connecting / live / stale / reconnecting / down).

What differs per venue (URL, auth, subscribe frames, parsing, partial tracking) lives in a
`Session` object the handler drives through a few synchronous hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
)

from app.feeds.events import Event, FeedError, FeedState, FeedStatus, Latency

Frame = str | bytes
Clock = Callable[[], float]

HOUR = 3600.0
# With a heartbeat, the first ping goes out this soon after connecting (or after one interval,
# if shorter), so a round trip is known within seconds rather than after a whole interval.
FIRST_HEARTBEAT_S = 2.0


class FeedFatal(Exception):  # noqa: N818 - the name the feed interfaces use
    """A problem that retrying cannot fix (credentials rejected, bad URL); the feed is down."""

    def __init__(self, message: str, *, status: int | None = None, auth: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.auth = auth


class Reconnect(Exception):  # noqa: N818 - a request, not an error
    """Raised by a session hook to drop the connection and reconnect (with back-off)."""


@dataclass
class Backoff:
    """Exponential back-off with symmetric jitter and a cap."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; grows by `factor` each call up to `maximum`."""
        base = min(self.maximum, self.initial * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        spread = 1.0 + self.jitter * (2.0 * self.rng.random() - 1.0)
        return max(0.0, min(self.maximum, base * spread))

    def reset(self) -> None:
        """Start again from `initial` (after a connection that proved stable)."""
        self.attempts = 0


class ConnectionBudget:
    """Connection attempts allowed per rolling window (BitMEX: 60 per hour)."""

    def __init__(self, limit: int = 60, window: float = HOUR) -> None:
        self.limit = limit
        self.window = window
        self._attempts: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._attempts and self._attempts[0] <= now - self.window:
            self._attempts.popleft()

    def record(self, now: float) -> None:
        """Count one connection attempt made at `now`."""
        self._attempts.append(now)
        self._expire(now)

    def used(self, now: float) -> int:
        """Attempts inside the window ending at `now`."""
        self._expire(now)
        return len(self._attempts)

    def wait_needed(self, now: float) -> float:
        """Seconds to wait before another attempt fits in the budget (0 when it fits now)."""
        self._expire(now)
        if len(self._attempts) < self.limit:
            return 0.0
        return max(0.0, self._attempts[-self.limit] + self.window - now)


_SHARED_BUDGETS: dict[str, ConnectionBudget] = {}


def shared_budget(key: str, limit: int, window: float = HOUR) -> ConnectionBudget:
    """The process-wide budget for `key` (e.g. venue and host: one IP's connection limit).

    Every client of the same venue host in this process counts against one budget; the limit
    and window follow the latest caller.
    """
    budget = _SHARED_BUDGETS.get(key)
    if budget is None:
        budget = _SHARED_BUDGETS[key] = ConnectionBudget(limit, window)
    budget.limit = limit
    budget.window = window
    return budget


Verdict = Literal["retry", "rate_limited", "auth", "fatal"]


@dataclass(frozen=True)
class HandshakeFailure:
    """How a failed connection attempt should be handled."""

    verdict: Verdict
    message: str
    status: int | None = None


def classify_connect_error(exc: BaseException) -> HandshakeFailure:
    """Sort a connect failure into retry / rate-limited / fatal auth / fatal."""
    if isinstance(exc, InvalidStatus):
        code = exc.response.status_code
        text = f"handshake rejected: HTTP {code}"
        if code == 429:
            return HandshakeFailure("rate_limited", text, code)
        if code in (401, 403):
            return HandshakeFailure("auth", f"{text} (credentials rejected)", code)
        if code >= 500 or code == 408:
            return HandshakeFailure("retry", text, code)
        return HandshakeFailure("fatal", text, code)
    if isinstance(exc, InvalidURI):
        return HandshakeFailure("fatal", f"invalid URL: {exc}")
    if isinstance(exc, InvalidMessage):
        return HandshakeFailure("retry", f"bad handshake response: {exc}")
    if isinstance(exc, (OSError, TimeoutError, EOFError, ConnectionClosed)):
        return HandshakeFailure("retry", _describe(exc))
    if isinstance(exc, InvalidHandshake):
        return HandshakeFailure("fatal", f"handshake failed: {exc}")
    return HandshakeFailure("fatal", _describe(exc))


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "connection attempt timed out"
    return text


class PendingTracker:
    """Deadlines for things a connection waits for (one partial per topic, a reply...).

    `expect(key, now)` starts a clock, `done(key)` stops it, `overdue(now)` returns the keys
    whose `timeout` passed (and restarts their clocks so each is reported once per period).
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._since: dict[str, float] = {}

    def expect(self, key: str, now: float) -> None:
        """Start (or restart) waiting for `key`."""
        self._since[key] = now

    def done(self, key: str) -> bool:
        """`key` arrived; True if it was being waited for."""
        return self._since.pop(key, None) is not None

    def clear(self) -> None:
        """Forget everything (the connection is gone)."""
        self._since.clear()

    def pending(self) -> list[str]:
        """Keys still waited for."""
        return list(self._since)

    def next_deadline(self) -> float | None:
        """The earliest time something becomes overdue, or None."""
        if not self._since:
            return None
        return min(self._since.values()) + self.timeout

    def overdue(self, now: float) -> list[str]:
        """Keys waited for longer than `timeout`; their clocks restart at `now`."""
        late = [key for key, since in self._since.items() if now - since >= self.timeout]
        for key in late:
            self._since[key] = now
        return late


@dataclass
class ConnectionSettings:
    """Timings and limits of a connection; all injectable so tests can run in milliseconds."""

    watchdog_idle: float = 5.0
    pong_timeout: float = 5.0
    heartbeat_interval: float | None = None
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    backoff_factor: float = 2.0
    backoff_jitter: float = 0.2
    stable_after: float = 60.0
    rate_limited_wait: float = 60.0
    connections_per_window: int = 60
    budget_window: float = HOUR
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    max_size: int | None = 64 * 1024 * 1024
    max_failures: int | None = None

    @classmethod
    def of(cls, config: object, **overrides: Any) -> ConnectionSettings:
        """Settings from a venue configuration: every field `config` has under the same name
        (watchdog_idle, pong_timeout, backoff_initial, open_timeout...), then `overrides` for
        what the venue names or derives differently."""
        values = {f.name: getattr(config, f.name) for f in fields(cls) if hasattr(config, f.name)}
        values.update(overrides)
        return cls(**values)


class Session(Protocol):
    """The venue-specific side of one connection, driven by `ConnectionHandler`.

    Hooks are synchronous and return frames to send; raising `FeedFatal` from a hook ends the
    connection and the run (status "down"); raising `Reconnect` drops the connection and
    reconnects with back-off. Any other exception from `received` is reported as a `FeedError`
    and the frame is skipped.
    """

    venue: str

    def url(self) -> str:
        """URL for the next connection attempt."""
        ...

    def headers(self) -> dict[str, str] | None:
        """Extra handshake headers for the next attempt (fresh signatures), or None."""
        ...

    def opened(self, now: float) -> list[Frame]:
        """The connection is up: reset state; return auth/subscribe frames to send."""
        ...

    def received(self, now: float, frame: Frame) -> list[Frame]:
        """One incoming frame that is not a pong; return frames to send in response."""
        ...

    def deadline(self) -> float | None:
        """When `tick` must next run (partial timeouts), or None."""
        ...

    def tick(self, now: float) -> list[Frame]:
        """Called at or after `deadline()`; return frames to send (re-subscriptions)."""
        ...

    def closed(self, reason: str) -> None:
        """The connection ended (it will be retried unless the run is over)."""
        ...

    def ping_frame(self) -> Frame:
        """The application-level ping."""
        ...

    def is_pong(self, frame: Frame) -> bool:
        """True for the application-level pong."""
        ...


@dataclass
class ConnectionStats:
    """Counters of one handler."""

    attempts: int = 0
    connects: int = 0
    reconnects: int = 0
    failures: int = 0
    connects_last_hour: int = 0
    messages: int = 0
    last_message_at: float | None = None
    rtt_ms: float | None = None
    pings: int = 0
    watchdog_reconnects: int = 0
    rate_limited: int = 0
    frame_errors: int = 0
    last_error: str = ""


ConnectFn = Callable[..., Any]


class ConnectionHandler:
    """Connect, keep alive and reconnect one WebSocket for a `Session`."""

    def __init__(
        self,
        session: Session,
        settings: ConnectionSettings,
        emit: Callable[[Event], None],
        *,
        on_raw: Callable[[float, Frame], None] | None = None,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
        connect_fn: ConnectFn = connect,
        stats: ConnectionStats | None = None,
        raw_clock: Clock = time.time,
        budget: ConnectionBudget | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.emit = emit
        self.on_raw = on_raw
        self.clock = clock
        self.raw_clock = raw_clock
        self.stats = stats if stats is not None else ConnectionStats()
        self.state: FeedState | None = None
        self.backoff = Backoff(
            settings.backoff_initial,
            settings.backoff_max,
            settings.backoff_factor,
            settings.backoff_jitter,
            rng or random.Random(),
        )
        self.budget = budget or ConnectionBudget(
            settings.connections_per_window, settings.budget_window
        )
        self._connect_fn = connect_fn
        self._ws: ClientConnection | None = None
        self._closing = asyncio.Event()
        self._connecting: asyncio.Future[Any] | None = None
        self._ping_sent_at: float | None = None

    # -- public -------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a socket is open."""
        return self._ws is not None

    async def send(self, frames: Sequence[Frame]) -> bool:
        """Send frames on the open socket; False (nothing sent) when not connected."""
        ws = self._ws
        if ws is None:
            return False
        try:
            for frame in frames:
                await ws.send(frame)
        except ConnectionClosed:
            return False
        return True

    async def close(self) -> None:
        """Stop for good: close the socket; `run()` returns (at once, if it starts later)."""
        self._closing.set()
        if self._connecting is not None:
            self._connecting.cancel()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    async def run(self) -> None:
        """Connect and reconnect until `close()` or a fatal error (raises `FeedFatal`).

        Closing is checked before every connection attempt and again once an attempt has
        succeeded, so a `close()` that lands while connecting never leaves a socket served.
        """
        failures = 0
        try:
            while not self._closing.is_set():
                wait = self.budget.wait_needed(self.clock())
                if wait > 0:
                    self._set_state(
                        "reconnecting",
                        f"connection budget used ({self.budget.limit} per "
                        f"{self.budget.window:.0f} s); next attempt in {wait:.1f} s",
                    )
                    if await self._sleep(wait):
                        break
                self._set_state(
                    "connecting" if self.stats.connects == 0 else "reconnecting",
                    f"connecting to {_safe_url(self.session.url())}",
                )
                ws = await self._attempt()
                if isinstance(ws, HandshakeFailure):
                    if self._closing.is_set():
                        break
                    failures += 1
                    if await self._after_failure(ws, failures):
                        break
                    continue
                failures = 0
                if self._closing.is_set():  # closed while the handshake completed
                    await ws.close()
                    break
                reason = await self._serve(ws)
                if self._closing.is_set():
                    break
                delay = self.backoff.next_delay()
                self._set_state("reconnecting", f"{reason}; reconnecting in {delay:.1f} s")
                if await self._sleep(delay):
                    break
        finally:
            self._ws = None
            self._set_state("down", "closed" if self._closing.is_set() else self.stats.last_error)

    # -- internals ----------------------------------------------------------------------------

    async def _attempt(self) -> ClientConnection | HandshakeFailure:
        now = self.clock()
        self.budget.record(now)
        self.stats.attempts += 1
        self.stats.connects_last_hour = self.budget.used(now)
        try:
            attempt = asyncio.ensure_future(
                self._connect_fn(
                    self.session.url(),
                    additional_headers=self.session.headers(),
                    open_timeout=self.settings.open_timeout,
                    close_timeout=self.settings.close_timeout,
                    ping_interval=None,
                    ping_timeout=None,
                    max_size=self.settings.max_size,
                    proxy=None,
                )
            )
        except Exception as exc:  # the URL is checked before any I/O
            return classify_connect_error(exc)
        self._connecting = attempt
        try:
            ws: ClientConnection = await attempt
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._closing.is_set() and (current is None or not current.cancelling()):
                return HandshakeFailure("retry", "closed while connecting")
            raise
        except Exception as exc:
            return classify_connect_error(exc)
        finally:
            self._connecting = None
        return ws

    async def _after_failure(self, failure: HandshakeFailure, failures: int) -> bool:
        """Handle a failed attempt; True when the run must stop (closing)."""
        self.stats.failures += 1
        self.stats.last_error = failure.message
        if failure.verdict in ("auth", "fatal"):
            self._set_state("down", failure.message)
            raise FeedFatal(failure.message, status=failure.status, auth=failure.verdict == "auth")
        limit = self.settings.max_failures
        if limit is not None and failures >= limit and self.stats.connects == 0:
            self._set_state("down", failure.message)
            raise FeedFatal(f"could not connect after {failures} attempts: {failure.message}")
        delay = self.backoff.next_delay()
        if failure.verdict == "rate_limited":
            self.stats.rate_limited += 1
            delay = max(delay, self.settings.rate_limited_wait)
        self._set_state("reconnecting", f"{failure.message}; retrying in {delay:.1f} s")
        return await self._sleep(delay)

    async def _serve(self, ws: ClientConnection) -> str:
        """Run one open connection until it ends; return why it ended."""
        self._ws = ws
        self.stats.connects += 1
        self.stats.reconnects = self.stats.connects - 1
        opened_at = self.clock()
        self._ping_sent_at = None
        reason = "connection closed"
        try:
            self._set_state("live", "connected")
            if await self.send(self.session.opened(opened_at)):
                reason = await self._pump(ws)
            else:
                reason = "connection closed while subscribing"
        except Reconnect as exc:
            reason = str(exc) or "reconnect requested"
        except FeedFatal as exc:
            reason = str(exc)
            raise
        finally:
            self._ws = None
            with contextlib.suppress(Exception):
                await ws.close()
            if self.clock() - opened_at >= self.settings.stable_after:
                self.backoff.reset()
            self.stats.last_error = reason
            self.session.closed(reason)
        return reason

    async def _pump(self, ws: ClientConnection) -> str:
        """Receive loop with watchdog, heartbeat and session deadlines."""
        settings = self.settings
        clock = self.clock
        session = self.session
        on_raw = self.on_raw
        stats = self.stats
        last_rx = clock()
        awaiting_since: float | None = None
        heartbeat = settings.heartbeat_interval
        next_heartbeat = last_rx + min(heartbeat, FIRST_HEARTBEAT_S) if heartbeat else None
        while True:
            now = clock()
            if awaiting_since is not None:
                wake = awaiting_since + settings.pong_timeout
            else:
                wake = last_rx + settings.watchdog_idle
            if next_heartbeat is not None and next_heartbeat < wake:
                wake = next_heartbeat
            session_deadline = session.deadline()
            if session_deadline is not None and session_deadline < wake:
                wake = session_deadline
            try:
                async with asyncio.timeout(max(0.0, wake - now)):
                    frame = await ws.recv()
            except TimeoutError:
                now = clock()
                if awaiting_since is not None and now >= awaiting_since + settings.pong_timeout:
                    stats.watchdog_reconnects += 1
                    # A server that stopped answering will not answer a close handshake either:
                    # drop the TCP connection now instead of waiting `close_timeout` for it.
                    ws.transport.abort()
                    return (
                        f"no message for {now - last_rx:.1f} s and no pong within "
                        f"{settings.pong_timeout:g} s"
                    )
                if awaiting_since is None and now >= last_rx + settings.watchdog_idle:
                    awaiting_since = now
                    self._set_state("stale", f"no message for {now - last_rx:.1f} s; pinging")
                    if not await self._ping():
                        return "connection closed while pinging"
                if next_heartbeat is not None and now >= next_heartbeat:
                    next_heartbeat = now + (heartbeat or 0.0)
                    if not await self._ping():
                        return "connection closed while pinging"
                if (
                    session_deadline is not None
                    and now >= session_deadline
                    and not await self.send(session.tick(now))
                ):
                    return "connection closed while resubscribing"
                continue
            except ConnectionClosed as exc:
                return _close_reason(exc)
            now = clock()
            last_rx = now
            stats.messages += 1
            stats.last_message_at = now
            if on_raw is not None:
                on_raw(self.raw_clock(), frame)
            if awaiting_since is not None:
                awaiting_since = None
                self._set_state("live", "receiving")
            if session.is_pong(frame):
                if self._ping_sent_at is not None:
                    rtt_ms = (now - self._ping_sent_at) * 1000.0
                    self._ping_sent_at = None
                    stats.rtt_ms = rtt_ms
                    self.emit(Latency(session.venue, rtt_ms))
                continue
            try:
                replies = session.received(now, frame)
            except (FeedFatal, Reconnect):
                raise
            except Exception as exc:  # a frame the session could not handle must not kill the feed
                stats.frame_errors += 1
                self.emit(FeedError(session.venue, f"frame not handled: {_describe(exc)}"))
                continue
            if replies and not await self.send(replies):
                return "connection closed while replying"
            session_deadline = session.deadline()
            if (
                session_deadline is not None
                and now >= session_deadline
                and not await self.send(session.tick(now))
            ):
                return "connection closed while resubscribing"

    async def _ping(self) -> bool:
        self._ping_sent_at = self.clock()
        self.stats.pings += 1
        return await self.send([self.session.ping_frame()])

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless closed meanwhile; True when closing."""
        if self._closing.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        return self._closing.is_set()

    def _set_state(self, state: FeedState, detail: str) -> None:
        if state == self.state and state in ("live", "down"):
            return
        self.state = state
        self.emit(FeedStatus(self.session.venue, state, detail, self.stats.reconnects))


def _close_reason(exc: ConnectionClosed) -> str:
    rcvd = exc.rcvd
    if rcvd is None:
        return "connection lost"
    text = f"server closed the connection (code {rcvd.code}"
    return text + (f": {rcvd.reason})" if rcvd.reason else ")")


def _safe_url(url: str) -> str:
    """The URL without its query string (which could carry signatures)."""
    return url.split("?", 1)[0]
