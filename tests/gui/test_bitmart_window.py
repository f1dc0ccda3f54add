"""The window showing BitMart markets from the in-process simulator (v3 and legacy front-ends over
the BitMEX simulator's market): ladder rows equal the client's book, tape and candles present,
ticker in the status bar; a second venue in its own market-set docks, with the legacy precision
choice; market sets persisted with the layout."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget
from pytestqt.qtbot import QtBot

from app.feeds.bitmart import constants as bm
from app.gui import venues
from app.gui.controller import SessionController
from app.gui.features import install_default_features
from app.gui.launch import add_arguments
from app.gui.main_window import MainWindow
from app.gui.runner import initial_spec, market_args
from app.gui.session import FeedSession, SessionSpec, legacy_step
from app.gui.theme import ThemeManager
from app.widgets.ladder.widget import LadderWidget
from tests.gui.conftest import demo_window, keep_artifact, wait_until

SYM = "XBTUSD"


def _ladder_matches_book(ladder: LadderWidget, session: FeedSession) -> int:
    """Every ladder row shows exactly the book's size at its price; returns rows with sizes."""
    ladder.model.refresh()
    book = session.state.book(session.symbol)
    rows = ladder.model.rows()
    assert len(rows) == ladder.model.rowCount() > 5
    for r in rows:
        assert r.bid == book.size_at("Buy", r.price), r.price
        assert r.ask == book.size_at("Sell", r.price), r.price
    best_bid, best_ask = book.best_bid(), book.best_ask()
    assert best_bid is not None and best_ask is not None
    assert any(r.best_bid and r.price == best_bid[0] for r in rows)
    assert any(r.best_ask and r.price == best_ask[0] for r in rows)
    return sum(1 for r in rows if r.bid or r.ask)


def _live(session: FeedSession) -> bool:
    health = session.bridge.feeds.get(session.venue)
    return health is not None and health.state == "live"


