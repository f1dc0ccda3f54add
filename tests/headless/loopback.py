"""A small BitMEX-like WebSocket server on 127.0.0.1 for client and CLI tests.

It speaks just enough of the realtime protocol to exercise a client over a real socket:
welcome, text ping/pong, subscribe/unsubscribe acks, one partial per topic from scripted
tables, authKeyExpires/authKey verification (HMAC of "GET/realtime" + expires), cancelAllAfter,
and faults: handshake rejections by HTTP status, dropped connections, stalls, withheld partials.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

WELCOME = {
    "info": "Welcome to the BitMEX Realtime API.",
    "version": "2.0.0",
    "timestamp": "2021-04-17T16:41:00.033Z",
    "docs": "https://www.bitmex.com/app/wsAPI",
    "limit": {},
}


def l2_row(symbol: str, row_id: int, side: str, size: float, price: float) -> dict[str, Any]:
    """One orderBookL2 row in the 2021 shape."""
    return {"symbol": symbol, "id": row_id, "side": side, "size": size, "price": price}


def l2_partial(symbol: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """An orderBookL2 partial for one symbol."""
    return {
        "table": "orderBookL2",
        "action": "partial",
        "keys": ["symbol", "id", "side"],
        "types": {
            "symbol": "symbol",
            "id": "long",
            "side": "symbol",
            "size": "long",
            "price": "float",
        },
        "foreignKeys": {"symbol": "instrument", "side": "side"},
        "attributes": {"symbol": "parted", "id": "sorted"},
        "filter": {"symbol": symbol},
        "data": rows,
    }


def generic_partial(table: str, symbol: str | None, keys: list[str], rows: list[Any]) -> dict:
    """A partial for any table."""
    return {
        "table": table,
        "action": "partial",
        "keys": keys,
        "types": {},
        "attributes": {},
        "filter": {"symbol": symbol} if symbol else {},
        "data": rows,
    }


@dataclass
class Conn:
    """What one accepted connection received (decoded JSON or raw text) and its socket."""

    ws: ServerConnection
    path: str
    received: list[Any] = field(default_factory=list)
    authenticated: bool = False


class MiniBitmex:
    """Scripted BitMEX-like server. Start with `async with MiniBitmex() as srv:`."""

    def __init__(self, *, secret: str | None = None, key: str | None = None) -> None:
        self.accounts: dict[str, str] = {key: secret} if key and secret else {}
        self.books: dict[str, list[dict[str, Any]]] = {}
        self.extra_partials: dict[str, dict[str, Any]] = {}
        self.reject_statuses: list[int] = []
        self.handshake_times: list[float] = []
        self.conns: list[Conn] = []
        self.answer_pings = True
        self.withhold_partials: set[str] = set()
        self.withheld: list[str] = []
        self.on_message: Callable[[Conn, Any], Awaitable[bool]] | None = None
        self.connected = asyncio.Event()
        self._server: Server | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> MiniBitmex:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            ping_interval=None,
            max_size=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        """ws:// URL of /realtime."""
        return f"ws://127.0.0.1:{self.port}/realtime"

    @property
    def mux_url(self) -> str:
        """ws:// URL of /realtimemd."""
        return f"ws://127.0.0.1:{self.port}/realtimemd"

    # -- scripted faults ------------------------------------------------------------------------

    async def drop(self) -> None:
        """Abruptly drop every open connection (no close frame)."""
        for conn in self.conns:
            conn.ws.transport.abort()

    async def send(self, message: Any, conn: Conn | None = None) -> None:
        """Send a JSON message (or raw text) on the newest (or the given) connection."""
        target = conn or self.conns[-1]
        text = message if isinstance(message, str) else orjson.dumps(message).decode()
        await target.ws.send(text)

    async def wait_conns(self, n: int, within: float = 5.0) -> Conn:
        """Wait until at least `n` connections were accepted; the newest one."""
        async with asyncio.timeout(within):
            while len(self.conns) < n:  # noqa: ASYNC110 - polling a plain list
                await asyncio.sleep(0.005)
        return self.conns[-1]

    async def wait_for(self, pred: Callable[[], bool], within: float = 5.0) -> None:
        """Poll until `pred()` holds."""
        async with asyncio.timeout(within):
            while not pred():  # noqa: ASYNC110 - polling an arbitrary predicate
                await asyncio.sleep(0.005)

    # -- protocol -------------------------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshake_times.append(time.monotonic())
        if self.reject_statuses:
            status = self.reject_statuses.pop(0)
            response = connection.respond(status, '{"error":"rejected by test server"}\n')
            response.headers = Headers({"Content-Type": "application/json"})
            response.headers["Content-Length"] = str(len(response.body))
            return response
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        conn = Conn(ws, ws.request.path if ws.request else "")
        self.conns.append(conn)
        self.connected.set()
        mux = conn.path.startswith("/realtimemd")
        if not mux:
            await self.send(WELCOME, conn)
        with contextlib.suppress(Exception):
            async for raw in ws:
                if raw == "ping":
                    conn.received.append(raw)
                    if self.answer_pings:
                        await ws.send("pong")
                    continue
                try:
                    msg = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    conn.received.append(raw)
                    continue
                conn.received.append(msg)
                if self.on_message is not None and await self.on_message(conn, msg):
                    continue
                if mux:
                    await self._mux(conn, msg)
                else:
                    for reply in self.replies(conn, msg):
                        await self.send(reply, conn)

    async def _mux(self, conn: Conn, packet: Any) -> None:
        kind, stream, topic = packet[0], packet[1], packet[2]
        state = conn.__dict__.setdefault("streams", {})
        if kind == 1:
            state[stream] = Conn(conn.ws, f"stream:{stream}")
            await self.send([0, stream, topic, WELCOME], conn)
        elif kind == 0 and stream in state:
            inner: Conn = state[stream]
            inner.received.append(packet[3])
            for reply in self.replies(inner, packet[3]):
                await self.send([0, stream, topic, reply], conn)
        elif kind == 2:
            state.pop(stream, None)

    def verify(self, key: str, stamp: int, signature: str) -> bool:
        """HMAC check of an auth op, as the real server does it."""
        secret = self.accounts.get(key)
        if secret is None or not isinstance(stamp, int):
            return False
        expected = hmac.new(
            secret.encode(), f"GET/realtime{stamp}".encode(), hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, signature)

    def replies(self, conn: Conn, msg: Any) -> list[Any]:
        """Replies to one client op."""
        if not isinstance(msg, dict):
            return [{"status": 400, "error": "Unknown or invalid command.", "meta": {}}]
        op = msg.get("op")
        args = msg.get("args")
        if op in ("authKeyExpires", "authKey"):
            key, stamp, sig = args
            ok = self.verify(key, stamp, sig)
            if op == "authKeyExpires" and stamp < int(time.time()):
                ok = False
            if ok:
                conn.authenticated = True
                return [{"success": True, "request": msg}]
            return [{"status": 401, "error": "Signature not valid.", "meta": {}, "request": msg}]
        if op == "cancelAllAfter":
            return [{"now": "2021-04-17T16:41:00.033Z", "cancelTime": 0, "request": msg}]
        topics = args if isinstance(args, list) else [args]
        if op == "unsubscribe":
            return [{"success": True, "unsubscribe": t, "request": msg} for t in topics]
        if op != "subscribe":
            return [{"status": 400, "error": f"Unknown op {op}", "meta": {}, "request": msg}]
        if len(topics) > 20:
            return [
                {"status": 400, "error": "Too many args sent. Max length is 20.", "request": msg}
            ]
        out: list[Any] = [{"success": True, "subscribe": t, "request": msg} for t in topics]
        for topic in topics:
            if topic in self.withhold_partials:
                self.withhold_partials.discard(topic)
                self.withheld.append(topic)
                continue
            out.append(self.partial_for(topic))
        return out

    def partial_for(self, topic: str) -> dict[str, Any]:
        """The partial the server sends for a topic."""
        if topic in self.extra_partials:
            return self.extra_partials[topic]
        table, _, symbol = topic.partition(":")
        if table == "orderBookL2":
            return l2_partial(symbol, [dict(r) for r in self.books.get(symbol, [])])
        if table in ("order", "execution"):
            return generic_partial(table, symbol or None, ["orderID"], [])
        if table in ("margin", "wallet"):
            return generic_partial(table, None, ["account", "currency"], [])
        if table == "position":
            return generic_partial(table, symbol or None, ["account", "symbol"], [])
        if table == "instrument":
            return generic_partial(table, symbol or None, ["symbol"], [])
        return generic_partial(table, symbol or None, [], [])
