"""Shared helpers of the account tests: a test keyring backend and the simulator set-up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from app.account.credentials import CredentialStore
from app.account.session import PRIVATE_TOPICS
from app.feeds.bitmex.auth import ApiCredentials
from app.feeds.events import Event
from app.sim import SimConfig, SimServer
from tests.conftest import signal_future


class MemoryKeyring(KeyringBackend):
    """A keyring backend that lives in a dict (never the user's real keychain)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise PasswordDeleteError("not found")
        del self.items[(service, username)]


KEY = "DemoKeyAcct0001"
SECRET = "sim-account-secret-0123456789abcdefXYZ"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@contextlib.asynccontextmanager
async def running_sim() -> AsyncIterator[SimServer]:
    """The simulator for one test, started and stopped inside the test's own coroutine (a
    fixture would leave its driver task on the Qt loop between pytest's loop runs)."""
    server = SimServer(
        SimConfig(port=0, seed=7, rate=20.0, accounts=[(KEY, SECRET)], demo_activity=False)
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def quick_client(**overrides: Any) -> Callable[..., Any]:
    """A real BitmexClient for the private tables with fast reconnects for tests."""
    from app.feeds.bitmex.client import BitmexClient, BitmexConfig

    def factory(url: str, creds: ApiCredentials, on_event: Callable[[Event], None]) -> Any:
        config = BitmexConfig(
            url=url,
            symbols=[],
            topics=list(PRIVATE_TOPICS),
            credentials=creds,
            backoff_initial=0.3,
            backoff_max=1.0,
            **overrides,
        )
        return BitmexClient(config, on_event)

    return factory


def make_panel(qtbot: Any, sim: SimServer, **client: Any) -> Any:
    from app.widgets.account.panel import AccountPanel

    panel = AccountPanel(CredentialStore(environ={}), client_factory=quick_client(**client))
    qtbot.addWidget(panel)
    panel.demo_url = sim.url
    panel.resize(1100, 460)
    panel.show()
    return panel


async def wait_for(cond: Callable[[], bool], limit: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.02)


async def login(panel: Any, key: str = KEY, secret: str = SECRET) -> None:
    panel.login.set_env("demo")
    panel.login.key_edit.setText(key)
    panel.login.secret_edit.setText(secret)
    panel.login.login_button.click()


async def login_ok(panel: Any) -> None:
    """Log in and wait until every private table's snapshot has arrived."""
    fut = signal_future(panel.logged_in_changed)
    await login(panel)
    assert (await asyncio.wait_for(fut, 5))[0] is True
    versions = panel.account.store.table_versions
    await wait_for(lambda: all(v > 0 for v in versions.values()), what="private snapshots")


def panel_working(panel: Any) -> dict[str, tuple[str, float, float | None, float]]:
    panel.refresh_now()
    return {r.order_id: (r.side, r.qty, r.price, r.filled) for r in panel.working_model.rows()}


def sim_working(sim: SimServer) -> dict[str, tuple[str, float, float | None, float]]:
    orders = sim.account(KEY).open_orders()
    out: dict[str, tuple[str, float, float | None, float]] = {}
    for o in orders:
        out[o.order_id] = (o.side, float(o.order_qty), o.price, float(o.cum_qty))
    return out
