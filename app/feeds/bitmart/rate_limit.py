"""Connection and message rate limits shared across sockets.

BitMart limits connections per IP: the legacy feed to 1 per 4 s, the v3 feed to 30 per
minute. A `ConnectionGate` hands out connection slots: each caller reserves the next free
slot synchronously (so concurrent callers never get the same one) and then sleeps until it;
a second connection inside the limit therefore waits instead of failing. `shared_gate()`
returns one process-wide gate per (host, kind), so every client in the process, across
reconnects and across sockets, obeys the same limit.

`MessageWindow` counts outbound messages in a sliding window (v3: 100 per 10 s) and tells
when the next one may go.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from app.feeds.bitmart import constants as c

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ConnectionGate:
    """At most `limit` connection starts per `window` seconds (limit 1: a minimum interval)."""

    def __init__(
        self,
        window: float,
        limit: int = 1,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window < 0:
            raise ValueError("limit must be >= 1 and window >= 0")
        self.window = window
        self.limit = limit
        self.clock = clock
        self.sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self.waits = 0
        self.waited = 0.0

    def reserve(self) -> float:
        """Claim the next free slot; returns its time (on `clock`)."""
        with self._lock:
            now = self.clock()
            while self._starts and self._starts[0] <= now - self.window:
                self._starts.popleft()
            slot = now
            if len(self._starts) >= self.limit:
                slot = max(now, self._starts[-self.limit] + self.window)
            self._starts.append(slot)
            return slot

    async def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited. Cancelling the wait gives up the attempt
        (the reserved slot stays used, as a connection might have started in it)."""
        slot = self.reserve()
        delay = slot - self.clock()
        if delay <= 0:
            return 0.0
        self.waits += 1
        self.waited += delay
        await self.sleep(delay)
        return delay


_GATES: dict[tuple[str, str], ConnectionGate] = {}
_GATES_LOCK = threading.Lock()


def host_of(url: str) -> str:
    """The host (per-IP stand-in) a URL connects to."""
    return (urlsplit(url).hostname or url).lower()


def shared_gate(url: str, kind: str) -> ConnectionGate:
    """The process-wide gate for `kind` ("legacy" or "v3") connections to the URL's host."""
    key = (host_of(url), kind)
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            if kind == "legacy":
                gate = ConnectionGate(c.LEGACY_CONNECT_INTERVAL + c.LEGACY_CONNECT_MARGIN, 1)
            else:
                gate = ConnectionGate(c.V3_CONNECT_WINDOW, c.V3_MAX_CONNECTS_PER_WINDOW)
            _GATES[key] = gate
        return gate


def gated_connect(
    gate: ConnectionGate, connect_fn: Callable[..., Awaitable[object]]
) -> Callable[..., Awaitable[object]]:
    """A connect function that first waits for a slot of `gate`.

    `ConnectionHandler.close()` cancels a connection attempt, so a client closing while it
    waits for its slot ends at once and opens no socket.
    """

    async def connect(*args: object, **kwargs: object) -> object:
        await gate.acquire()
        return await connect_fn(*args, **kwargs)

    return connect


class OpenSockets:
    """Process-wide count of open sockets per host, against a per-IP connection cap."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, host: str) -> int:
        """Sockets open to `host`."""
        with self._lock:
            return self._open.get(host, 0)

    def opened(self, host: str) -> None:
        """One more socket to `host`."""
        with self._lock:
            self._open[host] = self._open.get(host, 0) + 1

    def closed(self, host: str) -> None:
        """One socket to `host` fewer."""
        with self._lock:
            left = self._open.get(host, 0) - 1
            if left > 0:
                self._open[host] = left
            else:
                self._open.pop(host, None)


V3_OPEN_SOCKETS = OpenSockets()


class MessageWindow:
    """Sliding-window count of sent messages (v3: 100 per 10 s, pings included)."""

    def __init__(
        self,
        limit: int = c.V3_MAX_MESSAGES_PER_WINDOW,
        window: float = c.V3_MESSAGE_WINDOW,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._sent: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()

    def available(self, now: float | None = None) -> int:
        """Messages that may be sent right now."""
        now = self.clock() if now is None else now
        self._expire(now)
        return self.limit - len(self._sent)

    def record(self, now: float | None = None, count: int = 1) -> None:
        """Count `count` messages sent at `now`."""
        now = self.clock() if now is None else now
        self._sent.extend([now] * count)

    def next_free(self, now: float | None = None, reserve: int = 0) -> float:
        """When the next message may be sent while keeping `reserve` slots free."""
        now = self.clock() if now is None else now
        self._expire(now)
        allowed = max(1, self.limit - reserve)
        if len(self._sent) < allowed:
            return now
        return self._sent[-allowed] + self.window

    def clear(self) -> None:
        """A new connection starts a new count."""
        self._sent.clear()
