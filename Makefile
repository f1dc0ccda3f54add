# Depthdesk: every target sets itself up first (scripts/setup.sh is idempotent and quick when done).
PY := .venv/bin/python
export QT_API := pyside6
export PYQTGRAPH_QT_LIB := PySide6

.PHONY: setup demo test lint bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) -m app --demo

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	$(PY) -m ruff check app tests bench
	$(PY) -m mypy

lint: setup
	$(PY) -m ruff check app tests bench
	$(PY) -m ruff format --check app tests bench
	$(PY) -m mypy

bench: setup
	$(PY) -m bench

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
