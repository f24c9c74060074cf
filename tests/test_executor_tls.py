"""The Dask executor over TLS: with the settings' certificates the service reaches only
the cluster whose certificates its authority signed; without them, or with another
authority, it reaches nothing."""

from __future__ import annotations

import operator
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.errors import InputError
from matcher.executor import open_executor


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def authority(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}-ca.key", folder / f"{name}-ca.pem"
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        f"/CN={name} CA",
        "-keyout",
        str(key),
        "-out",
        str(cert),
    )
    return key, cert


def signed(folder: Path, ca: tuple[Path, Path], name: str) -> tuple[Path, Path]:
    """A key and certificate for ``name``, signed by ``ca``, valid for 127.0.0.1."""
    key, request, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    extensions = folder / f"{name}.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={name}",
        "-keyout",
        str(key),
        "-out",
        str(request),
    )
    openssl(
        "x509",
        "-req",
        "-in",
        str(request),
        "-CA",
        str(ca[1]),
        "-CAkey",
        str(ca[0]),
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        str(cert),
        "-extfile",
        str(extensions),
    )
    return key, cert


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
