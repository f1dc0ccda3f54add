"""The account panel against the real simulator over loopback WebSockets: login outcomes,
tables matching the demo account, the dead man's switch (arm, expiry, disarm), screenshot."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.account.helpers import (
    ARTIFACTS,
    KEY,
    SECRET,
    login,
    login_ok,
    make_panel,
    panel_working,
    running_sim,
    sim_working,
    wait_for,
)
from tests.conftest import signal_future

pytestmark = [
    pytest.mark.gui,
    pytest.mark.asyncio,
    pytest.mark.qt_loop,
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


async def test_login_and_tables_match_the_simulator(qtbot: Any) -> None:
    async with running_sim() as sim:
        panel = make_panel(qtbot, sim)
        alerts: list[Any] = []
        panel.alert.connect(alerts.append)
        await login_ok(panel)
        handle = sim.account(KEY)
        book = sim.truth("XBTUSD")
        best_bid, best_ask = book["bids"][0][0], book["asks"][0][0]
        handle.place_limit("XBTUSD", "Buy", 100, best_bid - 50)
        handle.place_limit("XBTUSD", "Sell", 200, best_ask + 50)
        handle.place_market("XBTUSD", "Buy", 300)
        await wait_for(lambda: panel_working(panel) == sim_working(sim), what="working orders")
        assert len(panel.working_model.rows()) == 2
        # fills and position
        await wait_for(lambda: len(panel.fills_model.rows()) >= 1, what="fills")
        fill = panel.fills_model.rows()[0]
        assert fill.side == "Buy" and fill.symbol == "XBTUSD"
        await wait_for(lambda: any(a.kind == "fill" for a in alerts), what="fill toast")
        assert next(a for a in alerts if a.kind == "fill").title == "Filled Buy XBTUSD"
        pos = handle.position("XBTUSD")
        await wait_for(
            lambda: any(p.qty == pos.current_qty for p in panel.account.store.positions()),
            what="position",
        )
        # margin (display units) matches the demo account's XBt balance
        bal = sim.exchange.account(KEY).balance("XBt")
        await wait_for(
            lambda: any(m.currency == "XBT" for m in panel.margin_model.rows()), what="margin"
        )
        margin = next(m for m in panel.margin_model.rows() if m.currency == "XBT")
        assert margin.wallet_balance == pytest.approx(bal.wallet_balance / 1e8, abs=1e-8)
        assert panel.wallet_model.rowCount() >= 1
        # cancel one: it leaves the working list and shows as Canceled in recent orders
        victim = next(iter(sim_working(sim)))
        handle.cancel(victim)
        await wait_for(lambda: victim not in panel_working(panel), what="cancel")
        recent = {r.order_id: r.status for r in panel.recent_model.rows()}
        assert recent[victim] == "Canceled"
        await panel.logout(ask=False)


@pytest.mark.parametrize(
    ("key", "secret", "overrides", "title"),
    [
        ("NoSuchKey", SECRET, {}, "Wrong API key"),
        (KEY, "wrong-secret", {}, "Bad signature"),
        (KEY, SECRET, {"auth_expires_in": -120}, "Request expired"),
    ],
    ids=["wrong-key", "bad-signature", "expired"],
)
async def test_login_failures_against_the_simulator(
    qtbot: Any, key: str, secret: str, overrides: dict[str, Any], title: str
) -> None:
    async with running_sim() as sim:
        panel = make_panel(qtbot, sim, **overrides)
        messages: list[str] = []
        panel.status_message.connect(lambda text, _ms: messages.append(text))
        failed = signal_future(panel.phase_changed)
        await login(panel, key, secret)
        await wait_for(lambda: panel.last_problem is not None, what="auth failure")
        assert panel.last_problem.title == title
        await wait_for(lambda: panel.account is None, what="clean-up")
        assert title in panel.login.error_text()
        assert any(title in m for m in messages)
        connections = sim.connections_total
        await asyncio.sleep(1.0)  # longer than the test client's back-off: nothing reconnects
        assert sim.connections_total == connections == 1
        assert failed.done()


async def test_dead_mans_switch_expiry_cancels_orders(qtbot: Any) -> None:
    async with running_sim() as sim:
        panel = make_panel(qtbot, sim)
        await login_ok(panel)
        handle = sim.account(KEY)
        bid = sim.truth("XBTUSD")["bids"][0][0]
        for i in range(3):
            handle.place_limit("XBTUSD", "Buy", 100, bid - 20 - i)
        await wait_for(lambda: len(panel_working(panel)) == 3, what="orders")
        placed = set(panel_working(panel))
        panel.dms_bar.timeout.setValue(5)
        panel.dms_bar.toggle.click()
        await wait_for(lambda: panel.account.dms.status().phase == "armed", what="armed")
        acct = sim.exchange.account(KEY)
        assert acct.cancel_all_at is not None
        assert "cancel in 0:0" in panel.dms_bar.countdown.text()
        # cut the connection and let the server's time run past the timeout before it is back
        real_clock = sim.exchange.clock
        sim.faults.drop_connections()
        sim.exchange.clock = lambda: real_clock() + 6.0
        await wait_for(lambda: panel.account.dms.status().phase == "alarm", what="alarm")
        assert panel.dms_bar.banner_text().startswith("Dead man's switch:")
        await wait_for(lambda: handle.open_orders() == [], what="server cancels")
        # the panel shows the cancellation after the reconnect, and the switch is re-armed
        await wait_for(lambda: panel_working(panel) == {}, limit=8, what="panel cancels")
        await wait_for(
            lambda: (
                {r.order_id: r.status for r in panel.recent_model.rows()}
                == dict.fromkeys(placed, "Canceled")
            ),
            what="cancelled orders listed",
        )
        cancels = [e for e in panel.fills_model.rows() if e.exec_type == "Canceled"]
        assert {e.order_id for e in cancels} == placed
        assert all("Cancel all after" in e.text for e in cancels)
        await wait_for(lambda: panel.account.dms.status().phase == "armed", limit=5, what="re-arm")
        assert panel.account.dms.status().recovered_from is not None
        assert "Recovered" in panel.dms_bar.banner_text()
        assert acct.cancel_all_at is not None
        await panel.logout(ask=False)
        assert acct.cancel_all_at is None  # logout without asking disarms and confirms


async def test_dead_mans_switch_disarm_is_confirmed(qtbot: Any) -> None:
    async with running_sim() as sim:
        panel = make_panel(qtbot, sim)
        await login_ok(panel)
        panel.dms_bar.toggle.click()
        await wait_for(lambda: panel.account.dms.status().phase == "armed", what="armed")
        acct = sim.exchange.account(KEY)
        assert acct.cancel_all_at is not None
        left = acct.cancel_all_at - sim.exchange.clock()
        assert 55 < left <= 60
        panel.dms_bar.toggle.click()
        await wait_for(lambda: panel.account.dms.status().phase == "off", what="off")
        assert panel.account.dms.status().confirmed_off
        assert acct.cancel_all_at is None
        assert panel.dms_bar.state_label.text() == "off (confirmed by the server)"
        await panel.logout(ask=False)


async def test_account_panel_screenshot(qtbot: Any) -> None:
    async with running_sim() as sim:
        from app.gui.theme import ThemeManager

        ThemeManager("dark").apply()
        panel = make_panel(qtbot, sim)
        await login_ok(panel)
        handle = sim.account(KEY)
        book = sim.truth("XBTUSD")
        bid, ask = book["bids"][0][0], book["asks"][0][0]
        handle.place_limit("XBTUSD", "Buy", 500, bid - 10)
        handle.place_limit("XBTUSD", "Buy", 1000, bid - 25)
        handle.place_limit("XBTUSD", "Sell", 700, ask + 15)
        handle.place_market("XBTUSD", "Buy", 200)
        panel.dms_bar.toggle.click()
        await wait_for(lambda: len(panel_working(panel)) == 3, what="orders")
        await wait_for(lambda: panel.account.dms.status().phase == "armed", what="armed")
        await wait_for(lambda: panel.margin_model.rowCount() > 0, what="margin")
        await asyncio.sleep(0.3)
        panel.refresh_now()
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / "account_panel.png"
        assert panel.grab().save(str(path))
        assert path.stat().st_size > 5000
        prices = [r.price for r in panel.working_model.rows()]
        assert prices == sorted(prices, reverse=True)
        panel.tabs.setCurrentWidget(panel.fills_view)
        assert panel.grab().save(str(ARTIFACTS / "account_panel_executions.png"))
        sim.faults.drop_connections()
        await wait_for(lambda: panel.dms_bar.banner_text() != "", what="banner")
        assert panel.grab().save(str(ARTIFACTS / "account_panel_alarm.png"))
        await wait_for(lambda: panel.account.dms.status().phase == "armed", what="re-armed")
        await panel.logout(ask=False)
