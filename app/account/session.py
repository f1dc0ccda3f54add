"""One logged-in BitMEX account: a private connection, its account store and dead man's switch.

The account connection is separate from the market-data connection, so logging in or out never
disturbs the ladder or the chart. Authentication failures end the connection (the client raises
`FeedFatal` instead of retrying), are classified into an `AuthProblem`, and are never retried
automatically. Logout unsubscribes the private tables, closes the socket and drops the secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

from app.account.auth_errors import AuthProblem, classify
from app.account.constants import Environment
from app.account.dms import DeadMansSwitch, DmsStatus
from app.feeds.bitmex import constants as bx
from app.feeds.bitmex.auth import ApiCredentials
from app.feeds.events import AuthResult, Event, FeedStatus, Reset, TableRows

log = logging.getLogger(__name__)

PRIVATE_TOPICS: tuple[str, ...] = (bx.ORDER, bx.EXECUTION, bx.POSITION, bx.MARGIN, bx.WALLET)
ACCOUNT_TABLES = frozenset(PRIVATE_TOPICS)

SessionPhase = Literal["connecting", "authenticated", "failed", "closed"]


class AccountStoreLike(Protocol):
    """What the session needs from the account store."""

    def apply(self, ev: TableRows) -> Any: ...


class ClientLike(Protocol):
    """What the session needs from the BitMEX client."""

    async def run(self) -> None: ...
    async def close(self) -> None: ...
    async def unsubscribe(self, topics: list[str]) -> None: ...
    async def cancel_all_after(self, timeout_ms: int) -> None: ...


ClientFactory = Callable[[str, ApiCredentials, Callable[[Event], None]], ClientLike]


def bitmex_client_factory(
    url: str, creds: ApiCredentials, on_event: Callable[[Event], None]
) -> ClientLike:
    """A real BitmexClient subscribed to the private tables only (no symbol filter)."""
    from app.feeds.bitmex.client import BitmexClient, BitmexConfig

    config = BitmexConfig(url=url, symbols=[], topics=list(PRIVATE_TOPICS), credentials=creds)
    return BitmexClient(config, on_event)


def new_account_store() -> AccountStoreLike:
    from app.state.account import AccountStore

    return AccountStore()


class AccountSession:
    """Runs the private connection; every event goes to the store, the switch and `on_event`."""

    def __init__(
        self,
        env: Environment,
        url: str,
        credentials: ApiCredentials,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_phase: Callable[[SessionPhase, AuthProblem | None], None] | None = None,
        on_dms: Callable[[DmsStatus], None] | None = None,
        client_factory: ClientFactory = bitmex_client_factory,
        store: AccountStoreLike | None = None,
        dms_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env = env
        self.url = url
        self.key_id = credentials.key
        self.on_event = on_event
        self.on_phase = on_phase
        self.store = store if store is not None else new_account_store()
        self.client: ClientLike | None = client_factory(url, credentials, self._on_event)
        self.dms = DeadMansSwitch(self._send_dms, venue=bx.VENUE, clock=dms_clock, on_change=on_dms)
        self.phase: SessionPhase = "connecting"
        self.problem: AuthProblem | None = None
        self.fatal: str | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"AccountSession(env={self.env!r}, key={self.key_id[:4]}…, phase={self.phase!r})"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the connection and the switch (inside the running loop)."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        log.info("account %s: connecting to %s with key %s…", self.env, self.url, self.key_id[:4])
        self._tasks = [
            loop.create_task(self._run_client(), name=f"account:{self.env}"),
            loop.create_task(self.dms.run(), name=f"dms:{self.env}"),
        ]

    async def logout(self) -> None:
        """Unsubscribe the private tables, close the socket, forget the credentials."""
        client, self.client = self.client, None
        self.dms.forget()
        if client is not None:
            with contextlib.suppress(Exception):
                if self.phase == "authenticated":
                    await client.unsubscribe(list(PRIVATE_TOPICS))
            with contextlib.suppress(Exception):
                await client.close()
            _drop_credentials(client)
        clear = getattr(self.store, "clear", None)
        if callable(clear):
            clear()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._set_phase("closed", self.problem)
        log.info("account %s: logged out (key %s…)", self.env, self.key_id[:4])

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    # -- internals -----------------------------------------------------------------------------

    async def _send_dms(self, timeout_ms: int) -> None:
        if self.client is None:
            raise ConnectionError("logged out")
        await self.client.cancel_all_after(timeout_ms)

    async def _run_client(self) -> None:
        from app.feeds.connection import FeedFatal

        client = self.client
        if client is None:
            return
        try:
            await client.run()
        except asyncio.CancelledError:
            raise
        except FeedFatal as exc:
            self.dms.set_connected(False, "connection ended")
            if exc.auth:
                if self.problem is None:
                    self.problem = classify(str(exc), exc.status)
                self._set_phase("failed", self.problem)
            else:
                self.fatal = str(exc)[:300]
                self._set_phase("failed", None)
            with contextlib.suppress(Exception):
                await client.close()
            return
        except Exception as exc:
            log.exception("account connection failed")
            self.fatal = f"{type(exc).__name__}: {exc}"[:300]
            self.dms.set_connected(False, "connection ended")
            self._set_phase("failed", None)
            return
        if self.phase != "failed":
            self._set_phase("closed", None)

    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, TableRows) and ev.table in ACCOUNT_TABLES:
            try:
                self.store.apply(ev)
            except Exception:  # a bad row must not kill the connection
                log.exception("account store rejected %s rows", ev.table)
        elif isinstance(ev, Reset):
            mark_stale = getattr(self.store, "mark_stale", None)
            if callable(mark_stale):
                mark_stale()  # rows stay visible until each table's fresh partial arrives
        if isinstance(ev, AuthResult):
            if ev.success:
                self.problem = None
                self._set_phase("authenticated", None)
            else:
                self.problem = classify(ev.error, ev.status)
                self._set_phase("failed", self.problem)
        elif (
            isinstance(ev, FeedStatus)
            and ev.state in ("reconnecting", "connecting")
            and self.phase == "authenticated"
        ):
            self._set_phase("connecting", None)
        self.dms.handle_event(ev)
        if self.on_event is not None:
            self.on_event(ev)

    def _set_phase(self, phase: SessionPhase, problem: AuthProblem | None) -> None:
        if phase == self.phase and problem is self.problem:
            return
        self.phase = phase
        if problem is not None:
            log.warning("account %s: %s -> %s", self.env, phase, problem.message())
        else:
            log.info("account %s: %s", self.env, phase)
        if self.on_phase is not None:
            self.on_phase(phase, problem)


def _drop_credentials(client: Any) -> None:
    """Remove the secret from the closed client's configuration and protocol."""
    for holder in (
        getattr(client, "config", None),
        getattr(getattr(client, "protocol", None), "config", None),
    ):
        if holder is not None and hasattr(holder, "credentials"):
            with contextlib.suppress(Exception):
                holder.credentials = None
