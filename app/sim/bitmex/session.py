"""One logical BitMEX realtime connection: welcome, ops, acks, errors, auth, partials.

A session is either a whole socket on /realtime or one stream of a /realtimemd socket; it only
knows how to write bytes (`Link` plus an optional multiplex envelope).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from app.sim.bitmex import rows
from app.sim.bitmex.auth import AuthOutcome, verify
from app.sim.bitmex.constants import (
    API_VERSION,
    APP_NAME,
    DOCS_URL,
    E_ALREADY_AUTHED,
    E_ALREADY_SUBSCRIBED,
    E_AUTH_REQUIRED,
    E_BAD_AUTH_ARGS,
    E_BAD_TIMEOUT,
    E_DECODE,
    E_NOT_SUBSCRIBED,
    E_TOO_MANY_ARGS,
    E_UNKNOWN_OP,
    E_UNKNOWN_TABLE,
    HELP,
    MAX_ARGS,
    NO_SYMBOL_TABLES,
    OP_AUTH_KEY,
    OP_AUTH_KEY_EXPIRES,
    OP_CANCEL_ALL_AFTER,
    OP_SUBSCRIBE,
    OP_UNSUBSCRIBE,
    PING,
    PONG,
    PRIVATE_TABLES,
    PUBLIC_TABLES,
    WELCOME_INFO,
)
from app.sim.bitmex.hub import BitmexHub, Topic

if TYPE_CHECKING:
    from app.sim.market.accounts import DemoAccount
    from app.sim.market.exchange import Exchange

_PUBLIC = set(PUBLIC_TABLES)
_PRIVATE = set(PRIVATE_TABLES)


class Link(Protocol):
    """The physical socket a session writes to."""

    def write(self, data: bytes | str) -> None: ...


class SessionHost(Protocol):
    """What a session needs from its server."""

    hub: BitmexHub
    exchange: Exchange
    partial_delay: float

    def call_later(self, delay: float, callback: Callable[[], None]) -> None: ...


class Session:
    """Protocol state of one logical connection."""

    def __init__(
        self,
        host: SessionHost,
        link: Link,
        *,
        heartbeat: bool = False,
        envelope: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.host = host
        self.link = link
        self.heartbeat = heartbeat
        self.envelope = envelope
        self.subs: set[Topic] = set()
        self.account: DemoAccount | None = None
        self.closed = False
        self.errors = 0

    # -- output ---------------------------------------------------------------------------

    def send_raw(self, payload: bytes) -> None:
        """Write one pre-encoded message (wrapped in the multiplex envelope if any)."""
        if self.closed:
            return
        if self.envelope is not None:
            head, tail = self.envelope
            payload = head + payload + tail
        self.link.write(payload)

    def send(self, msg: Any) -> None:
        """Encode and write one message."""
        self.send_raw(orjson.dumps(msg))

    def error(self, status: int, text: str, request: Any) -> None:
        """The BitMEX error shape."""
        self.errors += 1
        self.send({"status": status, "error": text, "meta": {}, "request": request})

    def welcome(self) -> None:
        """The first frame of every (logical) connection."""
        self.send(
            {
                "info": WELCOME_INFO,
                "version": API_VERSION,
                "timestamp": rows.iso(time.time()),
                "docs": DOCS_URL,
                "heartbeatEnabled": self.heartbeat,
                "appName": APP_NAME,
                "limit": {},
            }
        )

    def close(self) -> None:
        """Detach from the hub; nothing is written afterwards."""
        if not self.closed:
            self.closed = True
            self.host.hub.drop(self)

    # -- input ----------------------------------------------------------------------------

    def handle_text(self, text: str) -> None:
        """One text frame from the client."""
        stripped = text.strip()
        if stripped == PING:
            self.link.write(PONG)
            return
        if stripped == "help":
            self.send(HELP)
            return
        try:
            msg = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            self.error(400, E_DECODE.format(detail=str(exc).split(":")[0]), text[:200])
            return
        self.handle_message(msg)

    def handle_message(self, msg: Any) -> None:
        """One decoded client message."""
        if msg == "help":
            self.send(HELP)
            return
        if msg == PING:
            self.link.write(PONG)
            return
        if isinstance(msg, dict) and "op" not in msg:
            # Short form shown in the multiplexing docs: {"subscribe": "position"}.
            for short in (OP_SUBSCRIBE, OP_UNSUBSCRIBE):
                if short in msg:
                    self._subscription(short, msg[short], msg)
                    return
        if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
            self.error(400, E_UNKNOWN_OP.format(op=None), msg)
            return
        op = msg["op"]
        args = msg.get("args")
        if op in (OP_SUBSCRIBE, OP_UNSUBSCRIBE):
            self._subscription(op, args, msg)
        elif op in (OP_AUTH_KEY_EXPIRES, OP_AUTH_KEY):
            self._auth(op, args, msg)
        elif op == OP_CANCEL_ALL_AFTER:
            self._cancel_all_after(args, msg)
        else:
            self.error(400, E_UNKNOWN_OP.format(op=op), msg)

    # -- subscriptions --------------------------------------------------------------------

    def subscribe_topics(self, topics: list[str], request: Any) -> None:
        """Subscribe (used by the op and by ?subscribe= in the URL)."""
        self._subscription(OP_SUBSCRIBE, topics, request)

    def _subscription(self, op: str, args: Any, request: Any) -> None:
        topics = [args] if isinstance(args, str) else args
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            self.error(400, E_UNKNOWN_TABLE.format(table=args), request)
            return
        if len(topics) > MAX_ARGS:
            self.error(400, E_TOO_MANY_ARGS, request)
            return
        for topic in topics:
            table, _, symbol = topic.partition(":")
            sym: str | None = symbol or None
            if table in NO_SYMBOL_TABLES:
                sym = None
            if table not in _PUBLIC and table not in _PRIVATE:
                self.error(400, E_UNKNOWN_TABLE.format(table=table), request)
                continue
            key: Topic = (table, sym)
            if op == OP_UNSUBSCRIBE:
                if key not in self.subs:
                    self.error(400, E_NOT_SUBSCRIBED.format(topic=topic), request)
                    continue
                self.host.hub.remove(self, table, sym)
                self.send({"success": True, "unsubscribe": topic, "request": request})
                continue
            if table in _PRIVATE and self.account is None:
                self.error(401, E_AUTH_REQUIRED, request)
                continue
            if key in self.subs:
                self.error(400, E_ALREADY_SUBSCRIBED.format(topic=topic), request)
                continue
            self.host.hub.add(self, table, sym)
            self.send({"success": True, "subscribe": topic, "request": request})
            delay = self.host.partial_delay
            if delay > 0:
                self.host.call_later(delay, functools.partial(self._send_partial, key))
            else:
                self._send_partial(key)

    def _send_partial(self, key: Topic) -> None:
        if self.closed or key not in self.subs:
            return
        table, sym = key
        self.send(self.host.hub.partial(table, sym, self.account))

    # -- auth -----------------------------------------------------------------------------

    def authenticate(self, outcome: AuthOutcome) -> None:
        """Adopt a successful authentication (op or upgrade headers)."""
        self.account = outcome.account
        self.host.hub.attach_account(self)

    def _auth(self, op: str, args: Any, request: Any) -> None:
        if self.account is not None:
            self.error(400, E_ALREADY_AUTHED, request)
            return
        if not isinstance(args, list) or len(args) != 3:
            self.error(400, E_BAD_AUTH_ARGS, request)
            return
        key, value, signature = args
        outcome = verify(
            self.host.exchange.accounts,
            key,
            value,
            signature,
            nonce=op == OP_AUTH_KEY,
            now=time.time(),
        )
        if outcome.account is None:
            self.error(outcome.status, outcome.error or "", request)
            return
        self.authenticate(outcome)
        self.send({"success": True, "request": request})

    # -- dead man's switch ----------------------------------------------------------------

    def _cancel_all_after(self, args: Any, request: Any) -> None:
        if self.account is None:
            self.error(401, E_AUTH_REQUIRED, request)
            return
        value = args[0] if isinstance(args, list) and len(args) == 1 else args
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.error(400, E_BAD_TIMEOUT, request)
            return
        exchange = self.host.exchange
        now = exchange.clock()
        cancel_at = exchange.set_cancel_all_after(self.account, value)
        self.send(
            {
                "now": rows.iso(now),
                "cancelTime": rows.iso(cancel_at) if cancel_at is not None else 0,
                "request": request,
            }
        )
