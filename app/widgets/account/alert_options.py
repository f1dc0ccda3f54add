"""Alert options: which notifications to show, sound, and the liquidation warning distance."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QWidget

from app.account.alerts import DEFAULT_LIQUIDATION_DISTANCE_PCT, AlertKind

KIND_LABELS: dict[AlertKind, str] = {
    "fill": "Fills",
    "dms": "Dead man's switch problems",
    "disconnect": "Disconnects",
    "liquidation": "Position near liquidation",
    "auth": "Login failures",
}


class AlertOptions(QWidget):
    """Emits `changed` whenever an option changes; read the options from its attributes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertOptions")
        form = QFormLayout(self)
        self.kind_boxes: dict[AlertKind, QCheckBox] = {}
        for kind, label in KIND_LABELS.items():
            box = QCheckBox(label, self)
            box.setObjectName(f"alert.{kind}")
            box.setChecked(True)
            box.toggled.connect(lambda _on: self.changed.emit())
            self.kind_boxes[kind] = box
            form.addRow("Toast" if kind == "fill" else "", box)
        self.sound = QCheckBox("Play a sound with each toast", self)
        self.sound.setObjectName("alertSound")
        self.sound.toggled.connect(lambda _on: self.changed.emit())
        form.addRow("Sound", self.sound)
        self.liq_distance = QDoubleSpinBox(self)
        self.liq_distance.setObjectName("alertLiqDistance")
        self.liq_distance.setRange(0.5, 50.0)
        self.liq_distance.setSingleStep(0.5)
        self.liq_distance.setDecimals(1)
        self.liq_distance.setSuffix(" %")
        self.liq_distance.setValue(DEFAULT_LIQUIDATION_DISTANCE_PCT)
        self.liq_distance.setToolTip(
            "Warn when the mark price is within this distance of a position's liquidation price"
        )
        self.liq_distance.valueChanged.connect(lambda _v: self.changed.emit())
        form.addRow("Liquidation warning", self.liq_distance)

    def enabled_kinds(self) -> set[AlertKind]:
        return {kind for kind, box in self.kind_boxes.items() if box.isChecked()}
