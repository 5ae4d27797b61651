"""Benchmarks for rxsse; run them all with ``python -m benchmarks``."""
