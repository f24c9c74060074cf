"""Test settings. Hypothesis runs without deadlines: these machines are shared and noisy,
and timing belongs to the benchmarks, not the tests. Examples are derived from the test
itself (derandomize) so CI runs are reproducible."""

from hypothesis import settings

settings.register_profile("default", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("default")