def _has_sizes(ladder: LadderWidget) -> bool:
    rows = ladder.model.rows()
    return any(r.bid > 0 for r in rows) and any(r.ask > 0 for r in rows)


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_window_shows_bitmart_markets_from_the_simulator(
    tmp_path: Path, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    loop_errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: loop_errors.append(ctx))
    window = demo_window(tmp_path, "bm")
    assert isinstance(window, MainWindow)
    window.resize(1920, 1300)
    controller = SessionController(window)
    try:
        # --- the main docks on BitMart v3 (demo): the same market the BitMEX demo serves
        session = await controller.switch(SessionSpec(venues.BITMART_DEMO, SYM))
        sim = controller.sim.bitmart
        assert sim is not None and controller.sim.server is not None
        assert sim.exchange is controller.sim.server.exchange
        assert session.url == sim.v3_url and session.venue == bm.VENUE_V3
        assert window.venue_box.currentText() == "BitMart (demo, v3)"
        # the account panel still offers the simulator's BitMEX demo account
        panel = window.feature("account")
        assert panel.url_for("demo") == controller.sim.server.url
        panel.login.set_env("demo")
        assert panel.login.key_edit.text() == controller.sim.server.accounts[0].key
        ladder = window.feature("ladder")
        tape = window.feature("tape")
        chart = window.feature("chart")
        await wait_until(lambda: _live(session), 15, "a live v3 feed")
        await wait_until(lambda: _has_sizes(ladder), 15, "a live v3 ladder")
        await wait_until(lambda: tape.model.rowCount() >= 3, 15, "v3 tape rows")
        await wait_until(lambda: chart.closed_item.count + chart.live_item.count > 0, 15, "candles")
        await wait_until(lambda: session.state.ticker(SYM) is not None, 15, "the v3 ticker")
        assert ladder.model.tick == float(sim.market.views[SYM].tick)
        assert ladder.precision_box.isHidden()  # v3 has no precision choice

        # --- a second venue in new docks: BitMart legacy (demo), its own session
        set_id = window.add_market_set(SessionSpec(venues.BITMART_LEGACY_DEMO, SYM))
        assert set_id == "m2"
        names = window.market_set_docks(set_id)
        assert names == ["ladder.m2", "chart.m2", "tape.m2"]
        assert {f"dock.{n}" for n in names} <= {
            d.objectName() for d in window.findChildren(QDockWidget)
        }
        await wait_until(lambda: set_id in controller.set_sessions, 10, "the market set's session")
        legacy = controller.set_sessions[set_id]
        assert legacy is not session and legacy.url == sim.legacy_url
        legacy_ladder = window.feature("ladder.m2")
        legacy_tape = window.feature("tape.m2")
        legacy_chart = window.feature("chart.m2")
        assert window.feature("ladder").session is session  # the main docks keep theirs
        await wait_until(lambda: _has_sizes(legacy_ladder), 15, "a live legacy ladder")
        await wait_until(lambda: legacy_tape.model.rowCount() >= 3, 15, "legacy tape rows")
        await wait_until(
            lambda: legacy_chart.closed_item.count + legacy_chart.live_item.count > 0,
            15,
            "legacy candles",
        )
        await wait_until(lambda: legacy.state.ticker(SYM) is not None, 15, "the legacy ticker")
        assert not legacy_ladder.precision_box.isHidden()
        assert legacy_ladder.precision_box.currentData() == legacy.precision

        # --- freeze the market: both ladders equal their client's book exactly
        sim.exchange.frozen = True
        await asyncio.sleep(1.2)  # legacy pushes every 0.5 s
        assert _ladder_matches_book(ladder, session) > 5
        assert _ladder_matches_book(legacy_ladder, legacy) > 5
        # the legacy book is the simulator's top 20, grouped at the chosen precision
        truth = sim.truth(SYM, bm.VENUE_LEGACY, precision=legacy.precision)
        book = legacy.state.book(SYM)
        assert [list(x) for x in book.bids()] == truth["bids"]
        assert [list(x) for x in book.asks()] == truth["asks"]
        texts = window.status.indicator_texts()
        assert any("BitMart (demo, v3)" in t and "XBTUSD last" in t for t in texts)
        assert any("BitMart legacy (demo)" in t and "24h" in t for t in texts)

        picture = artifacts / "bitmart_window.png"
        assert window.grab().save(str(picture), "PNG")
        keep_artifact(picture)

        # --- the legacy book regrouped at a coarser precision (whole units)
        coarse = legacy.precision_range()
        assert coarse is not None and coarse[0] == 0
        assert legacy_ladder.set_precision(0)
        assert legacy.precision == 0 and legacy.price_step() == 1.0
        await wait_until(
            lambda: (
                bool(legacy.state.book(SYM).bids())
                and all(p == int(p) for p, _ in legacy.state.book(SYM).bids())
            ),
            10,
            "the book at precision 0",
        )
        await asyncio.sleep(0.1)
        assert legacy_ladder.model.step == 1.0
        assert _ladder_matches_book(legacy_ladder, legacy) > 3
        truth = sim.truth(SYM, bm.VENUE_LEGACY, precision=0)
        assert [list(x) for x in legacy.state.book(SYM).bids()] == truth["bids"]

        # --- closing the set closes its session; the main session stays
        window.remove_market_set(set_id)
        await wait_until(lambda: set_id not in controller.set_sessions, 10, "the set closed")
        assert not legacy.running and session.running
        assert "ladder.m2" not in window.dock_names()
        assert not any("legacy" in t for t in window.status.indicator_texts())
    finally:
        await window.run_shutdown_hooks()
        await controller.close()
        window.close()
        window.deleteLater()
    await asyncio.sleep(0.05)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftovers == []
    assert loop_errors == []


