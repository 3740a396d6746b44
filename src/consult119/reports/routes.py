"""``/api/v1/reports/*``: aggregates for managers and admins; never a case's personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.context import AppContext, ContextDep
from consult119.errors import Invalid, reader_locale
from consult119.i18n import lazy_gettext as _l
from consult119.reports import exports
from consult119.reports import service as svc
from consult119.reports.schemas import (
    AnnualReport,
    Breakdown,
    ChannelShare,
    MonthlySeries,
    ReportYears,
    ResponseTimes,
    SlaReport,
    Workload,
)
from consult119.staff.models import Role, Staff
from consult119.types import YearText

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Reader = Annotated[Staff, Depends(require_roles(Role.MANAGER, Role.ADMIN))]
Start = Annotated[str, Query(description="First local day, YYYY-MM-DD (reporting timezone)")]
End = Annotated[str, Query(description="Day after the last, YYYY-MM-DD (exclusive)")]
Format = Annotated[str, Query(description="json, csv or xlsx")]
Lang = Annotated[
    str | None,
    Query(
        description="ko or en: a CSV or XLSX for people (labels, title, period, time zone, "
        "when made; CSV with a byte-order mark). Without it, the plain table of codes."
    ),
]
LANGS = ("ko", "en")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _format(value: str) -> str:
    return svc.check_choice(value, svc.FORMAT_CHOICES, "unknown_format", "format")


def _lang(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return svc.check_choice(value, LANGS, "unknown_lang", "lang")


def _file(content: bytes | str, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _labelled(fmt: str, sheets: list[exports.Sheet], about: exports.About) -> Response:
    name = exports.file_name(sheets[0].stem, about.period, fmt)
    if fmt == "csv":
        return _file(exports.to_labelled_csv(sheets, about), "text/csv; charset=utf-8", name)
    return _file(exports.to_labelled_xlsx(sheets, about), XLSX, name)


def _render(
    fmt: str,
    report: BaseModel,
    table: Callable[[Any], exports.Table],
    title: str,
    name: str,
    labelled: Callable[[], tuple[exports.Sheet, exports.About]] | None = None,
) -> Any:
    """JSON, or a file: labelled for people when ``labelled`` is given (``lang`` was), else the
    plain table of codes that scripts read."""
    if fmt in ("csv", "xlsx") and labelled is not None:
        sheet, about = labelled()
        return _labelled(fmt, [sheet], about)
    if fmt == "csv":
        return Response(
            exports.to_csv(table(report)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            exports.to_xlsx([(title, table(report))]),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return report


def _period(ctx: AppContext, start: str, end: str) -> svc.Period:
    return svc.make_period(start, end, ctx.settings.report_zone)


@router.get("/channel-share", response_model=ChannelShare)
def channel_share(
    ctx: ContextDep,
    _: Reader,
    start: Start,
    end: End,
    by: str = "channel",
    compare: str = "previous_year",
    format: Format = "json",
    lang: Lang = None,
) -> Any:
    """Consultations per channel (or source) with shares in percent, beside the previous year
    (``compare=previous_period`` for the period just before, ``none`` for no comparison) and
    the change in percentage points."""
    fmt = _format(format)
    locale = _lang(lang)
    period = _period(ctx, start, end)
    with ctx.db.read_session() as session:
        report = svc.channel_share(session, period, by=by, compare=compare)
    about = (
        exports.About(period, svc.compared_period(period, compare), ctx.now(), locale)
        if locale
        else None
    )
    return _render(
        fmt,
        report,
        exports.channel_share_table,
        "Channel share",
        exports.file_name("channel-share", period, fmt).rsplit(".", 1)[0],
        (lambda: (exports.channel_share_sheet(report, about), about)) if about else None,
    )


@router.get("/years", response_model=ReportYears)
def years(ctx: ContextDep, _: Reader) -> ReportYears:
    """The years that have cases, newest first, and the one a report opens on (the last
    complete year with cases)."""
    with ctx.db.read_session() as session:
        return svc.report_years(session, ctx.settings.report_zone, now=ctx.now())


@router.get("/annual", response_model=AnnualReport)
def annual(
    ctx: ContextDep,
    _: Reader,
    request: Request,
    year: Annotated[str | None, Query(description="A calendar year (reporting timezone)")] = None,
    start: Annotated[str | None, Query(description="Instead of year: first day")] = None,
    end: Annotated[str | None, Query(description="Instead of year: day after the last")] = None,
    section: Annotated[
        str | None, Query(description="With format=csv or xlsx: one table only")
    ] = None,
    format: Format = "json",
    lang: Lang = None,
) -> Any:
    """The yearly report as the service publishes it: total; by channel and source; by the
    patient's location (land, sea, air); by consultation type; by country and region; by age
    band and sex; each beside the year before, with the change. ``headline`` is in ``lang``
    (else the reader's language)."""
    fmt = _format(format)
    locale = _lang(lang) or reader_locale(request)
    zone = ctx.settings.report_zone
    if year is not None and (start or end):
        raise Invalid("invalid_period", _l("Give year, or start and end, not both."), field="year")
    period = (
        svc.year_period(_year(year), zone)
        if year is not None
        else _period(ctx, start or "", end or "")
    )
    if section is not None:
        svc.check_choice(section, svc.ANNUAL_SECTIONS, "unknown_section", "section")
    with ctx.db.read_session() as session:
        report = svc.annual(session, period, locale=locale)
    if fmt == "json":
        return report
    about = exports.About(period, period.previous_year(), ctx.now(), locale)
    sheets = exports.annual_sheets(report, about)
    if section is not None:
        sheets = [sheets[1 + svc.ANNUAL_SECTIONS.index(section)]]
    return _labelled(fmt, sheets, about)


@router.get("/monthly", response_model=MonthlySeries)
def monthly(
    ctx: ContextDep,
    _: Reader,
    year: YearText,
    by: str = "channel",
    format: Format = "json",
    lang: Lang = None,
) -> Any:
    """Cases per month of a year (reporting timezone) per channel or source."""
    fmt = _format(format)
    locale = _lang(lang)
    number = _year(year)
    with ctx.db.read_session() as session:
        report = svc.monthly(session, number, ctx.settings.report_zone, by=by)
    period = svc.year_period(number, ctx.settings.report_zone)
    about = exports.About(period, None, ctx.now(), locale) if locale else None
    return _render(
        fmt,
        report,
        exports.monthly_table,
        "Monthly",
        f"monthly-{number}",
        (lambda: (exports.monthly_sheet(report, about), about)) if about else None,
    )


def _year(year: str) -> int:
    if not year.strip().isdigit():
        raise Invalid(
            "invalid_date", _l("year: {value} is not a year.", value=repr(year)), field="year"
        )
    return int(year)


def _over_period(
    ctx: AppContext,
    query: tuple[str, str, str, str | None],
    compute: Callable[[Session, svc.Period], BaseModel],
    table: Callable[[Any], exports.Table],
    title: str,
    stem: str,
    sheet: Callable[[Any, exports.About], exports.Sheet],
) -> Any:
    """The answer of every report over a period: ``query`` is the request's start, end,
    format and lang; the file is named ``<stem>-<start>-<end>``."""
    start, end, format, lang = query
    fmt = _format(format)
    locale = _lang(lang)
    period = _period(ctx, start, end)
    with ctx.db.read_session() as session:
        report = compute(session, period)
    about = exports.About(period, None, ctx.now(), locale) if locale else None
    return _render(
        fmt,
        report,
        table,
        title,
        f"{stem}-{period.start}-{period.end}",
        (lambda: (sheet(report, about), about)) if about else None,
    )


@router.get("/response-times", response_model=ResponseTimes)
def response_times(
    ctx: ContextDep,
    _: Reader,
    start: Start,
    end: End,
    by: str = "channel",
    format: Format = "json",
    lang: Lang = None,
) -> Any:
    """Time to first response and to resolution (median, p90, mean) per channel, KTAS level
    (``by=acuity``) or both (``by=channel_acuity``)."""
    return _over_period(
        ctx,
        (start, end, format, lang),
        lambda s, p: svc.response_times(s, p, by=by),
        exports.response_times_table,
        "Response times",
        "response-times",
        exports.response_times_sheet,
    )


@router.get("/sla", response_model=SlaReport)
def sla(
    ctx: ContextDep, _: Reader, start: Start, end: End, format: Format = "json", lang: Lang = None
) -> Any:
    """SLA compliance per KTAS level: first doctor response by the case's due time."""
    return _over_period(
        ctx,
        (start, end, format, lang),
        lambda s, p: svc.sla(s, p, now=ctx.now()),
        exports.sla_table,
        "SLA",
        "sla",
        exports.sla_sheet,
    )


@router.get("/breakdown", response_model=Breakdown)
def breakdown(
    ctx: ContextDep,
    _: Reader,
    start: Start,
    end: End,
    dimension: str = "location_type",
    format: Format = "json",
    lang: Lang = None,
) -> Any:
    """Cases by location_type (land/sea/air), country, category, acuity, age_band or sex."""
    return _over_period(
        ctx,
        (start, end, format, lang),
        lambda s, p: svc.breakdown(s, p, dimension=dimension),
        exports.breakdown_table,
        dimension,
        dimension,
        exports.breakdown_sheet,
    )


@router.get("/workload", response_model=Workload)
def workload(
    ctx: ContextDep, _: Reader, start: Start, end: End, format: Format = "json", lang: Lang = None
) -> Any:
    """Cases per doctor: assigned, resolved, open, mean time to first response."""
    return _over_period(
        ctx,
        (start, end, format, lang),
        svc.workload,
        exports.workload_table,
        "Workload",
        "workload",
        exports.workload_sheet,
    )


@router.get("/workbook", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def workbook(ctx: ContextDep, _: Reader, start: Start, end: End, lang: Lang = None) -> Response:
    """Every report for the period in one XLSX workbook, a sheet per report (with ``lang``:
    the reports page's tables, labelled, each with its title and period)."""
    locale = _lang(lang)
    period = _period(ctx, start, end)
    if locale:
        with ctx.db.read_session() as session:
            sheets = exports.labelled_workbook(session, period, now=ctx.now(), locale=locale)
        about = exports.About(period, period.previous_year(), ctx.now(), locale)
        return _file(
            exports.to_labelled_xlsx(sheets, about),
            XLSX,
            exports.file_name("reports", period, "xlsx"),
        )
    with ctx.db.read_session() as session:
        content = exports.to_xlsx(exports.workbook_sheets(session, period, now=ctx.now()))
    return Response(
        content,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="reports-{period.start}-{period.end}.xlsx"'
        },
    )


@router.get(
    "/cases", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}}
)
def cases(
    ctx: ContextDep, staff: Reader, request: Request, start: Start, end: End
) -> StreamingResponse:
    """One pseudonymised row per case (no names, contacts or text), as CSV. The export is logged."""
    period = _period(ctx, start, end)
    with ctx.db.unit_of_work() as session:
        audit.record(
            session,
            staff_id=staff.id,
            action="report.cases_export",
            client_ip=client_ip(request),
            detail={"start": period.start.isoformat(), "end": period.end.isoformat()},
            at=ctx.now(),
        )
    key = exports.pseudonym_key(ctx.signing_key)

    def body() -> Any:
        with ctx.db.read_session() as session:
            yield from exports.csv_lines(
                exports.CASE_COLUMNS, exports.case_rows(session, period, key)
            )

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cases-{period.start}-{period.end}.csv"'
        },
    )
