"""`SimServer`: the simulated BitMEX realtime endpoint on a real `websockets` server.

Serves /realtime (one logical connection per socket) and /realtimemd (multiplexed streams),
answers handshake-level errors (401 bad credentials, 429 connection rate limit, 404 path),
drives the exchange at the configured rate, closes silent ?heartbeat=true sockets, and offers
fault injection (drop, stall, malformed frames, unknown rows, delayed partials) and bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from app.sim.bitmex import rows
from app.sim.bitmex.auth import verify
from app.sim.bitmex.constants import (
    E_BAD_PATH,
    E_INTERNAL,
    E_RATE_LIMITED,
    HEADER_API_EXPIRES,
    HEADER_API_KEY,
    HEADER_API_NONCE,
    HEADER_API_SIGNATURE,
    HEARTBEAT_CLOSE_REASON,
    HEARTBEAT_QUERY,
    MULTIPLEX_PATH,
    PING,
    PONG,
    REALTIME_PATH,
    SUBSCRIBE_QUERY,
    T_L2,
    T_L2_25,
    VENUE,
)
from app.sim.bitmex.handles import DemoAccountHandle, DemoCredentials, SimFaults
from app.sim.bitmex.hub import BitmexHub
from app.sim.bitmex.link import SimConnection, SocketLink
from app.sim.bitmex.session import Session
from app.sim.config import FaultSpec, SimConfig
from app.sim.market.exchange import Exchange

log = logging.getLogger(__name__)
MALFORMED_FRAME = b'{"table":"orderBookL2","action":"update","data":[{"symbol":'
UNKNOWN_LEVEL_ID = 1
MAX_CATCH_UP_S = 0.05  # at most this much market time per loop turn: I/O stays responsive


class SimServer:
    """A simulated BitMEX realtime server. Use `async with SimServer(cfg) as sim:`."""

    def __init__(
        self, config: SimConfig | None = None, *, exchange: Exchange | None = None
    ) -> None:
        """`exchange`: serve an existing market (e.g. one shared with another venue's
        front-end); then whoever created it drives it and this server only publishes."""
        self.config = config or SimConfig()
        cfg = self.config
        self.drives_market = exchange is None
        self.exchange = exchange or Exchange(
            list(cfg.symbols),
            seed=cfg.seed,
            accounts=cfg.accounts,
            funding_interval=cfg.funding_interval,
            demo_activity=cfg.demo_activity,
            demo_interval=cfg.demo_interval,
        )
        self.hub = BitmexHub(self.exchange)
        self.faults = SimFaults(self)
        self.partial_delay = 0.0
        self.port = 0
        self.links: set[SocketLink] = set()
        self._server: Server | None = None
        self._driver: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._handshakes: dict[str, deque[float]] = {}
        self._burst_rate: float | None = None
        self._burst_until = 0.0
        self._started_at = 0.0
        self._pending_faults: list[FaultSpec] = sorted(cfg.faults, key=lambda f: f.at)
        self.connections_total = 0
        self.rejected_handshakes = 0
        self.steps = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen and start driving the market."""
        cfg = self.config
        self._server = await serve(
            self._handler,
            cfg.host,
            cfg.port,
            process_request=self._process_request,
            create_connection=SimConnection,
            compression=None,
            ping_interval=None,
            close_timeout=cfg.close_timeout,
            max_queue=1024,
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        self._started_at = time.monotonic()
        self._driver = asyncio.create_task(self._drive(), name="sim-driver")

    async def stop(self) -> None:
        """Stop the market, close every connection and the listener; no task is left behind."""
        if self._driver is not None:
            self._driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._driver
            self._driver = None
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for link in list(self.links):
            link.release()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if not self.drives_market:
            self.hub.detach()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """ws://host:port/realtime"""
        return f"ws://{self.config.host}:{self.port}{REALTIME_PATH}"

    @property
    def mux_url(self) -> str:
        """ws://host:port/realtimemd"""
        return f"ws://{self.config.host}:{self.port}{MULTIPLEX_PATH}"

    @property
    def accounts(self) -> list[DemoCredentials]:
        """The demo accounts' credentials."""
        return [DemoCredentials(a.key, a.secret, a.number) for a in self.exchange.accounts.values()]

    def account(self, key: str) -> DemoAccountHandle:
        """Order API of the demo account with API key `key`."""
        return DemoAccountHandle(self.exchange, self.exchange.account(key))

    @property
    def frozen(self) -> bool:
        """Whether the market is frozen."""
        return self.exchange.frozen

    def freeze(self) -> None:
        """Stop the market (connections stay open and quiet)."""
        self.exchange.frozen = True
        self.hub.flush()

    def truth(self, symbol: str) -> dict[str, Any]:
        """The simulator's own book of `symbol`, in the `feed --book-out` JSON shape."""
        return self.exchange.truth(symbol, VENUE)

    def write_truth(self, path: Path) -> None:
        """Write every symbol's truth atomically: one object for one symbol, else a list
        (the `feed --book-out` convention)."""
        books = [self.truth(s) for s in self.exchange.markets]
        data: Any = books[0] if len(books) == 1 else books
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(path)

    def burst(self, rate: float, seconds: float) -> None:
        """Run the market at `rate` actions/s for `seconds`."""
        self._burst_rate = rate
        self._burst_until = time.monotonic() + seconds

    @property
    def messages_sent(self) -> int:
        """Table messages written to sessions so far."""
        return self.hub.messages_sent

    # -- scheduling helpers ---------------------------------------------------------------

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run `callback` after `delay` seconds unless the server stops first."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def run() -> None:
            self._timers.discard(handle)
            callback()

        handle = loop.call_later(delay, run)
        self._timers.add(handle)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- handshake ------------------------------------------------------------------------

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path not in (REALTIME_PATH, MULTIPLEX_PATH):
            return self._json_response(conn, HTTPStatus.NOT_FOUND, E_BAD_PATH)
        limit = self.config.connection_limit_per_minute
        if limit is not None:
            addr = conn.remote_address[0] if conn.remote_address else "?"
            window = self._handshakes.setdefault(addr, deque())
            now = time.monotonic()
            while window and now - window[0] > 60.0:
                window.popleft()
            if len(window) >= limit:
                self.rejected_handshakes += 1
                return self._json_response(conn, HTTPStatus.TOO_MANY_REQUESTS, E_RATE_LIMITED)
            window.append(now)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        key = request.headers.get(HEADER_API_KEY) or query.get(HEADER_API_KEY)
        if key is not None and parts.path == REALTIME_PATH:
            nonce = request.headers.get(HEADER_API_NONCE) or query.get(HEADER_API_NONCE)
            expires = request.headers.get(HEADER_API_EXPIRES) or query.get(HEADER_API_EXPIRES)
            signature = request.headers.get(HEADER_API_SIGNATURE) or query.get(HEADER_API_SIGNATURE)
            value = nonce if nonce is not None else expires
            outcome = verify(
                self.exchange.accounts,
                key,
                value,
                signature,
                nonce=nonce is not None,
                now=time.time(),
            )
            if outcome.account is None:
                self.rejected_handshakes += 1
                status = HTTPStatus(outcome.status)
                return self._json_response(conn, status, outcome.error or "")
            if isinstance(conn, SimConnection):
                conn.preauth = outcome
        return None

    @staticmethod
    def _json_response(conn: ServerConnection, status: HTTPStatus, text: str) -> Response:
        response = conn.respond(status, orjson.dumps({"error": text}).decode())
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    # -- connections ----------------------------------------------------------------------

    async def _handler(self, conn: ServerConnection) -> None:
        assert isinstance(conn, SimConnection)
        self.connections_total += 1
        request = conn.request
        parts = urlsplit(request.path if request is not None else REALTIME_PATH)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        heartbeat = query.get(HEARTBEAT_QUERY, "").lower() == "true"
        link = SocketLink(conn, self.config.max_write_buffer, heartbeat)
        self.links.add(link)
        try:
            if parts.path == MULTIPLEX_PATH:
                await self._serve_multiplex(conn, link)
            else:
                await self._serve_plain(conn, link, query, heartbeat)
        except ConnectionClosed:
            pass
        finally:
            for session in list(link.sessions):
                session.close()
            self.links.discard(link)

    async def _serve_plain(
        self, conn: SimConnection, link: SocketLink, query: dict[str, str], heartbeat: bool
    ) -> None:
        session = Session(self, link, heartbeat=heartbeat)
        link.sessions.add(session)
        session.welcome()
        if conn.preauth is not None:
            session.authenticate(conn.preauth)
        topics = [t for t in query.get(SUBSCRIBE_QUERY, "").split(",") if t]
        if topics:
            session.subscribe_topics(topics, {"op": "subscribe", "args": topics})
        async for message in conn:
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            try:
                session.handle_text(text)
            except Exception:
                log.exception("request handling failed")
                session.error(500, E_INTERNAL, text[:200])

    async def _serve_multiplex(self, conn: SimConnection, link: SocketLink) -> None:
        streams: dict[str, Session] = {}
        async for message in conn:
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            if text.strip() == PING:
                link.write(PONG)
                continue
            try:
                packet = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(packet, list) or len(packet) < 3:
                continue
            kind, stream_id, topic = packet[0], packet[1], packet[2]
            sid = str(stream_id)
            if kind == 1 and sid not in streams:
                head = b"[0," + orjson.dumps(stream_id) + b"," + orjson.dumps(topic) + b","
                session = Session(self, link, envelope=(head, b"]"))
                streams[sid] = session
                link.sessions.add(session)
                session.welcome()
            elif kind == 0 and sid in streams:
                payload = packet[3] if len(packet) > 3 else None
                try:
                    streams[sid].handle_message(payload)
                except Exception:
                    log.exception("request handling failed")
                    streams[sid].error(500, E_INTERNAL, payload)
            elif kind == 2 and sid in streams:
                session = streams.pop(sid)
                link.sessions.discard(session)
                session.close()
                link.write(orjson.dumps([2, stream_id, topic]))

    # -- driver ---------------------------------------------------------------------------

    async def _drive(self) -> None:
        cfg = self.config
        last = time.monotonic()
        credit = 0.0
        next_liveness = last
        next_burst = last + cfg.burst_every if cfg.burst_every else None
        while True:
            await asyncio.sleep(cfg.tick_interval)
            now = time.monotonic()
            dt = min(now - last, MAX_CATCH_UP_S)
            last = now
            elapsed = now - self._started_at
            frozen_now = cfg.freeze_after is not None and elapsed >= cfg.freeze_after
            if frozen_now and self.drives_market and not self.exchange.frozen:
                self.freeze()
            while self._pending_faults and self._pending_faults[0].at <= elapsed:
                self._apply_fault(self._pending_faults.pop(0))
            if next_burst is not None and cfg.burst_every and now >= next_burst:
                next_burst = now + cfg.burst_every
                self.burst(cfg.burst_rate, cfg.burst_seconds)
            rate = cfg.rate
            if self._burst_rate is not None:
                if now < self._burst_until:
                    rate = self._burst_rate
                else:
                    self._burst_rate = None
            credit += rate * dt
            steps = int(credit)
            credit -= steps
            if self.drives_market:
                try:
                    if not self.exchange.frozen:
                        step = self.exchange.step
                        for _ in range(steps):
                            step()
                        self.steps += steps
                    self.exchange.tick()
                except Exception:  # keep serving; the failure is logged with its traceback
                    log.exception("simulated market step failed")
            if now >= next_liveness:
                next_liveness = now + 0.1
                self._check_heartbeats(now)

    def _check_heartbeats(self, now: float) -> None:
        limit = self.config.heartbeat_close_after
        for link in list(self.links):
            idle = now - link.conn.last_rx
            if link.heartbeat and not link.closing and not link.stalled and idle > limit:
                link.closing = True
                self._spawn(link.conn.close(1000, HEARTBEAT_CLOSE_REASON))

    # -- faults ---------------------------------------------------------------------------

    def _apply_fault(self, fault: FaultSpec) -> None:
        args = fault.args
        if fault.kind == "drop":
            self.drop_connections()
        elif fault.kind == "stall":
            self.stall(float(args[0]) if args else 5.0)
        elif fault.kind == "malformed":
            self.send_malformed()
        elif fault.kind == "unknown-row":
            symbols = [args[0]] if args else list(self.exchange.markets)
            for sym in symbols:
                self.send_unknown_row(sym)
        elif fault.kind == "delay-partials":
            self.delay_partials(float(args[0]) if args else 2.0)
        elif fault.kind == "burst":
            rate = float(args[0]) if args else 5000.0
            self.burst(rate, float(args[1]) if len(args) > 1 else 3.0)

    def drop_connections(self) -> int:
        """Abort every socket (clients see an abnormal close)."""
        links = list(self.links)
        for link in links:
            link.abort()
        return len(links)

    def stall(self, seconds: float | None = None) -> int:
        """Stall every socket; released after `seconds` (if given) or by `release()`."""
        links = list(self.links)
        for link in links:
            link.stall()
        if seconds is not None:
            self.call_later(seconds, self.release)
        return len(links)

    def release(self) -> None:
        """End a stall on every socket."""
        for link in list(self.links):
            link.release()

    def send_malformed(self) -> int:
        """Send a truncated JSON frame to every session."""
        count = 0
        for link in list(self.links):
            for session in list(link.sessions):
                session.send_raw(MALFORMED_FRAME)
                count += 1
        return count

    def send_unknown_row(self, symbol: str) -> int:
        """Send an orderBookL2 / orderBookL2_25 update for a level id that does not exist."""
        m = self.exchange.markets[symbol]
        best = m.book.best("Buy")
        price = m.spec.price(best.price) if best is not None else m.spec.start_price
        row = {
            "symbol": symbol,
            "id": UNKNOWN_LEVEL_ID,
            "side": "Buy",
            "size": 1,
            "price": price,
            "timestamp": rows.iso(self.exchange.clock()),
        }
        count = 0
        for table in (T_L2, T_L2_25):
            targets = self.hub.targets(table, symbol)
            if targets:
                payload = orjson.dumps({"table": table, "action": "update", "data": [row]})
                for session in targets:
                    session.send_raw(payload)
                    count += 1
        return count

    def delay_partials(self, seconds: float) -> None:
        """Delay partials after subscribe acks by `seconds` (0 = off)."""
        self.partial_delay = max(0.0, seconds)