def test_market_sets_are_saved_and_restored_with_stable_names(
    qtbot: QtBot, settings: QSettings, themes: ThemeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = MainWindow(settings, themes)
    install_default_features(window)
    qtbot.addWidget(window)
    window.apply_default_geometry()
    window.show()
    added: list[tuple[str, object]] = []
    window.market_set_added.connect(lambda i, s: added.append((i, s)))
    first = window.add_market_set(SessionSpec(venues.BITMART_DEMO, SYM))
    second = window.add_market_set(SessionSpec(venues.BITMART_LEGACY_LIVE, "ETH_USDT"))
    assert (first, second) == ("m2", "m3")
    assert [i for i, _ in added] == ["m2", "m3"]
    window.dock("chart.m3").hide()
    window.save_layout()

    restored = MainWindow(settings, themes)
    install_default_features(restored)
    qtbot.addWidget(restored)
    restored.restore_market_sets()
    assert restored.restore_layout()
    restored.show()
    assert restored.market_sets() == window.market_sets()
    assert "chart.m3" in restored.dock_names() and not restored.dock("chart.m3").isVisible()
    assert restored.dock("ladder.m2").objectName() == "dock.ladder.m2"
    assert restored.dock("tape.m2").windowTitle() == "Tape · BitMart (demo, v3) · XBTUSD"
    close = next(
        a for a in restored.markets_menu.actions() if a.objectName() == "action.closeMarketSet.m2"
    )
    close.trigger()
    assert list(restored.market_sets()) == ["m3"]
    assert restored.add_market_set(SessionSpec(venues.DEMO, "ETHUSD")) == "m2"  # id reused
    # unreadable saved sets are ignored, never fatal
    settings.setValue("session/market_sets", "{not json")
    broken = MainWindow(settings, themes)
    install_default_features(broken)
    qtbot.addWidget(broken)
    broken.restore_market_sets()
    assert broken.market_sets() == {}


def test_new_market_dialog_is_non_blocking_and_adds_a_set(
    qtbot: QtBot, settings: QSettings, themes: ThemeManager
) -> None:
    window = MainWindow(settings, themes)
    install_default_features(window)
    qtbot.addWidget(window)
    window.new_market_action.trigger()
    dialog = window.market_set_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.venue_box.setCurrentIndex(dialog.venue_box.findData(venues.BITMART_LIVE))
    assert dialog.symbol_box.currentText() == "BTC_USDT"  # a BitMEX name is not a BitMart one
    dialog.accept()
    assert window.market_sets() == {"m2": SessionSpec(venues.BITMART_LIVE, "BTC_USDT")}


def test_venue_keys_symbols_and_steps() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--venue", "bitmart-legacy-demo"]).venue == "bitmart-legacy-demo"
    with pytest.raises(SystemExit):
        parser.parse_args(["--venue", "nowhere"])
    assert venues.url_for(venues.BITMART_LIVE) == bm.V3_URL
    assert venues.url_for(venues.BITMART_LEGACY_LIVE) == bm.LEGACY_URL
    assert venues.label(venues.BITMART_DEMO) == "BitMart (demo, v3)"
    assert venues.label(venues.BITMART_LEGACY_DEMO) == "BitMart legacy (demo)"
    assert venues.symbol_for(venues.BITMART_LIVE, "xbtusd") == "BTC_USDT"
    assert venues.symbol_for(venues.LIVE, "BTC_USDT") == "XBTUSD"
    assert venues.symbol_for(venues.BITMART_DEMO, "ethusd") == "ETHUSD"
    assert venues.state_venue(venues.BITMART_LEGACY_DEMO) == bm.VENUE_LEGACY
    assert legacy_step(1, 0.5) == 0.5  # finer grouping than the tick: the tick's grid
    assert legacy_step(0, 0.5) == 1.0
    assert legacy_step(1, 0.25) == 0.1  # 0.25 is not on a 0.1 grid
    assert legacy_step(2, None) == 0.01
    args = argparse.Namespace(venue="bitmart-legacy", symbol=None, demo=False, url=None)
    spec = initial_spec(args, "", "XBTUSD")
    assert spec == SessionSpec(venues.BITMART_LEGACY_LIVE, "BTC_USDT")
    assert market_args(["bitmart-demo:ethusd", "nowhere:X"]) == [
        SessionSpec(venues.BITMART_DEMO, "ETHUSD")
    ]


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_saved_and_command_line_market_sets_start_with_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from app.gui import settings as cfg
    from app.gui.runner import build_window

    monkeypatch.setenv("HOME", str(tmp_path))
    ini = tmp_path / "sets.ini"
    saved = QSettings(str(ini), QSettings.Format.IniFormat)
    saved.setValue(
        cfg.KEY_MARKET_SETS, json.dumps([{"id": "m2", "venue": "bitmart-demo", "symbol": SYM}])
    )
    saved.sync()
    args = argparse.Namespace(
        settings=str(ini), theme="dark", screenshot=None, market=["bitmart-legacy-demo:ethusd"]
    )
    window = build_window(args)
    assert isinstance(window, MainWindow)
    window.show()
    controller = SessionController(window)
    try:
        await controller.switch(SessionSpec(venues.DEMO, SYM))
        await controller.open_saved_sets()
        sessions = controller.set_sessions
        assert set(sessions) == {"m2", "m3"}
        assert sessions["m2"].spec.venue_key == venues.BITMART_DEMO
        assert sessions["m3"].spec == SessionSpec(
            venues.BITMART_LEGACY_DEMO, "ETHUSD", sessions["m3"].url
        )
        for set_id in ("m2", "m3"):
            for feature in ("ladder", "chart", "tape"):
                assert window.feature(f"{feature}.{set_id}").session is sessions[set_id]
        await wait_until(lambda: _live(sessions["m3"]), 15, "the legacy set live")
    finally:
        await controller.close()
        window.close()
        window.deleteLater()
    assert controller.set_sessions == {}
