"""Depthdesk benchmarks (`python -m bench`, `make bench`)."""
