"""``GET /metrics``: what an operator's Prometheus scrapes (docs/operations.md, "Metrics").

Counters and histograms live in the process (one set per server process: each process serves
its own endpoint). They are counted where the thing they count is decided:

- intakes by channel, source and outcome (``new``, ``joined``, ``duplicate``, ``refused``) and
  the intake latency, in :mod:`consult119.channels.edge.admission` (and the e-mail intake, which has
  no admission) — after the commit, so a batch the writer re-ran is counted once;
- group-commit batch sizes in :mod:`consult119.groupcommit`, at each commit;
- console connections in :mod:`consult119.console.socket`;
- SLA breaches in :mod:`consult119.triage.scheduler`, after the commit that stamped them;
- database errors at the engine (every statement SQLAlchemy runs) and in
  :class:`consult119.db.Prepared` (statements run on the driver's cursor).

Open cases by rank and the outbox by channel are read from the database when scraped, with one
aggregate statement (:class:`DatabaseCollector`): every process reports the same numbers, so a
dashboard takes their ``max``, never their sum. No label holds personal data: only codes
(channel, source, outcome, status, rank, kind).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError, IntegrityError

from consult119.dberrors import database_unavailable
from consult119.errors import Forbidden, Unauthorized
from consult119.i18n import lazy_gettext as _l
from consult119.tickets.codes import SOURCE_CHANNEL, Channel, Source

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from consult119.context import AppContext
    from consult119.db import Database

#: Reads ``(what, channel, source, status, n)`` rows for the database gauges.
WorkCounts = Callable[["Session"], list[Any]]

log = logging.getLogger(__name__)

# The ``*_created`` series double every counter's lines for a start time nobody graphs.
disable_created_metrics()

#: The process's own metrics; each app's registry (:func:`build_registry`) includes them.
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)

INTAKES = Counter(
    "consult119_intakes",
    "Messages taken in, by channel, source and outcome (new, joined, duplicate, refused)",
    ["channel", "source", "outcome"],
    registry=PROCESS_REGISTRY,
)
INTAKE_SECONDS = Histogram(
    "consult119_intake_seconds",
    "Time from a message's admission to its committed intake, by channel",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=PROCESS_REGISTRY,
)
GROUP_COMMIT_BATCH = Histogram(
    "consult119_group_commit_batch_size",
    "Pieces of intake work per committed transaction of the group-commit writer",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    registry=PROCESS_REGISTRY,
)
CONSOLE_CONNECTIONS = Gauge(
    "consult119_console_connections",
    "Open console WebSockets in this process",
    registry=PROCESS_REGISTRY,
)
SLA_BREACHES = Counter(
    "consult119_sla_breaches",
    "Cases whose SLA target passed (sla.breached stamped by this process), by KTAS level",
    ["level"],
    registry=PROCESS_REGISTRY,
)
DATABASE_ERRORS = Counter(
    "consult119_database_errors",
    "Errors the database driver raised: unavailable (connection, lock timeout), "
    "integrity (a constraint; a lost race is retried) or other",
    ["kind"],
    registry=PROCESS_REGISTRY,
)

#: Outcomes of an intake; ``refused`` is a message over its sender's rate limit.
OUTCOMES = ("new", "joined", "duplicate", "refused")

for _kind in ("unavailable", "integrity", "other"):
    DATABASE_ERRORS.labels(kind=_kind)


def channel_of(source: str) -> str:
    """The channel a source belongs to (``kakao`` -> ``chat``); ``other`` for an unknown one."""
    try:
        return SOURCE_CHANNEL[Source(source)].value
    except ValueError:
        return "other"


def count_intake(source: str, outcome: str, seconds: float | None = None) -> None:
    """One intake decided: ``outcome`` of :data:`OUTCOMES`; its latency when it was taken."""
    channel = channel_of(source)
    INTAKES.labels(channel=channel, source=source, outcome=outcome).inc()
    if seconds is not None:
        INTAKE_SECONDS.labels(channel=channel).observe(seconds)


def intake_outcome(created: bool, duplicate: bool) -> str:
    if duplicate:
        return "duplicate"
    return "new" if created else "joined"


def count_database_error(exc: BaseException) -> None:
    """One error from the database driver, by kind."""
    if database_unavailable(exc):
        kind = "unavailable"
    else:
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        integrity = isinstance(exc, IntegrityError) or isinstance(
            orig, (sqlite3.IntegrityError, psycopg.IntegrityError)
        )
        kind = "integrity" if integrity else "other"
    DATABASE_ERRORS.labels(kind=kind).inc()


#: Ranks are KTAS levels 1-5: each is reported, 0 when no open case has it.
RANKS = ("1", "2", "3", "4", "5")


class DatabaseCollector(Collector):
    """Open cases by rank and outbox items pending or failed by channel, read when scraped."""

    def __init__(self, db: Database, work_counts: WorkCounts) -> None:
        self.db = db
        self.work_counts = work_counts

    def describe(self) -> Iterable[Metric]:
        return [self._open(), self._outbox("pending"), self._outbox("failed")]

    @staticmethod
    def _open() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "consult119_open_cases",
            "Open cases (new, triaged, assigned, in progress, waiting) by channel and rank "
            "(KTAS level; untriaged cases rank 2), read from the database when scraped",
            labels=["channel", "rank"],
        )

    @staticmethod
    def _outbox(state: str) -> GaugeMetricFamily:
        what = "waiting to go out (queued or being sent)" if state == "pending" else "given up"
        return GaugeMetricFamily(
            f"consult119_outbox_{state}",
            f"Outbox replies {what}, by channel and source, read from the database when scraped",
            labels=["channel", "source"],
        )

    def collect(self) -> Iterator[Metric]:
        open_cases, pending, failed = self._open(), self._outbox("pending"), self._outbox("failed")
        try:
            with self.db.read_session() as session:
                rows = self.work_counts(session)
        except Exception as exc:  # noqa: BLE001 - a scrape must answer
            # Counted once already, by the engine's error hook (db.py), as every database error is.
            log.warning("metrics: reading the database failed (%s)", type(exc).__name__)
            return
        opened: dict[tuple[str, str], int] = {}
        outbox: dict[str, dict[tuple[str, str], int]] = {"pending": {}, "failed": {}}
        for what, channel, source, status, n in rows:
            if what == "open":
                key = (channel, str(status))
                opened[key] = opened.get(key, 0) + int(n)
            else:
                state = "failed" if status == "failed" else "pending"
                key = (channel, source)
                outbox[state][key] = outbox[state].get(key, 0) + int(n)
        for channel in Channel:
            for rank in RANKS:
                opened.setdefault((channel.value, rank), 0)
        for (channel, rank), n in sorted(opened.items()):
            open_cases.add_metric([channel, rank], n)
        for family, state in ((pending, "pending"), (failed, "failed")):
            for (channel, source), n in sorted(outbox[state].items()):
                family.add_metric([channel, source], n)
        yield open_cases
        yield pending
        yield failed


def build_registry(db: Database, work_counts: WorkCounts) -> CollectorRegistry:
    """The registry one app serves: the process's metrics, its database's gauges, and the
    standard ``process_*`` and ``python_*`` metrics."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in _process_collectors():
        registry.register(collector)
    registry.register(DatabaseCollector(db, work_counts))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def _process_collectors() -> list[Collector]:
    return [
        INTAKES,
        INTAKE_SECONDS,
        GROUP_COMMIT_BATCH,
        CONSOLE_CONNECTIONS,
        SLA_BREACHES,
        DATABASE_ERRORS,
    ]


