"""pyqtgraph items for candles and volume bars, built as QPainterPaths from numpy arrays.

`CandlesItem` draws many candles from pre-built paths; the closed candles use one item with
`DeviceCoordinateCache` (rebuilt only when a bar closes, on back-fill or on a level-of-detail
change) and the live candle another, tiny item redrawn per tick. Pens are cosmetic, width 1.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.widgets.format import MAX_PRICE_DECIMALS, decimals_for_step, fmt_price, fmt_step

BODY_FRACTION = 0.7
LOD_MAX_BARS = 3000
LABEL_MARGIN = 6  # px right of the widest price label


def resample(
    t: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    factor: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge every `factor` bars: first open, max high, min low, last close, summed volume."""
    if factor <= 1 or len(t) == 0:
        return t, o, h, lo, c, v
    n = len(t)
    starts = np.arange(0, n, factor)
    ends = np.minimum(starts + factor, n) - 1
    return (
        t[starts],
        o[starts],
        np.maximum.reduceat(h, starts),
        np.minimum.reduceat(lo, starts),
        c[ends],
        np.add.reduceat(v, starts),
    )


def _rect_path(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> QPainterPath:
    """One path of closed rectangles (x0..x1 by y0..y1), built without a Python loop."""
    n = len(x0)
    if n == 0:
        return QPainterPath()
    xs = np.column_stack([x0, x1, x1, x0, x0]).ravel()
    ys = np.column_stack([y0, y0, y1, y1, y0]).ravel()
    connect = np.ones(5 * n, dtype=np.int32)
    connect[4::5] = 0
    path: QPainterPath = pg.arrayToQPath(xs, ys, connect=connect)
    return path


def _segment_path(x: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> QPainterPath:
    """One path of vertical segments (wicks)."""
    if len(x) == 0:
        return QPainterPath()
    xs = np.repeat(x, 2)
    ys = np.column_stack([y0, y1]).ravel()
    path: QPainterPath = pg.arrayToQPath(xs, ys, connect="pairs")
    return path


class PathsItem(pg.GraphicsObject):
    """Draws a few pre-built paths (pen and/or brush each) inside a known rectangle; `cached`
    items render through a device-coordinate cache (repainted only when rebuilt or zoomed)."""

    def __init__(self, up: str, down: str, cached: bool = True) -> None:
        super().__init__()
        self._paths: list[tuple[QPainterPath, QPen | None, QBrush | None]] = []
        self._rect = QRectF()
        self._up = QColor(up)
        self._down = QColor(down)
        self.count = 0
        if cached:
            self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_colours(self, up: QColor, down: QColor) -> None:
        """Up/down colours (the next set_data uses them)."""
        self._up, self._down = QColor(up), QColor(down)

    def clear(self) -> None:
        """Draw nothing."""
        self.prepareGeometryChange()
        self._paths = []
        self.count = 0
        self._rect = QRectF()
        self.update()

    def _start_build(self, n: int) -> bool:
        """Drop the old paths before a rebuild of `n` bars; False (item left empty) for none."""
        self.prepareGeometryChange()
        self._paths = []
        self.count = n
        if n == 0:
            self._rect = QRectF()
            self.update()
            return False
        return True

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        for path, pen, brush in self._paths:
            if brush is not None:
                painter.fillPath(path, brush)
            if pen is not None:
                painter.setPen(pen)
                painter.drawPath(path)

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)


class CandlesItem(PathsItem):
    """Candlesticks from arrays; x is the open time in seconds, `width` the bar interval."""

    def __init__(self, cached: bool = True) -> None:
        super().__init__("#26c281", "#ef5350", cached)
        self.builds = 0

    def set_data(
        self,
        t: np.ndarray,
        o: np.ndarray,
        h: np.ndarray,
        lo: np.ndarray,
        c: np.ndarray,
        width: float,
    ) -> None:
        """Rebuild the paths for these candles."""
        self.builds += 1
        if not self._start_build(len(t)):
            return
        half = width * BODY_FRACTION / 2
        mid = t + width / 2
        up = c >= o
        for mask, colour in ((up, self._up), (~up, self._down)):
            if not mask.any():
                continue
            pen = pg.mkPen(colour, width=1)
            pen.setCosmetic(True)
            wicks = _segment_path(mid[mask], lo[mask], h[mask])
            top = np.maximum(o[mask], c[mask])
            bottom = np.minimum(o[mask], c[mask])
            bodies = _rect_path(mid[mask] - half, mid[mask] + half, bottom, top)
            self._paths.append((wicks, pen, None))
            self._paths.append((bodies, pen, QBrush(colour)))
        y_low, y_high = float(np.min(lo)), float(np.max(h))
        if not (math.isfinite(y_low) and math.isfinite(y_high)):
            y_low, y_high = 0.0, 1.0
        # flat candles still need a height, in proportion to prices of any magnitude
        height = max(y_high - y_low, abs(y_high) * 1e-9, 1e-300)
        self._rect = QRectF(float(t[0]), y_low, float(t[-1] + width - t[0]), height)
        self.update()


class VolumeItem(PathsItem):
    """Volume bars coloured by candle direction."""

    def __init__(self, cached: bool = True) -> None:
        super().__init__("#1d6b4b", "#7a2b2c", cached)

    def set_data(
        self, t: np.ndarray, o: np.ndarray, c: np.ndarray, v: np.ndarray, width: float
    ) -> None:
        """Rebuild the bars."""
        if not self._start_build(len(t)):
            return
        half = width * BODY_FRACTION / 2
        mid = t + width / 2
        up = c >= o
        zeros = np.zeros(len(t))
        for mask, colour in ((up, self._up), (~up, self._down)):
            if mask.any():
                path = _rect_path(mid[mask] - half, mid[mask] + half, zeros[mask], v[mask])
                self._paths.append((path, None, QBrush(colour)))
        top = float(np.max(v)) if len(v) else 1.0
        self._rect = QRectF(float(t[0]), 0.0, float(t[-1] + width - t[0]), max(top, 1e-9))
        self.update()


class PriceAxis(pg.AxisItem):
    """Right-hand price axis: labels on the instrument's price grid, written with its decimals
    and thousands separators (never SI-scaled or in scientific notation: 0.0001268 stays so)."""

    def __init__(self, orientation: str = "right") -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)
        self.tick: float | None = None
        self.decimals: int | None = None

    def set_price_format(self, tick: float | None, decimals: int | None) -> None:
        """The price step labels stay on (None: any) and the most decimals they show (None:
        as many as the label spacing needs); redraws the labels."""
        self.tick = tick if tick is not None and math.isfinite(tick) and tick > 0 else None
        self.decimals = decimals
        self.picture = None
        self.update()

    def tickSpacing(self, low: float, high: float, size: float) -> list[tuple[float, float]]:
        levels: list[tuple[float, float]] = super().tickSpacing(low, high, size)
        tick = self.tick
        if tick is None:
            return levels
        # labels between two prices the market can trade at would read as prices it cannot
        kept = [(spacing, offset) for spacing, offset in levels if spacing >= tick * (1 - 1e-9)]
        return kept or [(tick, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [fmt_price(v * scale, self.label_decimals(spacing)) for v in values]

    def label_decimals(self, spacing: float) -> int:
        """Decimals of labels `spacing` apart: those of the spacing, at most the instrument's."""
        if not spacing > 0 or not math.isfinite(spacing):
            return 2 if self.decimals is None else self.decimals
        places = -math.floor(math.log10(spacing))  # 20 → -1, 0.5 → 1, 1e-07 → 7
        if self.decimals is None:
            return min(max(0, places), MAX_PRICE_DECIMALS)
        return min(self.decimals, max(0, places + 1))

    def label_width(self, prices: list[float]) -> int:
        """Pixels the axis needs to show labels for these prices in full (pyqtgraph drops a
        label wider than its axis instead of clipping it)."""
        decimals = self.decimals if self.decimals is not None else MAX_PRICE_DECIMALS
        font = self.style["tickFont"] or self.font()
        metrics = QFontMetricsF(font)
        widest = max((metrics.horizontalAdvance(fmt_price(p, decimals)) for p in prices), default=0)
        offset = max(0, self.style["tickLength"]) + self.style["tickTextOffset"][0]
        return math.ceil(widest + offset + LABEL_MARGIN)


class VolumeAxis(pg.AxisItem):
    """Volume axis with compact labels (250K, 1.2M), plain decimals below a thousand."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            v *= scale
            mag = abs(v)
            for unit, suffix, least in ((1e9, "B", 1), (1e6, "M", 1), (1e3, "K", 0)):
                if mag >= unit:
                    # as many decimals as labels `spacing` apart need: 1.5K beside 2.0K
                    places = max(least, min(2, decimals_for_step(spacing * scale / unit)))
                    out.append(f"{v / unit:.{places}f}{suffix}")
                    break
            else:
                out.append(fmt_step(v))
        return out
