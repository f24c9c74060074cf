"""What the service tells its operators: JSON log lines with a request id, and Prometheus
metrics at ``/metrics``.

Every request gets an id (the proxy's ``X-Request-ID`` when it is a plain token of at
most 64 characters, else a new one), sent back in the response's ``X-Request-ID`` and
written on every log line the request causes. Log lines name a route's template
(``POST /referrals/{referral_id}/matches``), never a path, so never a child's id.

Metrics (prometheus-client, one registry per app): requests and their latency by method,
route template and status; jobs queued and running by kind; solve times by kind; sign-ins
refused by why. Nothing in them names a person or a child.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: The request being served, for log lines.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def new_request_id(sent: bytes | None) -> str:
    """The proxy's id if it is a plain token, else a new one."""
    if sent is not None:
        text = sent.decode("latin-1")
        if ACCEPTED_ID.match(text):
            return text
    return secrets.token_hex(8)


class JsonLines(logging.Formatter):
    """A log record as one JSON object: time (UTC), level, logger, message, the request's
    id, and any ``extra`` fields the call gave."""

    STANDARD: ClassVar[frozenset[str]] = frozenset(vars(logging.makeLogRecord({})))

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current:
            line["request_id"] = current
        for key, value in vars(record).items():
            if key not in self.STANDARD and key not in line and not key.startswith("_"):
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # Only the kind: a message could quote a child's record.
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, default=str)


def json_logging(level: int = logging.INFO) -> None:
    """Every logger writes JSON lines to standard error."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class Metrics:
    """The service's metrics, in a registry of its own (``/metrics`` renders it)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "matcher_requests",
            "Requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "matcher_request_seconds",
            "Seconds to answer a request, by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.jobs = Gauge(
            "matcher_jobs",
            "Allocation and scenario jobs by kind and status (queued, running).",
            ["kind", "status"],
            registry=self.registry,
        )
        self.solve = Histogram(
            "matcher_solve_seconds",
            "Seconds a job's solve took, by kind.",
            ["kind"],
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.refused = Counter(
            "matcher_sign_ins_refused",
            "Sign-ins refused, by why (unknown or expired token, identity provider's answer "
            "refused, no role).",
            ["why"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(time.perf_counter() - started)
