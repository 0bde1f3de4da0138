"""Benchmarks that print figures: `python -m bench.<name> --help` (see docs/performance.md)."""
