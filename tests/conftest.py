"""Test settings. Hypothesis runs without deadlines: these machines are shared and noisy,
and timing belongs to the benchmarks, not the tests. Examples are derived from the test
itself (derandomize) so CI runs are reproducible.

``database_url`` runs a test on the embedded SQLite file and on PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.databases import database

settings.register_profile("default", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("default")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on the embedded SQLite file and on PostgreSQL."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[str]:
    """A Dask LocalCluster of two single-threaded worker processes on the loopback only,
    as the executor string that names its scheduler."""
    import distributed  # a dev dependency: its absence is a failure, not a skip

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield "dask://" + local.scheduler_address.removeprefix("tcp://")
