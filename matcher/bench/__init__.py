"""Benchmark suites and baselines for `matcher bench`."""
