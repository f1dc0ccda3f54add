"""Tape highlight tiers that fit the market: learned once from its first prints (nothing
highlighted before), the user's own tiers per market winning and persisted, and back to
automatic."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from app.feeds.events import Trade, Trades
from app.gui.main_window import MainWindow
from app.gui.theme import ThemeManager
from app.widgets.tape import widget as tape_widget
from app.widgets.tape.model import TIER_ROLE
from app.widgets.tape.tier_box import fmt_tier, parse_tier
from app.widgets.tape.tier_controls import (
    KEY_USER_TIERS,
    LEARNING_TEXT,
    LEGACY_KEY_TIERS,
    OFF_TEXT,
    parse_user_tiers,
)
from app.widgets.tape.tiers import (
    LEARN_PRINTS,
    QUIET_MIN_ROWS,
    QUIET_WAIT_S,
    learn_tiers,
    nice_step,
    nice_value,
)
from app.widgets.tape.widget import TapeWidget, market_key
from tests.gui.conftest import FakeSession

OLD_DEFAULTS = (10_000.0, 100_000.0, 1_000_000.0)


# ---- value distributions like the venues' ------------------------------------------------
def bitmex_values(n: int, seed: int = 1) -> list[float]:
    """XBTUSD prints: USD contracts in lots of 100, heavy-tailed (most 100 - 5,000)."""
    rng = random.Random(seed)
    return [100.0 * max(1, int(rng.paretovariate(1.3) * 3)) for _ in range(n)]


def bitmart_values(n: int, seed: int = 2) -> list[float]:
    """BTC_USDT spot prints at about 60,000: 0.3 - 4 BTC, worth 18K - 260K USDT."""
    rng = random.Random(seed)
    return [60_000.0 * round(0.1 * max(3, int(rng.paretovariate(1.6) * 3)), 1) for _ in range(n)]


def btc_quoted_values(n: int, seed: int = 3) -> list[float]:
    """ETH_BTC prints: values like 0.02 BTC."""
    rng = random.Random(seed)
    return [0.05 * round(rng.lognormvariate(-1.0, 1.0), 3) + 1e-4 for _ in range(n)]


def share_at_least(values: Sequence[float], threshold: float) -> float:
    ordered = sorted(values)
    return (len(ordered) - bisect.bisect_left(ordered, threshold)) / len(ordered)


def assert_fits(values: Sequence[float], tiers: Sequence[float]) -> None:
    """Three strictly increasing 1-2-5 numbers marking a fifth or so, a few and very few."""
    assert len(tiers) == 3
    assert tiers[0] < tiers[1] < tiers[2]
    for t in tiers:
        assert nice_value(nice_step(t)) == t, t
    shares = [share_at_least(values, t) for t in tiers]
    assert 0.08 <= shares[0] <= 0.40, shares
    assert 0.005 <= shares[1] <= 0.12, shares
    assert shares[2] <= 0.03, shares


# ---- learning ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [100, 500])
def test_bitmex_like_values_get_tiers_in_the_thousands(n: int) -> None:
    values = bitmex_values(n)
    tiers = learn_tiers(values)
    assert tiers is not None
    assert_fits(values, tiers)
    assert 500 <= tiers[0] <= 5_000


@pytest.mark.parametrize("n", [100, 500])
def test_bitmart_like_values_get_tiers_that_do_not_mark_every_row(n: int) -> None:
    values = bitmart_values(n)
    assert share_at_least(values, OLD_DEFAULTS[0]) == 1.0  # what fixed tiers did here
    tiers = learn_tiers(values)
    assert tiers is not None
    assert_fits(values, tiers)
    assert tiers[0] >= 50_000


def test_btc_quoted_tiny_values_get_fractional_tiers() -> None:
    values = btc_quoted_values(200)
    assert share_at_least(values, OLD_DEFAULTS[0]) == 0.0  # fixed tiers marked nothing
    tiers = learn_tiers(values)
    assert tiers is not None
    assert_fits(values, tiers)
    assert tiers[2] < 1
    assert [fmt_tier(t) for t in tiers] == [f"{t:g}" for t in tiers]  # 0.05, not 0.05000000


def test_identical_values_mark_nothing_and_too_few_learn_nothing() -> None:
    tiers = learn_tiers([0.02] * 200)
    assert tiers is not None and tiers[0] > 0.02
    assert learn_tiers([1_000.0] * (QUIET_MIN_ROWS - 1)) is None
    assert learn_tiers([0.0, float("nan"), float("inf"), -5.0] * 50) is None


def test_nice_steps_are_1_2_5() -> None:
    assert [nice_value(s) for s in range(-3, 6)] == [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]
    assert nice_value(nice_step(0.03)) == 0.02
    assert nice_value(nice_step(3.5)) == 5
    assert nice_value(nice_step(2_800)) == 2_000
    assert nice_value(nice_step(7_500)) == 10_000


# ---- the widget ------------------------------------------------------------------------------
def feed(session: FakeSession, values: Sequence[float], start: float = 0.0) -> None:
    """One print per value (price 100, so size = value / 100), ten prints a frame."""
    sym = session.symbol
    venue = session.state.venue
    for i in range(0, len(values), 10):
        chunk = values[i : i + 10]
        batch = [
            Trade(venue, sym, "Buy" if (i + k) % 2 else "Sell", 100.0, v / 100.0, start + i + k)
            for k, v in enumerate(chunk)
        ]
        session.bridge.on_event(Trades(venue, sym, batch))
        session.bridge.flush()


def tier_levels(widget: TapeWidget) -> list[int]:
    model = widget.model
    return [model.index(r, 0).data(TIER_ROLE) for r in range(model.rowCount())]


def box_texts(widget: TapeWidget) -> list[str]:
    return [box.text() for box in widget.tier_boxes]


def bound(
    qtbot: QtBot, symbol: str = "XBTUSD", venue: str = "bitmex"
) -> tuple[TapeWidget, FakeSession]:
    widget = TapeWidget()
    qtbot.addWidget(widget)
    session = FakeSession(venue, symbol)
    widget.bind_session(session)  # type: ignore[arg-type]
    return widget, session


def test_nothing_is_highlighted_before_the_tiers_are_learned(
    qtbot: QtBot, themes: ThemeManager, qtmodeltester
) -> None:
    widget, session = bound(qtbot)
    values = bitmex_values(LEARN_PRINTS)
    feed(session, [v * 1000 for v in values[:-1]])  # huge prints: fixed tiers marked them all
    assert widget.tier_controls.learning
    assert set(tier_levels(widget)) == {0}
    assert box_texts(widget) == [LEARNING_TEXT] * 3
    assert widget.tier_controls.auto_button.isChecked()
    assert "nothing is highlighted" in widget.tier_boxes[0].toolTip().lower()
    feed(session, values[-1:], start=LEARN_PRINTS)  # the 100th print
    assert not widget.tier_controls.learning
    levels = tier_levels(widget)
    assert 0 < sum(1 for lv in levels if lv) < len(levels) / 2
    tiers = widget.model.tiers
    assert len(tiers) == 3 and tiers[0] > 1_000
    assert box_texts(widget) == [fmt_tier(t) for t in tiers]
    assert widget.tier_controls.auto_button.isChecked()
    assert "Automatic tiers (" in widget.tier_controls.auto_button.toolTip()
    qtmodeltester.check(widget.model)


def test_tiers_are_learned_once_and_stay_fixed(
    qtbot: QtBot, themes: ThemeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    widget, session = bound(qtbot, "BTC_USDT", "bitmart")
    calls: list[int] = []
    real: Callable[..., object] = tape_widget.learn_tiers
    monkeypatch.setattr(
        tape_widget, "learn_tiers", lambda values: calls.append(len(values)) or real(values)
    )
    feed(session, bitmart_values(400))
    assert calls == [LEARN_PRINTS]  # one bounded sample, read once
    learned = widget.model.tiers
    assert_fits(bitmart_values(400), learned)
    feed(session, [v * 50 for v in bitmart_values(300, seed=9)], start=1_000)  # a bigger market
    assert calls == [LEARN_PRINTS]
    assert widget.model.tiers == learned
    # the market shown again later keeps the tiers it learned
    other = FakeSession("bitmart", "ETH_BTC")
    widget.bind_session(other)  # type: ignore[arg-type]
    assert widget.tier_controls.learning and widget.model.tiers == ()
    widget.bind_session(session)  # type: ignore[arg-type]
    assert widget.model.tiers == learned


def test_btc_quoted_market_highlights_some_rows(qtbot: QtBot, themes: ThemeManager) -> None:
    widget, session = bound(qtbot, "ETH_BTC", "bitmart")
    feed(session, btc_quoted_values(150))
    tiers = widget.model.tiers
    assert len(tiers) == 3 and tiers[0] < 1
    assert box_texts(widget)[0] == fmt_tier(tiers[0]) and box_texts(widget)[0].startswith("0.")
    levels = tier_levels(widget)
    assert 0 < sum(1 for lv in levels if lv) < len(levels) / 2


def test_a_quiet_market_learns_from_fewer_prints_after_a_while(
    qtbot: QtBot, themes: ThemeManager
) -> None:
    now = [0.0]
    widget = TapeWidget()
    qtbot.addWidget(widget)
    widget.clock = lambda: now[0]
    session = FakeSession("bitmex", "XBTUSD")
    widget.bind_session(session)  # type: ignore[arg-type]
    values = bitmex_values(QUIET_MIN_ROWS + 10)
    feed(session, values[:-1])
    assert widget.tier_controls.learning
    now[0] = QUIET_WAIT_S + 1
    feed(session, values[-1:], start=100)
    assert not widget.tier_controls.learning and len(widget.model.tiers) == 3


def test_user_tiers_win_persist_per_market_and_go_back_to_automatic(
    qtbot: QtBot, themes: ThemeManager, settings: QSettings
) -> None:
    widget, session = bound(qtbot)
    feed(session, bitmex_values(200))
    learned = widget.model.tiers
    # the user types a tier: theirs win for this market, "A" goes off
    box = widget.tier_boxes[1]
    box.selectAll()
    qtbot.keyClicks(box, "12,500")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert widget.model.tiers == (learned[0], 12_500.0, learned[2])
    assert not widget.tier_controls.auto_button.isChecked()
    assert "go back to automatic" in widget.tier_controls.auto_button.toolTip()
    assert tier_levels(widget).count(2) + tier_levels(widget).count(3) == sum(
        1 for r in widget.model.rows() if r.notional >= 12_500
    )
    # ... and persist with the layout, per market (an older layout's one set is dropped)
    settings.setValue(LEGACY_KEY_TIERS, "10000.0,100000.0,1000000.0")
    widget.save_settings(settings)
    settings.sync()
    assert not settings.contains(LEGACY_KEY_TIERS)
    again, again_session = bound(qtbot)
    again.restore_settings(settings)  # after bind_session, as the window does
    assert again.model.tiers == (learned[0], 12_500.0, learned[2])
    assert box_texts(again)[1] == "12,500"
    assert not again.tier_controls.auto_button.isChecked()
    feed(again_session, bitmart_values(200))  # the user's tiers are never re-learned
    assert again.model.tiers == (learned[0], 12_500.0, learned[2])
    # another market on the same tape is automatic
    eth = FakeSession("bitmex", "ETHUSD")
    again.bind_session(eth)  # type: ignore[arg-type]
    assert again.tier_controls.learning and again.tier_controls.auto_button.isChecked()
    # back to automatic: press "A"
    again.bind_session(again_session)  # type: ignore[arg-type]
    qtbot.mouseClick(again.tier_controls.auto_button, Qt.MouseButton.LeftButton)
    assert again.tier_controls.automatic
    assert again.model.tiers != (learned[0], 12_500.0, learned[2])
    assert len(again.model.tiers) == 3  # relearned from this tape's own prints
    again.save_settings(settings)
    assert parse_user_tiers(str(settings.value(KEY_USER_TIERS))) == {}


def test_a_zero_box_switches_a_user_tier_off(qtbot: QtBot, themes: ThemeManager) -> None:
    widget, session = bound(qtbot)
    feed(session, bitmex_values(150))
    first, _, third = widget.model.tiers
    widget.tier_boxes[1].setValue(0)
    assert widget.model.tiers == (first, third)
    assert box_texts(widget)[1] == OFF_TEXT
    # pressing "A" off while learned keeps the learned values as the user's
    widget.tier_controls.auto_button.setChecked(True)
    learned = widget.model.tiers
    widget.tier_controls.auto_button.setChecked(False)
    assert widget.model.tiers == learned and not widget.tier_controls.automatic


def test_unreadable_saved_tiers_are_ignored(
    qtbot: QtBot, themes: ThemeManager, settings: QSettings
) -> None:
    assert parse_user_tiers("not json") == {}
    assert parse_user_tiers("[1, 2, 3]") == {}
    assert parse_user_tiers(
        '{"a": [1, 2], "b": ["x", 2, 3], "c": [1, 2, 1e99], "d": [true, 2, 3], "e": [1, 2.5, 30]}'
    ) == {"e": (1.0, 2.5, 30.0)}
    settings.setValue(KEY_USER_TIERS, "{broken")
    widget, _ = bound(qtbot)
    widget.restore_settings(settings)
    assert widget.tier_controls.automatic and widget.tier_controls.learning


def test_tier_boxes_read_what_is_typed(qtbot: QtBot, themes: ThemeManager) -> None:
    widget, _ = bound(qtbot, "ETH_BTC", "bitmart")
    box = widget.tier_boxes[0]
    box.selectAll()
    qtbot.keyClicks(box, "0.0025")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == pytest.approx(0.0025) and box.text() == "0.0025"
    assert widget.model.tiers == (0.0025,)
    box.selectAll()
    qtbot.keyClicks(box, "abc")  # not a number: the box keeps its value
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == pytest.approx(0.0025)
    assert parse_tier("1,000,000") == 1_000_000 and parse_tier("-1") is None
    assert parse_tier("2e13") is None and fmt_tier(1_500.0) == "1,500"


def test_no_market_disables_the_tier_boxes(qtbot: QtBot, themes: ThemeManager) -> None:
    widget = TapeWidget()
    qtbot.addWidget(widget)
    widget.bind_session(None)
    assert not any(box.isEnabled() for box in widget.tier_boxes)
    assert not widget.tier_controls.auto_button.isEnabled()
    assert widget.model.tiers == ()


def test_market_keys_name_venue_and_symbol() -> None:
    state = SimpleNamespace(venue="bitmart")
    spec = SimpleNamespace(venue_key="bitmart-legacy-demo")
    session = SimpleNamespace(spec=spec, state=state, symbol="XBTUSD")
    assert market_key(session) == "bitmart-legacy-demo:XBTUSD"  # type: ignore[arg-type]
    replay = SimpleNamespace(spec=SimpleNamespace(venue_key="replay"), state=state, symbol="X")
    assert market_key(replay) == "replay-bitmart:X"  # type: ignore[arg-type]
    assert market_key(FakeSession("bitmex", "ETHUSD")) == "bitmex:ETHUSD"  # type: ignore[arg-type]


def test_the_window_keeps_a_tapes_user_tiers_with_its_layout(
    qtbot: QtBot, themes: ThemeManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.gui.features import install_default_features

    monkeypatch.setenv("HOME", str(tmp_path))
    path = str(tmp_path / "layout.ini")
    session = FakeSession("bitmex", "XBTUSD")
    first = MainWindow(QSettings(path, QSettings.Format.IniFormat), themes)
    install_default_features(first)
    qtbot.addWidget(first)
    tape = first.feature("tape")
    tape.bind_session(session)
    tape.tier_boxes[0].setValue(3_000)
    first.save_layout()
    second = MainWindow(QSettings(path, QSettings.Format.IniFormat), themes)
    install_default_features(second)
    qtbot.addWidget(second)
    restored = second.feature("tape")
    restored.bind_session(FakeSession("bitmex", "XBTUSD"))
    assert restored.model.tiers == (3_000.0,)  # the other boxes were still learning: off
    assert not restored.tier_controls.automatic
