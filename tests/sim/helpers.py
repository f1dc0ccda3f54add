"""Raw-socket helpers for simulator tests (no Depthdesk client involved)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection

Msg = Any


def sign(secret: str, value: int) -> str:
    """hex(HMAC_SHA256(secret, "GET/realtime" + value)), independent of app code."""
    return hmac.new(secret.encode(), f"GET/realtime{value}".encode(), hashlib.sha256).hexdigest()


def auth_args(key: str, secret: str, ahead: int = 30) -> list[Any]:
    """authKeyExpires args valid for `ahead` seconds."""
    expires = int(time.time()) + ahead
    return [key, expires, sign(secret, expires)]


class Raw:
    """A websocket with JSON helpers that skip unrelated traffic."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[Msg] = []
        self.pending: list[Msg] = []

    async def send(self, msg: Any) -> None:
        """Send a JSON message (or a raw string)."""
        await self.ws.send(msg if isinstance(msg, str) else orjson.dumps(msg).decode())

    async def recv(self, wait: float = 3.0) -> Msg:
        """Next message, decoded (the text `pong` stays a string)."""
        text = await asyncio.wait_for(self.ws.recv(), wait)
        if text == "pong":
            msg: Msg = "pong"
        else:
            msg = orjson.loads(text)
        self.seen.append(msg)
        return msg

    async def until(self, pred: Callable[[Msg], bool], wait: float = 3.0) -> Msg:
        """First message satisfying `pred`, earlier skipped ones included (others stay pending)."""
        for i, msg in enumerate(self.pending):
            if pred(msg):
                del self.pending[i]
                return msg
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("expected message did not arrive")
            msg = await self.recv(remaining)
            if pred(msg):
                return msg
            self.pending.append(msg)

    async def collect(self, pred: Callable[[Msg], bool], seconds: float) -> list[Msg]:
        """Every message satisfying `pred` during `seconds`."""
        out: list[Msg] = []
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return out
            try:
                msg = await self.recv(remaining)
            except TimeoutError:
                return out
            if pred(msg):
                out.append(msg)

    async def sync(self) -> None:
        """Send `ping` and wait for `pong`: everything sent before it has arrived."""
        await self.send("ping")
        await self.until(lambda m: m == "pong")


def is_table(table: str, action: str | None = None) -> Callable[[Msg], bool]:
    """Predicate: a table message (of an action)."""

    def pred(m: Msg) -> bool:
        return (
            isinstance(m, dict)
            and m.get("table") == table
            and (action is None or m.get("action") == action)
        )

    return pred


def is_error(m: Msg) -> bool:
    """Predicate: an error reply."""
    return isinstance(m, dict) and "error" in m and "status" in m


def is_ack(topic: str, op: str = "subscribe") -> Callable[[Msg], bool]:
    """Predicate: the ack of one topic."""
    return lambda m: isinstance(m, dict) and m.get(op) == topic and m.get("success") is True
