"""Account panel against a scripted client: login outcomes, no retry on auth failure, logout,
dead man's switch controls and the non-blocking disarm question."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.account.credentials import CredentialStore
from app.feeds.bitmex.auth import ApiCredentials
from app.feeds.connection import FeedFatal
from app.feeds.events import AuthResult, CancelAllAfterReply, Event, FeedStatus, Reset, TableRows
from tests.conftest import signal_future

pytestmark = [
    pytest.mark.gui,
    pytest.mark.asyncio,
    pytest.mark.qt_loop,
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]

SECRET = "panel-test-secret-Xq81"


class ScriptedClient:
    """Plays a login outcome; answers cancelAllAfter like the server."""

    def __init__(self, on_event: Callable[[Event], None], outcome: tuple[str | None, int | None]):
        self.on_event = on_event
        self.outcome = outcome
        self.sent: list[int] = []
        self.unsubscribed: list[str] = []
        self.closed = False
        self.stop = asyncio.Event()
        self.answer_dms = True
        self.config = type("Cfg", (), {"credentials": object()})()

    async def run(self) -> None:
        self.on_event(FeedStatus("bitmex", "connecting"))
        await asyncio.sleep(0)
        error, status = self.outcome
        if error is not None:
            self.on_event(AuthResult("bitmex", False, error, status))
            raise FeedFatal(f"authentication rejected: {error}", status=status, auth=True)
        self.on_event(AuthResult("bitmex", True))
        self.on_event(
            TableRows(
                "bitmex",
                "order",
                "partial",
                ["orderID"],
                [
                    {
                        "orderID": "o1",
                        "account": 1,
                        "symbol": "XBTUSD",
                        "side": "Buy",
                        "ordType": "Limit",
                        "orderQty": 10,
                        "price": 100.5,
                        "cumQty": 0,
                        "leavesQty": 10,
                        "ordStatus": "New",
                        "timestamp": "2026-01-01T00:00:00.000Z",
                    }
                ],
                0.0,
            )
        )
        self.on_event(FeedStatus("bitmex", "live"))
        await self.stop.wait()

    async def close(self) -> None:
        self.closed = True
        self.stop.set()

    async def unsubscribe(self, topics: list[str]) -> None:
        self.unsubscribed.extend(topics)

    async def cancel_all_after(self, timeout_ms: int) -> None:
        self.sent.append(timeout_ms)
        if self.answer_dms:
            now = 1_700_000_000.0
            cancel = now + timeout_ms / 1000 if timeout_ms else None
            self.on_event(CancelAllAfterReply("bitmex", now, cancel, timeout_ms))


class Factory:
    def __init__(self, outcome: tuple[str | None, int | None] = (None, None)) -> None:
        self.outcome = outcome
        self.clients: list[ScriptedClient] = []

    def __call__(self, url: str, creds: ApiCredentials, on_event: Callable[[Event], None]) -> Any:
        client = ScriptedClient(on_event, self.outcome)
        self.clients.append(client)
        return client


def _panel(qtbot: Any, factory: Factory) -> Any:
    from app.widgets.account.panel import AccountPanel

    panel = AccountPanel(CredentialStore(environ={}), client_factory=factory)
    qtbot.addWidget(panel)
    panel.demo_url = "ws://127.0.0.1:1/realtime"
    panel.resize(900, 500)
    panel.show()
    return panel


async def _login(panel: Any, key: str = "KEY1", secret: str = SECRET) -> str:
    fut = signal_future(panel.phase_changed)
    panel.login.key_edit.setText(key)
    panel.login.secret_edit.setText(secret)
    panel.login.login_button.click()
    phase = (await asyncio.wait_for(fut, 2))[0]
    # a failed login emits "failed" after "connecting" updates; wait for the final phase
    return str(phase)


async def test_login_success_shows_account_page(qtbot: Any) -> None:
    factory = Factory()
    panel = _panel(qtbot, factory)
    messages: list[str] = []
    panel.status_message.connect(lambda text, _ms: messages.append(text))
    assert await _login(panel) == "authenticated"
    assert panel.stack.currentWidget() is panel.account_page
    assert panel.login.secret_edit.text() == ""  # the secret does not linger in the form
    assert any("Logged in" in m for m in messages)
    panel.refresh_now()
    assert [r.order_id for r in panel.working_model.rows()] == ["o1"]
    assert panel.tabs.tabText(0) == "Working orders (1)"
    assert panel.dms_bar.toggle.isEnabled()


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        ("Invalid API Key.", 401, "Wrong API key"),
        ("Signature not valid.", 401, "Bad signature"),
        ("Request has expired.", 401, "Request expired"),
        ("Access denied: this key is disabled", 403, "Login rejected"),
    ],
)
async def test_login_failures_are_explained_and_not_retried(
    qtbot: Any, error: str, status: int, title: str
) -> None:
    factory = Factory((error, status))
    panel = _panel(qtbot, factory)
    messages: list[str] = []
    alerts: list[Any] = []
    panel.status_message.connect(lambda text, _ms: messages.append(text))
    panel.alert.connect(alerts.append)
    logged_out = signal_future(panel.logged_in_changed)
    assert await _login(panel) == "failed"
    assert panel.stack.currentWidget() is panel.login_page
    shown = panel.login.error_text()
    assert title in shown and error.rstrip(".") in shown
    assert any(title in m and error in m for m in messages)
    await asyncio.sleep(0.2)
    assert [a.kind for a in alerts] == ["auth"]  # one toast, not one per layer
    assert sum(title in m for m in messages) == 1
    # let the clean-up run; the client is never restarted (no reconnect storm)
    await asyncio.sleep(0.2)
    assert len(factory.clients) == 1 and factory.clients[0].closed
    assert panel.account is None
    assert not logged_out.done()  # never was logged in
    assert panel.credentials.in_memory("demo") == []  # the rejected secret is dropped
    assert panel.login.login_button.isEnabled()  # the form is usable again


async def test_empty_fields_are_refused(qtbot: Any) -> None:
    factory = Factory()
    panel = _panel(qtbot, factory)
    panel.login.key_edit.setText("K")
    panel.login.login_button.click()
    assert "Enter both" in panel.login.error_text()
    assert factory.clients == []


async def test_demo_without_simulator_says_so(qtbot: Any) -> None:
    factory = Factory()
    panel = _panel(qtbot, factory)
    panel.demo_url = None
    panel.login.key_edit.setText("K")
    panel.login.secret_edit.setText(SECRET)
    panel.login.login_button.click()
    assert "simulator is not running" in panel.login.error_text()
    assert factory.clients == []


async def test_logout_unsubscribes_and_forgets_secret(qtbot: Any) -> None:
    factory = Factory()
    panel = _panel(qtbot, factory)
    assert await _login(panel) == "authenticated"
    assert panel.credentials.in_memory("demo") == ["KEY1"]
    client = factory.clients[0]
    assert await panel.logout(ask=True)
    assert client.closed
    assert set(client.unsubscribed) == {"order", "execution", "position", "margin", "wallet"}
    assert panel.credentials.in_memory("demo") == []
    assert panel.stack.currentWidget() is panel.login_page
    assert panel.working_model.rowCount() == 0
    assert panel.account is None


async def test_dms_toggle_arms_and_disarms_with_confirmation(qtbot: Any) -> None:
    factory = Factory()
    panel = _panel(qtbot, factory)
    assert await _login(panel) == "authenticated"
    client = factory.clients[0]
    panel.dms_bar.timeout.setValue(30)
    armed = signal_future(panel.dms_changed)
    panel.dms_bar.toggle.click()
    await asyncio.wait_for(armed, 2)
    for _ in range(20):
        if panel.account.dms.status().phase == "armed":
            break
        await asyncio.sleep(0.02)
    assert client.sent[0] == 30_000
    assert panel.dms_bar.state_label.text().startswith("armed")
    assert "cancel in 0:" in panel.dms_bar.countdown.text()
    panel.dms_bar.toggle.click()
    for _ in range(20):
        if panel.account.dms.status().phase == "off":
            break
        await asyncio.sleep(0.02)
    assert client.sent[-1] == 0
    assert panel.dms_bar.state_label.text() == "off (confirmed by the server)"


async def test_logout_with_switch_on_asks_without_blocking(qtbot: Any) -> None:
    factory = Factory()
    panel = _panel(qtbot, factory)
    assert await _login(panel) == "authenticated"
    client = factory.clients[0]
    panel.account.dms.arm(60)
    await panel.account.dms.step()
    assert panel.account.dms.status().phase == "armed"
    # cancel keeps everything as it is
    task = asyncio.get_running_loop().create_task(panel.logout(ask=True))
    for _ in range(50):
        if panel.pending_question is not None:
            break
        await asyncio.sleep(0.01)
    assert panel.pending_question is not None
    assert panel.pending_question.box.isVisible()
    panel.pending_question.click("cancel")
    assert await asyncio.wait_for(task, 2) is False
    assert panel.account is not None and panel.account.dms.enabled
    # disarm and log out
    task = asyncio.get_running_loop().create_task(panel.logout(ask=True))
    for _ in range(50):
        if panel.pending_question is not None:
            break
        await asyncio.sleep(0.01)
    question = panel.pending_question
    assert question is not None
    question.click("disarm")
    assert await asyncio.wait_for(task, 3) is True
    assert client.sent[-1] == 0
    assert panel.account is None


async def test_logout_reports_unconfirmed_disarm(qtbot: Any) -> None:
    import app.widgets.account.panel as panel_mod

    factory = Factory()
    panel = _panel(qtbot, factory)
    assert await _login(panel) == "authenticated"
    client = factory.clients[0]
    panel.account.dms.arm(60)
    await panel.account.dms.step()
    client.answer_dms = False
    alerts: list[Any] = []
    panel.alert.connect(alerts.append)
    old = panel_mod.DISARM_WAIT_S
    panel_mod.DISARM_WAIT_S = 0.2
    try:
        assert await panel.logout(ask=False)
    finally:
        panel_mod.DISARM_WAIT_S = old
    assert "Could not confirm" in panel.login.error_text()
    assert any(a.kind == "dms" for a in alerts)


class FakeBridge:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.forwarded: list[Any] = []
        self.dropped = 0
        self.taps: list[Any] = []

    def on_event(self, ev: Any) -> None:
        self.events.append(ev)

    def on_forwarded(self, ev: Any) -> None:
        self.events.append(ev)
        self.forwarded.append(ev)

    def drop_forwarded(self) -> None:
        self.dropped += 1

    def add_tap(self, tap: Any) -> None:
        self.taps.append(tap)

    def remove_tap(self, tap: Any) -> None:
        self.taps.remove(tap)


class FakeMarket:
    def __init__(self, venue_key: str, has_account: bool) -> None:
        self.spec = type("Spec", (), {"venue_key": venue_key})()
        self.url = "ws://127.0.0.1:1/realtime"
        self.has_account = has_account
        self.bridge = FakeBridge()
        self.state = None
        self.client = None


async def test_private_rows_reach_a_market_session_without_account(qtbot: Any) -> None:
    factory = Factory()
    panel = _panel(qtbot, factory)
    market = FakeMarket("demo", has_account=False)
    panel.bind_session(market)
    assert market.bridge.taps  # market disconnects are watched
    assert await _login(panel) == "authenticated"
    forwarded = [e for e in market.bridge.events if isinstance(e, TableRows)]
    assert [e.table for e in forwarded] == ["order"]
    assert market.bridge.forwarded == forwarded  # marked as another connection's rows
    # another market session (a symbol switch) gets the account's rows as partials at once
    switched = FakeMarket("demo", has_account=False)
    panel.bind_session(switched)
    partials = {e.table: e for e in switched.bridge.forwarded if isinstance(e, TableRows)}
    assert set(partials) == {"order", "execution", "position", "margin", "wallet"}
    assert all(e.action == "partial" for e in partials.values())
    assert [r["orderID"] for r in partials["order"].rows] == [
        r["orderID"] for r in forwarded[0].rows
    ]
    panel.bind_session(market)
    # the account connection's own reconnect reaches the market session as a forwarded Reset
    factory.clients[0].on_event(Reset("bitmex", "reconnect"))
    assert isinstance(market.bridge.forwarded[-1], Reset)
    # logging out makes the market session forget the forwarded rows
    dropped = market.bridge.dropped
    assert await panel.logout(ask=False)
    assert market.bridge.dropped > dropped
    # a session on another environment, or with its own account, gets nothing
    for other in (FakeMarket("live", False), FakeMarket("demo", True)):
        panel.bind_session(other)
        factory.clients[0].on_event(
            TableRows("bitmex", "order", "update", ["orderID"], [{"orderID": "o1"}], 0.0)
        )
        assert other.bridge.events == []
    assert market.bridge.taps == []  # unbinding removed the tap


async def test_market_disconnect_toast(qtbot: Any) -> None:
    panel = _panel(qtbot, Factory())
    market = FakeMarket("demo", has_account=True)
    panel.bind_session(market)
    alerts: list[Any] = []
    panel.alert.connect(alerts.append)
    tap = market.bridge.taps[0]
    tap(FeedStatus("bitmex", "reconnecting", "boom"))
    assert alerts == []  # never was live
    tap(FeedStatus("bitmex", "live"))
    tap(FeedStatus("bitmex", "reconnecting", "socket closed"))
    tap(FeedStatus("bitmex", "reconnecting", "socket closed"))
    assert [(a.kind, a.text) for a in alerts] == [("disconnect", "socket closed")]


async def test_alert_options_and_settings_round_trip(qtbot: Any, tmp_path: Any) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QWidget

    from app.gui.notifications import Notifier

    panel = _panel(qtbot, Factory())
    host = QWidget()
    qtbot.addWidget(host)
    notifier = Notifier(host)
    panel.set_notifier(notifier)
    opts = panel.alert_options
    opts.sound.setChecked(True)
    opts.kind_boxes["fill"].setChecked(False)
    opts.liq_distance.setValue(2.5)
    assert notifier.sound and "fill" not in notifier.enabled_kinds
    assert panel.liquidation_watch.distance_pct == 2.5
    panel.dms_bar.timeout.setValue(45)
    assert await _login(panel) == "authenticated"
    path = str(tmp_path / "s.ini")
    settings = QSettings(path, QSettings.Format.IniFormat)
    panel.save_settings(settings)
    settings.sync()
    text = Path(path).read_text()  # noqa: ASYNC240
    assert "KEY1" in text and SECRET not in text
    other = _panel(qtbot, Factory())
    other.restore_settings(QSettings(path, QSettings.Format.IniFormat))
    assert other.dms_bar.timeout.value() == 45
    assert other.alert_options.liq_distance.value() == 2.5
    assert other.alert_options.sound.isChecked()
    assert "fill" not in other.alert_options.enabled_kinds()
    assert other.login.key_edit.text() == "KEY1"  # the last key id, never the secret
    assert other.login.secret_edit.text() == ""


async def test_login_to_unreachable_server_can_be_cancelled(qtbot: Any) -> None:
    import socket

    from app.widgets.account.panel import AccountPanel
    from tests.account.helpers import quick_client, wait_for

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    panel = AccountPanel(CredentialStore(environ={}), client_factory=quick_client())
    qtbot.addWidget(panel)
    panel.demo_url = f"ws://127.0.0.1:{port}/realtime"
    panel.login.key_edit.setText("K")
    panel.login.secret_edit.setText(SECRET)
    panel.login.login_button.click()
    assert panel.login.login_button.text() == "Cancel login"
    assert not panel.login.secret_edit.isEnabled()
    await wait_for(lambda: "reconnecting" in panel.login.progress.text(), what="progress")
    account = panel.account
    assert account is not None
    panel.login.login_button.click()
    await wait_for(lambda: panel.account is None, what="cancelled")
    assert not account.running
    assert panel.login.login_button.text() == "Log in"
    assert panel.login.secret_edit.isEnabled()
    assert panel.credentials.in_memory("demo") == []


async def test_environment_variables_prefill_the_form(qtbot: Any) -> None:
    from app.widgets.account.panel import AccountPanel

    env = {"DEPTHDESK_BITMEX_KEY": "ENVKEY", "DEPTHDESK_BITMEX_SECRET": SECRET}
    panel = AccountPanel(CredentialStore(environ=env), client_factory=Factory())
    qtbot.addWidget(panel)
    panel.login.set_env("testnet")
    assert panel.login.key_edit.text() == "ENVKEY"
    assert panel.login.secret_edit.text() == SECRET
    assert panel.login.secret_edit.echoMode() == panel.login.secret_edit.EchoMode.Password
    assert "DEPTHDESK_BITMEX_KEY" in panel.login.source_note.text()
