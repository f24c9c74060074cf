"""The Dask executor over TLS: with the settings' certificates the service reaches only
the cluster whose certificates its authority signed; without them, or with another
authority, it reaches nothing."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.errors import InputError
from matcher.executor import open_executor
from tests.certificates import authority, signed


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    import distributed
    from distributed.security import Security

    folder = tmp_path_factory.mktemp("dask-tls")
    ca = authority(folder, "council")
    node_key, node_cert = signed(folder, ca, "cluster")
    security = Security(
        tls_ca_file=str(ca[1]),
        tls_scheduler_cert=str(node_cert),
        tls_scheduler_key=str(node_key),
        tls_worker_cert=str(node_cert),
        tls_worker_key=str(node_key),
        tls_client_cert=str(node_cert),
        tls_client_key=str(node_key),
        require_encryption=True,
    )
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        host="127.0.0.1",
        protocol="tls://",
        security=security,
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        yield "dask://" + cluster.scheduler_address.removeprefix("tls://"), folder


def use(monkeypatch: pytest.MonkeyPatch, ca: Path, cert: Path, key: Path) -> None:
    monkeypatch.setenv("MATCHER_DASK_TLS_CA", str(ca))
    monkeypatch.setenv("MATCHER_DASK_TLS_CERT", str(cert))
    monkeypatch.setenv("MATCHER_DASK_TLS_KEY", str(key))


def test_the_service_solves_on_the_cluster_its_authority_signed(
    tls_cluster: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, folder = tls_cluster
    key, cert = signed(folder, (folder / "council-ca.key", folder / "council-ca.pem"), "service")
    use(monkeypatch, folder / "council-ca.pem", cert, key)
    executor = open_executor(spec)
    try:
        assert executor.map(operator.add, [(1, 2), (3, 4)]) == [3, 7]
    finally:
        executor.close()


def test_another_authority_or_plain_tcp_reaches_nothing(
    tls_cluster: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, folder = tls_cluster
    other = folder / "other"
    other.mkdir(exist_ok=True)
    stranger_ca = authority(other, "stranger")
    key, cert = signed(other, stranger_ca, "service")
    use(monkeypatch, stranger_ca[1], cert, key)
    with pytest.raises(InputError, match="no Dask scheduler answers"):
        open_executor(spec)
    for name in ("MATCHER_DASK_TLS_CA", "MATCHER_DASK_TLS_CERT", "MATCHER_DASK_TLS_KEY"):
        monkeypatch.delenv(name)
    with pytest.raises(InputError, match="no Dask scheduler answers"):
        open_executor(spec)  # plain TCP to a TLS scheduler
    monkeypatch.setenv("MATCHER_DASK_TLS_CA", str(stranger_ca[1]))
    with pytest.raises(InputError, match="set all three TLS settings"):
        open_executor(spec)
