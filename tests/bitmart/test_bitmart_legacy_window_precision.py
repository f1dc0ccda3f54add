"""The window on a legacy venue given by URL offers the symbol's real precision range, learned
from the venue's symbol details before the feed starts (the full 0..12 only when unknown)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bitmart_helpers import fast_sim_config, forget_shared_fetches, unused_port_url

from app.feeds.bitmart import constants as bm
from app.gui import venues
from app.gui.controller import SessionController
from app.gui.main_window import MainWindow
from app.gui.session import FeedSession, SessionSpec, legacy_hints
from app.sim.bitmart.server import BitmartSim
from tests.gui.conftest import OFFSCREEN_NOISE, demo_window, keep_artifact, wait_until

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_legacy_ladder_offers_the_symbols_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    forget_shared_fetches(monkeypatch)
    config = fast_sim_config()
    config.symbols = ["BTC_USDT", "XBTUSD"]
    async with BitmartSim(config) as sim:
        # hints straight from the details: XBTUSD's default 6 becomes its finest grouping, 5
        hints = await legacy_hints(sim.legacy_url, "XBTUSD")
        assert hints.precision_range == (0, 5) and hints.precision == 5
        assert hints.lot_step == 0.1 and hints.tick is None  # quote_increment: an amount step
        assert sorted(hints.symbols) == ["BTC_USDT", "XBTUSD"]

        window = demo_window(tmp_path, "legacy_precision")
        assert isinstance(window, MainWindow)
        window.resize(1400, 900)
        controller = SessionController(window)
        try:
            spec = SessionSpec(venues.BITMART_LEGACY_LIVE, "BTC_USDT", url=sim.legacy_url)
            session = await controller.switch(spec)
            view = sim.market.views["BTC_USDT"]
            assert session.precision_range() == (view.min_precision, view.max_precision)
            assert session.precision == bm.LEGACY_DEFAULT_PRECISION == view.max_precision
            ladder = window.feature("ladder")
            box = ladder.precision_box
            offered = [box.itemData(i) for i in range(box.count())]
            assert offered == list(range(view.min_precision, view.max_precision + 1))
            assert box.currentData() == session.precision and not box.isHidden()
            await wait_until(
                lambda: bool(session.state.book("BTC_USDT").bids()), 15, "the legacy book"
            )
            await asyncio.sleep(0.3)
            # sizes at the symbol's amount step from the details (BTC_USDT: one lot)
            lot = sim.market.lot_qty("BTC_USDT")
            assert session.hints.lot_step == float(lot)
            assert ladder.model.size_decimals == max(0, -lot.normalize().as_tuple().exponent)
            picture = tmp_path / "legacy_precision_range.png"
            assert ladder.grab().save(str(picture), "PNG")
            keep_artifact(picture)
        finally:
            await window.run_shutdown_hooks()
            await controller.close()
            window.close()
            window.deleteLater()

    # details that cannot be had: no hints, and the session offers the whole protocol range
    dead = unused_port_url().replace("http://", "ws://").replace(bm.LEGACY_DETAILS_PATH, "/")
    empty = await legacy_hints(dead, "BTC_USDT")
    assert empty.precision_range is None and empty.precision is None
    fallback = FeedSession(SessionSpec(venues.BITMART_LEGACY_LIVE, "BTC_USDT", dead), dead)
    try:
        assert fallback.precision_range() == (bm.LEGACY_PRECISION_MIN, bm.LEGACY_PRECISION_MAX)
        assert fallback.precision == bm.LEGACY_DEFAULT_PRECISION
    finally:
        await fallback.close()
