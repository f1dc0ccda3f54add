"""The docks every window gets (features add themselves with `window.add_feature_dock`)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.gui.main_window import MainWindow
from app.gui.session import SessionSpec

Area = Qt.DockWidgetArea


def install_default_features(window: MainWindow) -> None:
    """Ladder and chart over positions and liquidations/account (tabs), tape on the right."""
    from app.widgets.account.feature import install_account_dock
    from app.widgets.chart.widget import ChartWidget
    from app.widgets.ladder.widget import LadderWidget
    from app.widgets.liquidations.widget import LiquidationsWidget
    from app.widgets.positions.widget import PositionsWidget
    from app.widgets.tape.widget import TapeWidget

    h = Qt.Orientation.Horizontal
    v = Qt.Orientation.Vertical
    # One nested dock area: [ladder | chart] over [positions | liquidations+account], and the
    # tape full height on the right. (Qt only sizes nested docks of one area reliably.)
    window.add_feature_dock("ladder", LadderWidget(), Area.LeftDockWidgetArea, title="Ladder")
    window.add_feature_dock(
        "tape",
        TapeWidget(),
        Area.LeftDockWidgetArea,
        title="Tape",
        split_of="ladder",
        orientation=h,
    )
    window.add_feature_dock(
        "positions",
        PositionsWidget(),
        Area.LeftDockWidgetArea,
        title="Positions",
        split_of="ladder",
        orientation=v,
    )
    window.add_feature_dock(
        "chart",
        ChartWidget(),
        Area.LeftDockWidgetArea,
        title="Chart",
        split_of="ladder",
        orientation=h,
    )
    window.add_feature_dock(
        "liquidations",
        LiquidationsWidget(),
        Area.LeftDockWidgetArea,
        title="Liquidations",
        split_of="positions",
        orientation=h,
    )
    panel = install_account_dock(window, split_of="liquidations")
    window.set_default_tab("account", "liquidations")
    window.add_shutdown_hook(panel.shutdown)
    sizes = {
        "ladder": (470, 640),
        "chart": (760, 640),
        "tape": (420, 0),
        "positions": (1000, 210),
        "liquidations": (480, 0),
    }
    for name, (width, height) in sizes.items():
        window.set_default_size(name, width, height)
    window.order_view_menu(["ladder", "chart", "tape", "positions", "liquidations", "account"])
    window.market_set_factory = install_market_set


MARKET_SET_SIZES = {"ladder": (470, 360), "chart": (760, 360), "tape": (420, 360)}


def install_market_set(window: MainWindow, set_id: str, spec: SessionSpec) -> list[str]:
    """A ladder, chart and tape for another venue/symbol, bound to the set's own session:
    docks `<feature>.<set_id>` side by side along the bottom; a further set shares their space
    as tabs (so the window never outgrows the screen)."""
    from app.widgets.chart.widget import ChartWidget
    from app.widgets.ladder.widget import LadderWidget
    from app.widgets.tape.widget import TapeWidget

    where = f"{spec.label} · {spec.symbol}"
    earlier = [s for s in window.market_sets() if s != set_id]
    tab_with = earlier[0] if earlier else None
    names: list[str] = []
    previous: str | None = None
    for feature, widget_type in (
        ("ladder", LadderWidget),
        ("chart", ChartWidget),
        ("tape", TapeWidget),
    ):
        name = f"{feature}.{set_id}"
        window.add_feature_dock(
            name,
            widget_type(),
            Area.BottomDockWidgetArea,
            title=f"{feature.capitalize()} · {where}",
            split_of=previous,
            orientation=Qt.Orientation.Horizontal,
            follows_session=False,
        )
        width, height = MARKET_SET_SIZES[feature]
        window.set_default_size(name, width, height)
        if tab_with is not None:
            window.set_default_tab(name, f"{feature}.{tab_with}", raise_other=False)
        names.append(name)
        previous = name
    return names
