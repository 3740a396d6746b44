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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from consult119.i18n import Translator, translator
from consult119.i18n import lazy_gettext as _l
from consult119.reports import labels, service
from consult119.reports import repository as repo
from consult119.reports.schemas import (
    AnnualReport,
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


def _response_time_rows(report: ResponseTimes) -> list[tuple[str, Any]]:
    """(metric, row) of a response-times report: first response, then resolution."""
    return [("first_response", r) for r in report.first_response] + [
        ("resolution", r) for r in report.resolution
    ]


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
        for metric, r in _response_time_rows(report)
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


# --- exports people open and pass on: labels in the reader's language, title and period inside --


@dataclass
class Sheet:
    """One labelled report: a title, what it covers, a header of the reader's words, rows.

    The first column keeps the code (``kakao``, ``sea``) so a file can be joined and filtered
    whatever language it was made in; the second is the reader's word for it.
    """

    stem: str  # the file name's first part, e.g. ``channel-share``
    name: str  # the sheet's name (at most 31 characters in XLSX)
    title: str
    header: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    percent_columns: tuple[int, ...] = ()
    #: Columns of changes in points, shown with their sign (+11.9) where text is printed.
    signed_columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class About:
    """What every labelled file says of itself."""

    period: Period
    previous: Period | None
    made_at: datetime
    locale: str

    def lines(self) -> list[list[str]]:
        t = translator(self.locale)
        zone = self.period.zone
        out = [[t.gettext("Period"), _period_text(self.period)]]
        if self.previous is not None:
            out.append([t.gettext("Compared with"), _period_text(self.previous)])
        out.append([t.gettext("Time zone"), zone.key])
        made = self.made_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        out.append([t.gettext("Made"), f"{made} ({zone.key})"])
        out.append(
            [
                t.gettext("Counting"),
                t.gettext(
                    "One consultation per case, dated by its creation in this time zone; "
                    "a case merged into another is not counted."
                ),
            ]
        )
        return out


def _period_text(period: Period) -> str:
    last = period.end - timedelta(days=1)
    label = service.period_label(period)
    span = f"{period.start} – {last}"
    return span if label == span else f"{label} ({span})"


def file_name(stem: str, period: Period, ext: str) -> str:
    """``channel-share-2024.xlsx``; ``channel-share-2024-03-01_2024-03-31.csv`` for other days."""
    label = service.period_label(period).replace(" – ", "_")
    return f"{stem}-{label}.{ext}"


def _share_header(t: Translator, about: About, first: str) -> list[str]:
    now = service.period_label(about.period)
    header = [
        t.gettext("Code"),
        first,
        t.gettext("Cases {period}", period=now),
        t.gettext("Share {period} (%)", period=now),
    ]
    if about.previous is not None:
        then = service.period_label(about.previous)
        header += [
            t.gettext("Cases {period}", period=then),
            t.gettext("Share {period} (%)", period=then),
            t.gettext("Change (points)"),
        ]
    return header


def channel_share_sheet(report: ChannelShare, about: About) -> Sheet:
    t = translator(about.locale)
    by = report.by
    previous = {r.key: r for r in report.previous.rows} if report.previous else {}
    rows: list[list[Any]] = []
    for row in report.period.rows:
        line: list[Any] = [row.key, labels.label(by, row.key, t.locale), row.count, row.share]
        if report.previous is not None:
            before = previous.get(row.key)
            line += [
                before.count if before else 0,
                before.share if before else 0.0,
                report.change_pp.get(row.key, 0.0),
            ]
        rows.append(line)
    total: list[Any] = [
        labels.TOTAL,
        labels.label(by, labels.TOTAL, t.locale),
        report.period.total,
        100.0 if report.period.total else 0.0,
    ]
    if report.previous is not None:
        total += [report.previous.total, 100.0 if report.previous.total else 0.0, None]
    rows.append(total)
    title = (
        t.gettext("Consultations by channel, {period}", period=service.period_label(about.period))
        if by == "channel"
        else t.gettext(
            "Consultations by source, {period}", period=service.period_label(about.period)
        )
    )
    return Sheet(
        stem="channel-share" if by == "channel" else "source-share",
        name=labels.dimension_name(by, t.locale),
        title=title,
        header=_share_header(t, about, labels.dimension_name(by, t.locale)),
        rows=rows,
        percent_columns=(3, 5, 6),
        signed_columns=(6,),
    )


_SECTION_TITLES = {
    "channel": _l("Consultations by channel, {period}"),
    "source": _l("Consultations by source, {period}"),
    "location_type": _l("Consultations by the patient's location (land, sea, air), {period}"),
    "category": _l("Consultations by type, {period}"),
    "country": _l("Consultations by country, {period}"),
    "region": _l("Consultations by region, {period}"),
    "age_band": _l("Consultations by age band, {period}"),
    "sex": _l("Consultations by sex, {period}"),
}


def annual_sheets(report: AnnualReport, about: About) -> list[Sheet]:
    """The annual report as sheets: a summary with the headline, then one per table."""
    t = translator(about.locale)
    now, then = service.period_label(report.period), service.period_label(report.previous)
    total = report.total
    summary = Sheet(
        stem="annual-report",
        name=t.gettext("Summary"),
        title=t.gettext("Consultations of Koreans abroad, {period}", period=now),
        header=[t.gettext("Code"), t.gettext("What"), now, then, t.gettext("Change")],
        rows=[
            [
                labels.TOTAL,
                t.gettext("Consultations"),
                total.count,
                total.previous_count,
                total.change,
            ],
            [
                "change_pct",
                t.gettext("Change on {period} (%)", period=then),
                total.change_pct,
                None,
                None,
            ],
        ],
        notes=list(report.headline),
    )
    sheets = [summary]
    for section in report.sections:
        d = section.dimension
        sheets.append(
            Sheet(
                stem=f"annual-{d.replace('_', '-')}",
                name=labels.dimension_name(d, t.locale),
                title=_SECTION_TITLES[d].render(t.locale).format(period=now),
                header=_share_header(t, about, labels.dimension_name(d, t.locale)),
                rows=[
                    [
                        r.key,
                        labels.label(d, r.key, t.locale),
                        r.count,
                        r.share,
                        r.previous_count,
                        r.previous_share,
                        r.change_pp,
                    ]
                    for r in section.rows
                ]
                + [
                    [
                        labels.TOTAL,
                        labels.label(d, labels.TOTAL, t.locale),
                        total.count,
                        100.0 if total.count else 0.0,
                        total.previous_count,
                        100.0 if total.previous_count else 0.0,
                        None,
                    ]
                ],
                percent_columns=(3, 5, 6),
                signed_columns=(6,),
            )
        )
    return sheets


def monthly_sheet(report: MonthlySeries, about: About) -> Sheet:
    t = translator(about.locale)
    header = [
        t.gettext("Month"),
        *(labels.label(report.by, k, t.locale) for k in report.keys),
        labels.label(report.by, labels.TOTAL, t.locale),
    ]
    rows = [[m.month, *(m.counts[k] for k in report.keys), m.total] for m in report.months]
    return Sheet(
        stem="monthly",
        name=t.gettext("Months"),
        title=t.gettext("Consultations per month, {year}", year=report.year),
        header=header,
        rows=rows,
    )


def response_times_sheet(report: ResponseTimes, about: About) -> Sheet:
    t = translator(about.locale)
    metric_names = {
        "first_response": t.gettext("First response"),
        "resolution": t.gettext("Resolution"),
    }
    rows = [
        [
            metric,
            metric_names[metric],
            r.channel or "",
            labels.label("channel", r.channel, t.locale) if r.channel else "",
            "" if r.acuity is None else r.acuity,
            labels.label("acuity", r.acuity, t.locale) if r.acuity is not None else "",
            r.cases,
            r.median_minutes,
            r.p90_minutes,
            r.mean_minutes,
        ]
        for metric, r in _response_time_rows(report)
    ]
    return Sheet(
        stem="response-times",
        name=t.gettext("Response times"),
        title=t.gettext("Time to first response and to resolution, {period}", period=_label(about)),
        header=[
            t.gettext("Code"),
            t.gettext("Measure"),
            t.gettext("Code"),
            labels.dimension_name("channel", t.locale),
            t.gettext("Code"),
            labels.dimension_name("acuity", t.locale),
            t.gettext("Cases"),
            t.gettext("Median (min)"),
            t.gettext("90th percentile (min)"),
            t.gettext("Mean (min)"),
        ],
        rows=rows,
    )


def sla_sheet(report: SlaReport, about: About) -> Sheet:
    t = translator(about.locale)
    rows = [
        [
            r.acuity,
            labels.label("acuity", r.acuity, t.locale),
            r.target_minutes,
            r.cases,
            r.met,
            r.missed,
            r.pending,
            r.compliance,
        ]
        for r in report.rows
    ]
    return Sheet(
        stem="sla",
        name=t.gettext("Target times"),
        title=t.gettext(
            "Time-to-doctor targets met, by KTAS level, {period}", period=_label(about)
        ),
        header=[
            t.gettext("Code"),
            labels.dimension_name("acuity", t.locale),
            t.gettext("Target (min)"),
            t.gettext("Cases"),
            t.gettext("Met"),
            t.gettext("Missed"),
            t.gettext("Pending"),
            t.gettext("Met (%)"),
        ],
        rows=rows,
        percent_columns=(7,),
    )


def breakdown_sheet(report: Breakdown, about: About) -> Sheet:
    t = translator(about.locale)
    d = report.dimension
    rows: list[list[Any]] = [
        [r.key, labels.label(d, r.key, t.locale), r.count, r.share] for r in report.rows
    ]
    rows.append(
        [
            labels.TOTAL,
            labels.label(d, labels.TOTAL, t.locale),
            report.total,
            100.0 if report.total else 0.0,
        ]
    )
    return Sheet(
        stem=d.replace("_", "-"),
        name=labels.dimension_name(d, t.locale),
        title=t.gettext(
            "Consultations by {dimension}, {period}",
            dimension=labels.dimension_name(d, t.locale),
            period=_label(about),
        ),
        header=[
            t.gettext("Code"),
            labels.dimension_name(d, t.locale),
            t.gettext("Cases"),
            t.gettext("Share (%)"),
        ],
        rows=rows,
        percent_columns=(3,),
    )


def workload_sheet(report: Workload, about: About) -> Sheet:
    t = translator(about.locale)
    return Sheet(
        stem="workload",
        name=t.gettext("Doctors"),
        title=t.gettext("Cases per doctor, {period}", period=_label(about)),
        header=[
            t.gettext("Doctor"),
            t.gettext("Cases"),
            t.gettext("Resolved"),
            t.gettext("Open"),
            t.gettext("Mean first response (min)"),
        ],
        rows=[
            [r.name, r.cases, r.resolved, r.open, r.mean_first_response_minutes]
            for r in report.rows
        ],
    )


def _label(about: About) -> str:
    return service.period_label(about.period)


def labelled_workbook(
    session: Session, period: Period, *, now: datetime, locale: str
) -> list[Sheet]:
    """Every report of the page in one workbook: the annual report's tables, the months (for a
    calendar year), response times and the KTAS targets."""
    about = About(period, period.previous_year(), now, locale)
    sheets = annual_sheets(service.annual(session, period, locale=locale), about)
    if service.period_label(period).isdigit():
        sheets.append(
            monthly_sheet(service.monthly(session, period.start.year, period.zone), about)
        )
    sheets.append(response_times_sheet(service.response_times(session, period, by="acuity"), about))
    sheets.append(sla_sheet(service.sla(session, period, now=now), about))
    return sheets


def _document_rows(sheet: Sheet, about: About) -> list[list[Any]]:
    rows: list[list[Any]] = [[sheet.title], *about.lines()]
    rows += [[note] for note in sheet.notes]
    rows.append([])
    return rows


def to_labelled_csv(sheets: Sequence[Sheet], about: About) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads Hangul right), the title and period first,
    then each table; several tables are separated by an empty line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, sheet in enumerate(sheets):
        if i:
            writer.writerow([])
        writer.writerows(_document_rows(sheet, about) if i == 0 else [[sheet.title]])
        writer.writerow(sheet.header)
        writer.writerows(["" if v is None else v for v in row] for row in sheet.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_labelled_xlsx(sheets: Sequence[Sheet], about: About) -> bytes:
    """A workbook with a sheet per report: title, period, time zone and when it was made above
    the table; bold header; numbers stay numbers (shares shown with one decimal)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for sheet in sheets:
        name = _sheet_name(sheet.name, used)
        ws = book.create_sheet(title=name)
        for row in _document_rows(sheet, about):
            ws.append(row)
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(sheet.header)
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append(row)
            for i in sheet.percent_columns:
                cell = ws.cell(ws.max_row, i + 1)
                if isinstance(cell.value, float):
                    cell.number_format = "0.0"
        ws.freeze_panes = ws.cell(header_row + 1, 1)
        for i, title in enumerate(sheet.header, start=1):
            width = max([len(str(title))] + [len(str(r[i - 1])) for r in sheet.rows if i <= len(r)])
            ws.column_dimensions[ws.cell(header_row, i).column_letter].width = min(
                max(10, width + 2), 40
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    """An XLSX sheet name: at most 31 characters, none of ``[]:*?/\\``, unique in the book."""
    clean = "".join(c for c in name if c not in "[]:*?/\\")[:31] or "Sheet"
    candidate, n = clean, 2
    while candidate.lower() in used:
        candidate = f"{clean[:28]} {n}"
        n += 1
    used.add(candidate.lower())
    return candidate
