"""Secrets never leave memory/keychain: a whole demo session (login, trading, switch, a failed
login, logout, saved settings) under a temporary HOME, with every log record captured, then
every file written and every log line is searched for the secret."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import QSettings

from app.account.credentials import CredentialStore
from tests.account.helpers import (
    KEY,
    SECRET,
    MemoryKeyring,
    login_ok,
    make_panel,
    running_sim,
    wait_for,
)

pytestmark = [
    pytest.mark.gui,
    pytest.mark.asyncio,
    pytest.mark.qt_loop,
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]

WRONG_SECRET = "wrong-secret-that-must-not-leak-77Qz"


@pytest.fixture
def temp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for sub in ("", ".config", ".local/share", ".cache", ".local/state"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / ".config"))
    return tmp_path


@pytest.fixture
def memory_keyring() -> Any:
    before = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(before)


async def test_secret_is_never_written(
    qtbot: Any, temp_home: Path, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    log_file = temp_home / "session.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        async with running_sim() as sim:
            panel = make_panel(qtbot, sim)
            panel.credentials = CredentialStore(environ={})
            # a failed login with a wrong secret first
            panel.login.key_edit.setText(KEY)
            panel.login.secret_edit.setText(WRONG_SECRET)
            panel.login.login_button.click()
            await wait_for(lambda: panel.last_problem is not None, what="failed login")
            await wait_for(lambda: panel.account is None, what="clean-up")
            # then the real one, remembered in the (test) keychain
            panel.login.remember.setChecked(True)
            await login_ok(panel)
            assert memory_keyring.items == {("depthdesk/bitmex/demo", KEY): SECRET}
            account = panel.account
            assert SECRET not in repr(account)
            assert SECRET not in repr(getattr(account.client, "config", None))
            handle = sim.account(KEY)
            book = sim.truth("XBTUSD")
            handle.place_limit("XBTUSD", "Buy", 100, book["bids"][0][0] - 30)
            handle.place_market("XBTUSD", "Sell", 200)
            panel.dms_bar.toggle.click()
            await wait_for(lambda: account.dms.status().phase == "armed", what="armed")
            await wait_for(lambda: panel.fills_model.rowCount() > 0, what="fills")
            panel.grab().save(str(temp_home / "panel.png"))
            await panel.logout(ask=False)
            assert panel.credentials.in_memory("demo") == []
            assert account.client is None  # the session let go of the client and its secret
            settings = QSettings(str(temp_home / "depthdesk.ini"), QSettings.Format.IniFormat)
            settings.beginGroup("features/account")
            panel.save_settings(settings)
            settings.endGroup()
            settings.sync()
            default_settings = QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Depthdesk", "depthdesk"
            )
            default_settings.setValue("probe", 1)
            default_settings.sync()
            await asyncio.sleep(0.1)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)

    written = [p for p in temp_home.rglob("*") if p.is_file()]  # noqa: ASYNC240
    names = {p.name for p in written}
    assert {"session.log", "depthdesk.ini", "panel.png"} <= names
    log_text = log_file.read_text()
    # logging was captured, including the failed login and the switch
    assert "app.account.session WARNING account demo: failed -> Bad signature" in log_text
    assert "dead man's switch: arming" in log_text
    assert KEY in (temp_home / "depthdesk.ini").read_text()  # settings were really written
    for path in written:
        data = path.read_bytes()
        for secret in (SECRET, WRONG_SECRET):
            assert secret.encode() not in data, f"secret found in {path}"
    for secret in (SECRET, WRONG_SECRET):
        assert secret not in caplog.text
        for record in caplog.records:
            assert secret not in record.getMessage()
            assert secret not in repr(record.args)
