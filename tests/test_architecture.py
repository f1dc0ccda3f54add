"""Layering rules from DESIGN.md: feeds, state and the simulator never import Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
QT_MODULES = ("PySide6", "qasync", "pyqtgraph", "shiboken6")
QT_FREE_PACKAGES = ("feeds", "state", "sim", "headless")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", QT_FREE_PACKAGES)
def test_package_never_imports_qt(package: str) -> None:
    offenders = []
    for path in sorted((APP / package).rglob("*.py")):
        for name in _imported_modules(path):
            if name.split(".")[0] in QT_MODULES or name.startswith(("app.gui", "app.widgets")):
                offenders.append(f"{path.relative_to(APP)} imports {name}")
    assert offenders == []
