"""Running it for real, as docs/deploy.md says: ``matcher serve --production`` refuses to
start without what it needs, and behind nginx with TLS (the site file in deploy/, a
self-signed certificate) a person signs in over HTTPS with a ``__Host-`` cookie, HSTS, and
forwarded headers believed from the proxy alone. Logs are JSON lines with a request id and
no child's id."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from matcher.register.store import Register
from tests.certificates import authority, signed
from tests.clients import TOKENS, small_instance
from tests.pages.test_pages import csrf
from tests.service.test_server import Server, free_port, start_server

ROOT = Path(__file__).resolve().parents[2]
NGINX = Path("/usr/sbin/nginx")
SECRET = "a-session-secret-of-at-least-32-characters-0123"


def test_production_refuses_to_start_without_its_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "serve", "--production", "--port", str(free_port())],
        cwd=tmp_path,
        env=env | {"MATCHER_SESSION_SECRET": "short"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    for setting in ("MATCHER_SESSION_SECRET", "MATCHER_TRUSTED_PROXY", "MATCHER_TOKENS_FILE"):
        assert setting in done.stderr, done.stderr
    assert not (tmp_path / ".matcher").exists()  # no demo register, no demo tokens


def test_production_refuses_an_empty_register_rather_than_load_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    settings = {
        "MATCHER_SESSION_SECRET": SECRET,
        "MATCHER_TRUSTED_PROXY": "127.0.0.1",
        "MATCHER_TOKENS": json.dumps({"tokens": list(TOKENS.values())}),
    }
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "serve", "--production", "--port", str(free_port())],
        cwd=tmp_path,
        env=env | settings,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "the register is empty" in done.stderr


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[str, Server]]:
    assert NGINX.exists(), "nginx is missing: run tools/debian-packages.sh (apt-get)"
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    server = start_server(
        url,
        tmp_path,
        settings={"MATCHER_SESSION_SECRET": SECRET, "MATCHER_TRUSTED_PROXY": "127.0.0.1"},
        options=("--production",),
    )
    service_port = server.url.rsplit(":", 1)[1]
    tls_port, plain_port = free_port(), free_port()
    # A certificate for localhost, signed by an authority of the test's own.
    ca = authority(tmp_path, "test")
    key, cert = signed(tmp_path, ca, "tls")
    # The site file as shipped, with this test's host, ports and certificate.
    site = (ROOT / "deploy" / "nginx-site.conf").read_text()
    site = (
        site.replace("matcher.council.example.pem", "CERT")
        .replace("/etc/ssl/certs/CERT", str(cert))
        .replace("/etc/ssl/private/matcher.council.example.key", str(key))
        .replace("matcher.council.example", "localhost")
        .replace("listen 443 ssl", f"listen 127.0.0.1:{tls_port} ssl")
        .replace("listen 80;", f"listen 127.0.0.1:{plain_port};")
        .replace("127.0.0.1:8000", f"127.0.0.1:{service_port}")
    )
    assert str(cert) in site and f"127.0.0.1:{service_port}" in site
    work = tmp_path / "nginx"
    work.mkdir()
    work.chmod(0o777)
    (work / "site.conf").write_text(site)
    (work / "nginx.conf").write_text(
        f"""daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/site.conf;
}}
"""
    )
    proxy = subprocess.Popen(
        [str(NGINX), "-p", str(work), "-c", str(work / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"https://localhost:{tls_port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/health", verify=str(ca[1]), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, server
    finally:
        proxy.terminate()
        proxy.wait(10)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def test_a_person_signs_in_through_the_tls_proxy(
    behind_nginx: tuple[str, Server], tmp_path: Path
) -> None:
    base, server = behind_nginx
    cert = str(tmp_path / "test-ca.pem")
    with httpx.Client(base_url=base, verify=cert, follow_redirects=False) as browser:
        page = browser.get("/sign-in")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        signed = browser.post(
            "/sign-in",
            data={
                "token": TOKENS["navigator"]["token"],
                "csrf_token": csrf(page.text),
                "next": "/waiting-list/R-0001",
            },
        )
        assert signed.status_code == 303, signed.text
        cookie = signed.headers["set-cookie"]
        assert cookie.startswith("__Host-matcher_session=") and "Secure" in cookie
        assert browser.get("/waiting-list/R-0001").status_code == 200
        request_id = browser.get("/waiting-list").headers["x-request-id"]
    # Plain HTTP is sent to HTTPS.
    plain = re.search(r"listen 127\.0\.0\.1:(\d+);", (tmp_path / "nginx" / "site.conf").read_text())
    assert plain is not None
    moved = httpx.get(f"http://localhost:{plain.group(1)}/sign-in", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"].startswith("https://")
    log = server.stop()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines, log
    assert any(line.get("request_id") == request_id for line in lines)
    assert "R-0001" not in log  # the child's id is in the path, never in the log


def test_forwarded_headers_are_believed_from_the_trusted_proxy_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    # The proxy is elsewhere: a request from loopback claiming HTTPS is not believed.
    server = start_server(
        url,
        tmp_path,
        settings={"MATCHER_SESSION_SECRET": SECRET, "MATCHER_TRUSTED_PROXY": "10.9.9.9"},
        options=("--production",),
    )
    try:
        claimed = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        page = httpx.get(f"{server.url}/sign-in", headers=claimed)
        assert page.status_code == 200
        assert "strict-transport-security" not in page.headers
        signed = httpx.post(
            f"{server.url}/sign-in",
            headers=claimed,
            cookies=page.cookies,
            data={"token": TOKENS["navigator"]["token"], "csrf_token": csrf(page.text)},
        )
        assert signed.headers["set-cookie"].startswith("matcher_session=")
    finally:
        server.stop()
