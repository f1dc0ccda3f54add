"""Depth ladder dock: fixed price rows, centring modes, grouping, traded volume, flashes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QMouseEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.bridge import HEALTH_ASPECT, crossed_banner
from app.feeds.events import Side
from app.gui import settings as cfg
from app.gui.theme import Theme, current_theme, monospace_font
from app.widgets.binding import follow_frames, lot_step, price_step
from app.widgets.format import decimals_for_step, fmt_price, fmt_step
from app.widgets.glyphs import TIMES
from app.widgets.ladder.delegate import PAD, LadderDelegate
from app.widgets.ladder.model import (
    COL_PRICE,
    GROUPINGS,
    MODE_CENTRE,
    MODE_EDGE,
    MODE_FIXED,
    SIZE_COLUMNS,
    LadderModel,
)

if TYPE_CHECKING:
    from app.gui.session import FeedSession

ANIMATION_MS = 33
WHEEL_ROWS = 3
PRICE_GAP = 6  # px kept free beside the widest price, beyond the cell padding
PRICE_TEMPLATE = "00,000.0"  # the price column is never narrower than such a price
INFO_MAX_CHARS = 32  # the header line never asks for more room than this
_MODE_LABELS = (
    (MODE_FIXED, "Fixed"),
    (MODE_EDGE, "Re-centre at edge"),
    (MODE_CENTRE, "Always centred"),
)


class LadderView(QTableView):
    """The ladder's table: wheel scrolls prices, Space/double-click re-centre, rows fill height."""

    recentre_requested = Signal()
    scroll_requested = Signal(int)
    rows_fit = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ladderView")
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        font = monospace_font()
        self.setFont(font)
        row_height = self.fontMetrics().height() + 4
        vh = self.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setMinimumSectionSize(row_height)
        vh.setDefaultSectionSize(row_height)
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        hh.setHighlightSections(False)
        hh.setMinimumSectionSize(40)
        self._price_chars = 0
        self._price_need = 0  # px the widest price needs

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            self.reset_price_column()

    def fit_price_column(self, widest: str) -> None:
        """Give the price column at least the width of `widest` in bold (the inside market's
        font) plus padding and a gap each side, so the size columns' numbers never touch its
        prices. It only grows (`reset_price_column` starts over)."""
        if len(widest) <= self._price_chars:
            return
        self._price_chars = len(widest)
        bold = QFont(self.font())
        bold.setBold(True)
        self._price_need = QFontMetrics(bold).horizontalAdvance(widest) + 2 * (PAD + PRICE_GAP)
        self._apply_price_width()

    def reset_price_column(self) -> None:
        """Fit the price column afresh (another market or price step)."""
        self._price_chars = 0
        self.fit_price_column(PRICE_TEMPLATE)

    def _apply_price_width(self) -> None:
        """All columns share the width equally while the prices fit their share; otherwise
        the price column gets what its prices need and the others share the rest."""
        header = self.horizontalHeader()
        columns = header.count()
        if columns <= COL_PRICE:
            return
        if self._price_need * columns > self.viewport().width():
            header.setSectionResizeMode(COL_PRICE, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(COL_PRICE, self._price_need)
        else:
            header.setSectionResizeMode(COL_PRICE, QHeaderView.ResizeMode.Stretch)

    def price_column_width(self) -> int:
        """Width of the price column in pixels."""
        return self.horizontalHeader().sectionSize(COL_PRICE)

    def row_height(self) -> int:
        """Height of one price row in pixels."""
        return self.verticalHeader().defaultSectionSize()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() // 120
        if steps:
            self.scroll_requested.emit(int(steps) * WHEEL_ROWS)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Home):
            self.recentre_requested.emit()
        elif key == Qt.Key.Key_PageUp:
            self.scroll_requested.emit(max(1, self.height() // self.row_height() // 2))
        elif key == Qt.Key.Key_PageDown:
            self.scroll_requested.emit(-max(1, self.height() // self.row_height() // 2))
        elif key == Qt.Key.Key_Up:
            self.scroll_requested.emit(1)
        elif key == Qt.Key.Key_Down:
            self.scroll_requested.emit(-1)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.recentre_requested.emit()
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_price_width()
        self.rows_fit.emit(max(1, self.viewport().height() // self.row_height()))


class FittingLabel(QLabel):
    """A right-aligned label showing the longest of its texts that fits its width (none when
    even the shortest does not). It asks for the longest text's width up to `INFO_MAX_CHARS`
    characters, so a long line (a 0.0000001 step) never widens the dock; the tooltip has it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: list[str] = []
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def set_texts(self, texts: list[str]) -> None:
        """The forms of the line, longest first."""
        if texts != self._texts:
            self._texts = list(texts)
            self.setToolTip(texts[0] if texts else "")
            self._choose()
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        longest = max((metrics.horizontalAdvance(t) for t in self._texts), default=0)
        cap = metrics.horizontalAdvance("0" * INFO_MAX_CHARS)
        margins = self.contentsMargins()
        width = min(longest, cap) + margins.left() + margins.right()
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._choose()

    def _choose(self) -> None:
        metrics = self.fontMetrics()
        room = self.contentsRect().width()
        fitting = (t for t in self._texts if metrics.horizontalAdvance(t) <= room)
        self.setText(next(fitting, ""))


class LadderWidget(QWidget):
    """The ladder feature (dock content)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ladderWidget")
        self.model = LadderModel()
        self.session: FeedSession | None = None
        self._symbol = ""

        self.mode_box = QComboBox(self)
        self.mode_box.setObjectName("ladderMode")
        for mode, label in _MODE_LABELS:
            self.mode_box.addItem(label, mode)
        self.mode_box.setCurrentIndex(self.mode_box.findData(self.model.mode))
        self.group_box = QComboBox(self)
        self.group_box.setObjectName("ladderGrouping")
        for k in GROUPINGS:
            self.group_box.addItem(f"{TIMES}{k}", k)
        self.centre_button = QPushButton("Centre", self)
        self.centre_button.setToolTip("Re-centre on the inside market (Space, double-click)")
        self.reset_volume_button = QPushButton("Reset vol", self)
        self.reset_volume_button.setToolTip("Reset the traded volume at price (Sold / Bought)")
        self.precision_label = QLabel("Precision", self)
        self.precision_box = QComboBox(self)
        self.precision_box.setObjectName("ladderPrecision")
        self.precision_box.setToolTip("Price grouping the venue sends the book at")
        self.precision_label.hide()
        self.precision_box.hide()
        self.info = FittingLabel(self)
        self.info.setObjectName("ladderInfo")
        self.banner = QLabel(self)
        self.banner.setObjectName("staleBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.banner_level = ""  # "", "warn" (stale, resyncing) or "alert" (crossed book)
        self._theme = current_theme()

        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.addWidget(self.mode_box)
        controls.addWidget(QLabel("Group"))
        controls.addWidget(self.group_box)
        controls.addWidget(self.precision_label)
        controls.addWidget(self.precision_box)
        controls.addWidget(self.centre_button)
        controls.addWidget(self.reset_volume_button)
        controls.addWidget(self.info, 1)

        self.view = LadderView(self)
        self.view.setModel(self.model)
        self.delegate = LadderDelegate(self.view)
        self.view.setItemDelegate(self.delegate)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)

        self._anim = QTimer(self)
        self._anim.setInterval(ANIMATION_MS)
        self._anim.timeout.connect(self._animate)

        self.mode_box.currentIndexChanged.connect(self._on_mode)
        self.group_box.currentIndexChanged.connect(self._on_grouping)
        self.precision_box.activated.connect(self._on_precision)
        self.centre_button.clicked.connect(self.recentre)
        self.reset_volume_button.clicked.connect(self.reset_volume)
        self.view.recentre_requested.connect(self.recentre)
        self.view.scroll_requested.connect(self.model.scroll_rows)
        self.view.rows_fit.connect(self.model.set_row_count)
        # the header reports each section before it stores the new sizes: measure afterwards
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_size_columns)
        self.view.horizontalHeader().sectionResized.connect(lambda *_: self._fit_timer.start())
        self.model.modelReset.connect(self._fit_price_column)
        self.model.dataChanged.connect(self._fit_price_column)

    # ---- feature protocol ------------------------------------------------------------
    def bind_session(self, session: FeedSession | None) -> None:
        """Follow the session's book of its symbol."""
        self.session = follow_frames(self.session, session, self._on_frame)
        self._show_precisions(session)
        self.view.reset_price_column()
        if session is None:
            self._symbol = ""
            self.model.set_source(None, "")
            self.model.set_orders_source(None)
            self._update_banner()
            return
        symbol = session.symbol
        self._symbol = symbol
        state = session.state

        def tick_hint() -> float | None:
            return price_step(session, symbol)

        def lot_hint() -> float | None:
            return lot_step(session, symbol)

        def working_orders(sym: str) -> list[tuple[Side, float, float]]:
            out: list[tuple[Side, float, float]] = []
            for price, (buy, sell) in state.account.working_by_price(sym).items():
                if buy:
                    out.append(("Buy", price, buy))
                if sell:
                    out.append(("Sell", price, sell))
            return out

        self.model.set_source(
            state.book(symbol),
            symbol,
            state.volume(symbol),
            state.tape(symbol),
            tick_hint,
            lot_hint,
        )
        self.model.set_orders_source(working_orders)
        self._update_banner()
        self._update_info()

    def apply_theme(self, theme: Theme) -> None:
        """Repaint with the theme's colours."""
        self._theme = theme
        self.model.apply_theme(theme)
        self.delegate.apply_theme(theme)
        self._style_banner()
        self.view.viewport().update()

    def save_settings(self, settings: QSettings) -> None:
        """Persist mode and grouping."""
        settings.setValue("mode", self.model.mode)
        settings.setValue("grouping", self.model.grouping)

    def restore_settings(self, settings: QSettings) -> None:
        """Restore mode and grouping."""
        mode = cfg.read_str(settings, "mode", self.model.mode)
        index = self.mode_box.findData(mode)
        if index >= 0:
            self.mode_box.setCurrentIndex(index)
        k = cfg.read_int(settings, "grouping", 1)
        index = self.group_box.findData(k)
        if index >= 0:
            self.group_box.setCurrentIndex(index)

    # ---- actions ---------------------------------------------------------------------
    def recentre(self) -> None:
        """Centre the ladder on the inside market."""
        self.model.recentre()

    def reset_volume(self) -> None:
        """Reset the traded volume at price."""
        if self.session is not None:
            self.session.state.volume(self._symbol).reset()
            self.model.refresh()

    def _on_mode(self, _index: int) -> None:
        mode = self.mode_box.currentData()
        if isinstance(mode, str):
            self.model.set_mode(mode)

    def _on_grouping(self, _index: int) -> None:
        k = self.group_box.currentData()
        if isinstance(k, int):
            self.view.reset_price_column()
            self.model.set_grouping(k)
            self._fit_price_column()
            self._update_info()

    def _show_precisions(self, session: FeedSession | None) -> None:
        """The legacy venue's precision choice (hidden for venues without one)."""
        range_of = getattr(session, "precision_range", None)
        bounds = range_of() if callable(range_of) else None
        self.precision_box.blockSignals(True)
        self.precision_box.clear()
        if bounds is not None and session is not None:
            for digits in range(bounds[0], bounds[1] + 1):
                self.precision_box.addItem(f"{10.0**-digits:.{digits}f}", digits)
            current = getattr(session, "precision", None)
            index = self.precision_box.findData(current)
            if index >= 0:
                self.precision_box.setCurrentIndex(index)
        self.precision_box.blockSignals(False)
        self.precision_box.setVisible(bounds is not None)
        self.precision_label.setVisible(bounds is not None)

    def set_precision(self, digits: int) -> bool:
        """Ask the venue for the book at `digits` decimals (legacy BitMart)."""
        session = self.session
        setter = getattr(session, "set_precision", None)
        if session is None or not callable(setter) or not setter(digits):
            return False
        index = self.precision_box.findData(digits)
        if index >= 0 and index != self.precision_box.currentIndex():
            self.precision_box.setCurrentIndex(index)
        self.view.reset_price_column()
        self.model.recheck_tick()
        self._fit_price_column()
        self._update_info()
        return True

    def _on_precision(self, _index: int) -> None:
        digits = self.precision_box.currentData()
        if isinstance(digits, int):
            self.set_precision(digits)

    def _on_frame(self, aspects: Any) -> None:
        sym = self._symbol
        if HEALTH_ASPECT in aspects or "status" in aspects:
            self._update_banner()
        watched = (f"book:{sym}", f"trades:{sym}", "instruments", "account")
        if any(a in aspects for a in watched):
            self.model.refresh()
            if f"book:{sym}" in aspects:
                self._update_banner()  # after the refresh: a crossed book's prices use its step
            self._update_info()
            if self.model.animating() and not self._anim.isActive():
                self._anim.start()

    def _animate(self) -> None:
        self.model.refresh()
        if not self.model.animating():
            self._anim.stop()

    def _fit_price_column(self, *_args: object) -> None:
        """Widen the price column when a shown price is longer than any before."""
        texts = [row.texts[COL_PRICE] for row in self.model.rows() if row.texts]
        if texts:
            self.view.fit_price_column(max(texts, key=len))

    def _fit_size_columns(self) -> None:
        """Tell the model how many characters its narrowest size column shows."""
        header = self.view.horizontalHeader()
        width = min(header.sectionSize(c) for c in SIZE_COLUMNS)
        digit = max(1, QFontMetrics(self.view.font()).horizontalAdvance("0"))
        self.model.set_size_width((width - 2 * PAD) // digit)

    def _update_banner(self) -> None:
        text, level = self._banner_state()
        self.banner.setText(text)
        if level != self.banner_level:
            self.banner_level = level
            self._style_banner()
        self.banner.setVisible(bool(text))

    def _banner_state(self) -> tuple[str, str]:
        """(text, level) of the banner: the feed or resync state first, then a crossed book."""
        session = self.session
        if session is None:
            return "", ""
        text = session.bridge.books.banner(self._symbol)
        book = session.state.book(self._symbol)
        if not text and book.stale:
            text = f"{self._symbol} book resyncing: waiting for a fresh snapshot"
        if text:
            return text, "warn"
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None and bid[0] >= ask[0]:
            decimals = self.model.price_decimals
            bid_text, ask_text = fmt_price(bid[0], decimals), fmt_price(ask[0], decimals)
            return crossed_banner(self._symbol, bid_text, ask_text), "alert"
        return "", ""

    def _style_banner(self) -> None:
        """Orange (the application style sheet) for stale books, red for a crossed one."""
        if self.banner_level == "alert":
            self.banner.setStyleSheet(
                f"background: {self._theme.alert}; color: #ffffff; font-weight: bold;"
                " padding: 3px 8px;"
            )
        else:
            self.banner.setStyleSheet("")

    def _update_info(self) -> None:
        self.info.set_texts(self.info_texts())

    def info_texts(self) -> list[str]:
        """The header line, longest first: symbol, row step and spread (written like the
        price column: 0.0000001, never 1e-07); shorter forms for a narrow dock."""
        step, tick = self.model.step, self.model.tick
        if step is None or tick is None or self.session is None:
            return []
        row = f"row {fmt_step(step)}"
        spread = self.session.state.book(self._symbol).spread()
        if spread is None:
            return [f"{self._symbol}  {row}", row]
        spread_text = f"spread {fmt_price(spread, decimals_for_step(tick))}"
        return [f"{self._symbol}  {row}  {spread_text}", f"{row}  {spread_text}", spread_text]
