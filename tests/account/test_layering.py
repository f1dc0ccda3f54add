"""app/account stays Qt-free (the dead man's switch and credentials run without a GUI)."""

from __future__ import annotations

import ast
from pathlib import Path

ACCOUNT = Path(__file__).resolve().parents[2] / "app" / "account"
QT = ("PySide6", "qasync", "pyqtgraph", "shiboken6")


def test_account_package_never_imports_qt() -> None:
    offenders = []
    files = sorted(ACCOUNT.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in QT or name.startswith(("app.gui", "app.widgets")):
                    offenders.append(f"{path.name} imports {name}")
    assert offenders == []
