"""``/api/v1/reports/*``: aggregates for managers and admins; never a case's personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.context import AppContext, ContextDep
from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.reports import exports
from consult119.reports import service as svc
from consult119.reports.schemas import (
    Breakdown,
    ChannelShare,
    MonthlySeries,
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

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _format(value: str) -> str:
    return svc.check_choice(value, svc.FORMAT_CHOICES, "unknown_format", "format")


def _render(
    fmt: str, report: BaseModel, table: Callable[[Any], exports.Table], title: str, name: str
) -> Any:
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
) -> Any:
    """Consultations per channel (or source) with shares in percent, beside the previous year
    (``compare=previous_period`` for the period just before, ``none`` for no comparison) and
    the change in percentage points."""
    fmt = _format(format)
    period = _period(ctx, start, end)
    with ctx.db.read_session() as session:
        report = svc.channel_share(session, period, by=by, compare=compare)
    name = f"channel-share-{period.start}-{period.end}"
    return _render(fmt, report, exports.channel_share_table, "Channel share", name)


@router.get("/monthly", response_model=MonthlySeries)
def monthly(
    ctx: ContextDep, _: Reader, year: YearText, by: str = "channel", format: Format = "json"
) -> Any:
    """Cases per month of a year (reporting timezone) per channel or source."""
    fmt = _format(format)
    if not year.strip().isdigit():
        raise Invalid(
            "invalid_date", _l("year: {value} is not a year.", value=repr(year)), field="year"
        )
    with ctx.db.read_session() as session:
        report = svc.monthly(session, int(year), ctx.settings.report_zone, by=by)
    return _render(fmt, report, exports.monthly_table, "Monthly", f"monthly-{year}")


@router.get("/response-times", response_model=ResponseTimes)
def response_times(
    ctx: ContextDep, _: Reader, start: Start, end: End, by: str = "channel", format: Format = "json"
) -> Any:
    """Time to first response and to resolution (median, p90, mean) per channel, KTAS level
    (``by=acuity``) or both (``by=channel_acuity``)."""
    fmt = _format(format)
    period = _period(ctx, start, end)
    with ctx.db.read_session() as session:
        report = svc.response_times(session, period, by=by)
    name = f"response-times-{period.start}-{period.end}"
    return _render(fmt, report, exports.response_times_table, "Response times", name)


@router.get("/sla", response_model=SlaReport)
def sla(ctx: ContextDep, _: Reader, start: Start, end: End, format: Format = "json") -> Any:
    """SLA compliance per KTAS level: first doctor response by the case's due time."""
    fmt = _format(format)
    period = _period(ctx, start, end)
    with ctx.db.read_session() as session:
        report = svc.sla(session, period, now=ctx.now())
    return _render(fmt, report, exports.sla_table, "SLA", f"sla-{period.start}-{period.end}")


@router.get("/breakdown", response_model=Breakdown)
def breakdown(
    ctx: ContextDep,
    _: Reader,
    start: Start,
    end: End,
    dimension: str = "location_type",
    format: Format = "json",
) -> Any:
    """Cases by location_type (land/sea/air), country, category, acuity, age_band or sex."""
    fmt = _format(format)
    period = _period(ctx, start, end)
    with ctx.db.read_session() as session:
        report = svc.breakdown(session, period, dimension=dimension)
    name = f"{dimension}-{period.start}-{period.end}"
    return _render(fmt, report, exports.breakdown_table, dimension, name)


@router.get("/workload", response_model=Workload)
def workload(ctx: ContextDep, _: Reader, start: Start, end: End, format: Format = "json") -> Any:
    """Cases per doctor: assigned, resolved, open, mean time to first response."""
    fmt = _format(format)
    period = _period(ctx, start, end)
    with ctx.db.read_session() as session:
        report = svc.workload(session, period)
    return _render(
        fmt, report, exports.workload_table, "Workload", f"workload-{period.start}-{period.end}"
    )


@router.get("/workbook", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def workbook(ctx: ContextDep, _: Reader, start: Start, end: End) -> Response:
    """Every report for the period in one XLSX workbook, a sheet per report."""
    period = _period(ctx, start, end)
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