# ---- access -----------------------------------------------------------------------------------


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``CONSULT119_METRICS_ALLOW``: comma-separated addresses or CIDR blocks."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return networks


def address_allowed(
    host: str | None, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in networks)


def check_access(request: Request, ctx: AppContext) -> None:
    """Let the scrape in by its address or its bearer token; else 401 (a token was sent and
    does not match) or 403 (none was sent).

    The client address is the one uvicorn settled on: the peer's, or the one a proxy listed in
    ``CONSULT119_TRUSTED_PROXIES`` forwarded. The token is compared in constant time and never
    logged."""
    host = request.client.host if request.client else None
    if address_allowed(host, ctx.metrics_allow):
        return
    header = request.headers.get("authorization", "")
    token = ctx.settings.metrics_token
    scheme, _, given = header.partition(" ")
    if (
        token is not None
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())
    ):
        return
    if header:
        raise Unauthorized(
            "invalid_metrics_token", _l("The metrics token is missing or does not match.")
        )
    raise Forbidden(
        "metrics_forbidden",
        _l("Metrics are not served to this address; send the metrics token."),
    )


router = APIRouter()


@router.get("/metrics", tags=["ops"], include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus' text format, from allowed addresses or with the bearer token."""
    ctx: AppContext = request.app.state.ctx
    check_access(request, ctx)
    registry = ctx.metrics_registry
    assert registry is not None, "install_metrics runs in create_app"
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(ctx: AppContext, work_counts: WorkCounts) -> None:
    """Build the app's registry and read the allow list once (a bad entry fails start-up).
    ``work_counts`` reads the database's gauges (``outbound.repository.work_counts``; passed in
    because the writer, which this module's counters serve, sits below the repositories)."""
    ctx.metrics_allow = parse_networks(ctx.settings.metrics_allow)
    ctx.metrics_registry = build_registry(ctx.db, work_counts)
