"""Reports as the API shows them (the channel-share shape is SPEC.md's contract)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class ShareRow(BaseModel):
    key: str
    count: int
    share: float  # percent of the period's total, one decimal


class SharePeriod(BaseModel):
    start: date
    end: date  # exclusive
    total: int
    rows: list[ShareRow]


class ChannelShare(BaseModel):
    timezone: str
    by: str
    period: SharePeriod
    previous: SharePeriod | None
    change_pp: dict[str, float]  # percentage points, current minus previous, one decimal


class MonthRow(BaseModel):
    month: str  # YYYY-MM
    total: int
    counts: dict[str, int]


class MonthlySeries(BaseModel):
    timezone: str
    by: str
    year: int
    keys: list[str]
    months: list[MonthRow]


class DurationRow(BaseModel):
    channel: str | None = None
    acuity: int | None = None
    cases: int
    median_minutes: float | None
    p90_minutes: float | None
    mean_minutes: float | None


class ResponseTimes(BaseModel):
    timezone: str
    start: date
    end: date
    by: str
    first_response: list[DurationRow]
    resolution: list[DurationRow]


class SlaRow(BaseModel):
    acuity: int
    target_minutes: int | None
    cases: int
    met: int
    missed: int
    pending: int
    compliance: float | None  # percent of met among met + missed


class SlaReport(BaseModel):
    timezone: str
    start: date
    end: date
    rows: list[SlaRow]


class Breakdown(BaseModel):
    timezone: str
    dimension: str
    start: date
    end: date
    total: int
    rows: list[ShareRow]


class DoctorRow(BaseModel):
    staff_id: int
    name: str
    cases: int
    resolved: int
    open: int
    mean_first_response_minutes: float | None


class Workload(BaseModel):
    timezone: str
    start: date
    end: date
    rows: list[DoctorRow]


class AnnualRow(BaseModel):
    key: str  # a code (``kakao``, ``sea``, ``JP``), or ``not_recorded``
    count: int
    share: float  # percent of the period's total, one decimal
    previous_count: int
    previous_share: float
    change_pp: float  # percentage points, current minus previous, one decimal


class AnnualSection(BaseModel):
    dimension: str  # channel, source, location_type, category, country, region, age_band, sex
    rows: list[AnnualRow]


class AnnualTotal(BaseModel):
    count: int
    previous_count: int
    change: int  # cases, current minus previous
    change_pct: float | None  # growth in percent of the previous total; None without one


class PeriodBounds(BaseModel):
    start: date
    end: date  # exclusive


class AnnualReport(BaseModel):
    timezone: str
    year: int | None  # the calendar year, when the period is one
    period: PeriodBounds
    previous: PeriodBounds  # the same days a year before
    total: AnnualTotal
    headline: list[str]  # one sentence per source with cases, in the requested language
    sections: list[AnnualSection]


class YearCount(BaseModel):
    year: int
    total: int


class ReportYears(BaseModel):
    timezone: str
    years: list[YearCount]  # only years with cases, newest first
    default: int | None  # the last complete year with cases (else the newest), None without any
