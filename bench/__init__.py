"""Benchmarks: `make bench` / `python -m bench`. Figures, each beside its reference point."""
