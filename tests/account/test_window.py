"""The account dock inside the real main window on the demo simulator: log in with the demo
account, arm the switch, and quit — the quit asks (without blocking) to disarm first."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.account.helpers import wait_for

pytestmark = [
    pytest.mark.gui,
    pytest.mark.asyncio,
    pytest.mark.qt_loop,
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


async def test_quit_with_switch_on_offers_to_disarm(qtbot: Any, tmp_path: Path) -> None:
    from app.gui.controller import SessionController
    from app.gui.runner import build_window
    from app.gui.session import SessionSpec
    from app.widgets.account.panel import AccountPanel

    args = argparse.Namespace(settings=str(tmp_path / "dd.ini"), theme="dark", screenshot=None)
    window = build_window(args)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    controller = SessionController(window)
    try:
        await controller.switch(SessionSpec("demo", "XBTUSD"))
        panel = window.feature("account")
        assert isinstance(panel, AccountPanel)
        assert window.dock("account").objectName() == "dock.account"
        # the demo account is offered; logging in needs only a click
        panel.login.set_env("demo")
        assert panel.login.key_edit.text() and panel.login.secret_edit.text()
        panel.login.login_button.click()
        await wait_for(lambda: panel.logged_in, limit=5, what="login")
        messages: list[str] = []
        window.statusBar().messageChanged.connect(messages.append)
        panel.dms_bar.toggle.click()
        await wait_for(
            lambda: panel.account is not None and panel.account.dms.status().phase == "armed",
            what="armed",
        )
        server = controller.sim.server
        assert server is not None
        assert panel.account is not None
        acct = server.exchange.account(panel.account.key_id)
        assert acct.cancel_all_at is not None
        # quit: the shutdown hook asks; the loop keeps running while the question is open
        quitting = asyncio.get_running_loop().create_task(window.run_shutdown_hooks())
        await wait_for(lambda: panel.pending_question is not None, what="question")
        question = panel.pending_question
        assert question is not None and "cancel" not in question.buttons  # quitting: no cancel
        await asyncio.sleep(0.2)
        assert not quitting.done()
        question.click("disarm")
        await asyncio.wait_for(quitting, 5)
        assert acct.cancel_all_at is None
        assert panel.account is None
        assert any("Logged out" in m for m in messages)
    finally:
        await controller.close()
        window.hide()
