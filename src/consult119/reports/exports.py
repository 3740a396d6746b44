"""Exports: CSV and XLSX of the reports, and the pseudonymised one-row-per-case CSV.

The case export carries no names, contacts, free text or case numbers: each case is a keyed
pseudonym (HMAC of its case number), so rows can be told apart and re-linked by the service
that holds the key, and by no one else. It keeps what statistics need (FACTS.md): date, channel,
source, land/sea/air, type, KTAS level, age band, sex, country, and the service times.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from consult119.reports import repository as repo
from consult119.reports import service
from consult119.reports.schemas import (
    Breakdown,
    ChannelShare,
    MonthlySeries,
    ResponseTimes,
    SlaReport,
    Workload,
)
from consult119.reports.service import Period

Table = tuple[list[str], list[list[Any]]]

CASE_COLUMNS = [
    "case_ref",
    "created_date",
    "year",
    "channel",
    "source",
    "status",
    "acuity",
    "category",
    "disposition",
    "location_type",
    "country",
    "age_band",
    "sex",
    "reopen_count",
    "first_response_minutes",
    "resolution_minutes",
]


# --- reports as tables (header, rows): the one shape CSV, XLSX and the CLI's tables share ----


def channel_share_table(report: ChannelShare) -> Table:
    header = [report.by, "count", "share_pct"]
    if report.previous is not None:
        header += ["previous_count", "previous_share_pct", "change_pp"]
    rows: list[list[Any]] = []
    previous = {r.key: r for r in report.previous.rows} if report.previous else {}
    for row in report.period.rows:
        line: list[Any] = [row.key, row.count, row.share]
        if report.previous is not None:
            before = previous.get(row.key)
            line += [
                before.count if before else 0,
                before.share if before else 0.0,
                report.change_pp.get(row.key, 0.0),
            ]
        rows.append(line)
    total: list[Any] = ["total", report.period.total, 100.0 if report.period.total else 0.0]
    if report.previous is not None:
        total += [report.previous.total, 100.0 if report.previous.total else 0.0, ""]
    rows.append(total)
    return header, rows


def monthly_table(report: MonthlySeries) -> Table:
    header = ["month", *report.keys, "total"]
    rows = [[m.month, *(m.counts[k] for k in report.keys), m.total] for m in report.months]
    return header, rows


def response_times_table(report: ResponseTimes) -> Table:
    header = ["metric", "channel", "acuity", "cases", "median_min", "p90_min", "mean_min"]
    rows = [
        [
            metric,
            r.channel or "",
            r.acuity if r.acuity is not None else "",
            r.cases,
            r.median_minutes,
            r.p90_minutes,
            r.mean_minutes,
        ]
        for metric, found in (
            ("first_response", report.first_response),
            ("resolution", report.resolution),
        )
        for r in found
    ]
    return header, rows


def sla_table(report: SlaReport) -> Table:
    header = ["acuity", "target_min", "cases", "met", "missed", "pending", "compliance_pct"]
    rows = [
        [r.acuity, r.target_minutes, r.cases, r.met, r.missed, r.pending, r.compliance]
        for r in report.rows
    ]
    return header, rows


def breakdown_table(report: Breakdown) -> Table:
    rows: list[list[Any]] = [[r.key, r.count, r.share] for r in report.rows]
    rows.append(["total", report.total, 100.0 if report.total else 0.0])
    return [report.dimension, "count", "share_pct"], rows


def workload_table(report: Workload) -> Table:
    header = ["doctor", "cases", "resolved", "open", "mean_first_response_min"]
    rows = [
        [r.name, r.cases, r.resolved, r.open, r.mean_first_response_minutes] for r in report.rows
    ]
    return header, rows


# --- writers ---------------------------------------------------------------------------------


def to_csv(table: Table) -> str:
    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()


def to_xlsx(sheets: Sequence[tuple[str, Table]]) -> bytes:
    """A workbook with one sheet per report (bold header, frozen first row)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, (header, rows) in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for i, name in enumerate(header, start=1):
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(
                10, len(str(name)) + 2
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the workbook ---------------------------------------------------------------------------


def workbook_sheets(session: Session, period: Period, *, now: datetime) -> list[tuple[str, Table]]:
    """The workbook's sheets: channel and source share, months, times, SLA, breakdowns, doctors."""
    sheets: list[tuple[str, Table]] = [
        (
            "Channel share",
            channel_share_table(service.channel_share(session, period, by="channel")),
        ),
        (
            "Source share",
            channel_share_table(service.channel_share(session, period, by="source")),
        ),
    ]
    if period.end.year - period.start.year <= 1 and period.start.month == period.start.day == 1:
        sheets.append(
            ("Monthly", monthly_table(service.monthly(session, period.start.year, period.zone)))
        )
    sheets.append(
        (
            "Response times",
            response_times_table(service.response_times(session, period, by="channel_acuity")),
        )
    )
    sheets.append(("SLA", sla_table(service.sla(session, period, now=now))))
    for dimension in ("location_type", "country", "category", "age_band"):
        report = service.breakdown(session, period, dimension=dimension)
        sheets.append((dimension, breakdown_table(report)))
    sheets.append(("Workload", workload_table(service.workload(session, period))))
    return sheets


# --- the per-case export ---------------------------------------------------------------------


def pseudonym_key(signing_key: str) -> bytes:
    """A key for case pseudonyms, derived so it is not the token-signing key itself."""
    return hmac.new(signing_key.encode(), b"consult119 case pseudonym", hashlib.sha256).digest()


def case_ref(key: bytes, case_number: str) -> str:
    return hmac.new(key, case_number.encode(), hashlib.sha256).hexdigest()[:16]


def _minutes_between(a: datetime | None, b: datetime | None) -> float | str:
    if a is None or b is None:
        return ""
    return round((b - a).total_seconds() / 60.0, 1)


def case_rows(session: Session, period: Period, key: bytes) -> Iterator[list[Any]]:
    """One pseudonymised row per counted case, streamed from the database in batches."""
    zone: ZoneInfo = period.zone
    for r in repo.stream(session, repo.cases_for_export(period.start_utc, period.end_utc)):
        local = r.created_at.astimezone(zone)
        yield [
            case_ref(key, r.case_number),
            local.date().isoformat(),
            local.year,
            r.channel,
            r.source,
            r.status,
            "" if r.acuity is None else r.acuity,
            r.category or "",
            r.disposition or "",
            r.location_type or "",
            r.country or "",
            r.age_band,
            r.patient_sex or "",
            r.reopen_count,
            _minutes_between(r.created_at, r.first_response_at),
            _minutes_between(r.created_at, r.resolved_at),
        ]


def csv_lines(header: list[str], rows: Iterable[list[Any]], batch: int = 500) -> Iterator[str]:
    """CSV text in chunks, for a streamed response or a file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows, start=1):
        writer.writerow(row)
        if i % batch == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
