"""Report rules: periods in the reporting timezone, validation, shares and changes.

Counting (docs/reports.md): one consultation per case, by its origin channel and source, dated
by its creation in the reporting timezone; a reopen is not a new consultation (the case keeps
its creation date); a case merged into another is not counted (the survivor is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from consult119.errors import Invalid
from consult119.i18n import format_number, format_percent, translator
from consult119.i18n import lazy_gettext as _l
from consult119.reports import labels
from consult119.reports import repository as repo
from consult119.reports.schemas import (
    AnnualReport,
    AnnualRow,
    AnnualSection,
    AnnualTotal,
    Breakdown,
    ChannelShare,
    DoctorRow,
    DurationRow,
    MonthlySeries,
    MonthRow,
    PeriodBounds,
    ReportYears,
    ResponseTimes,
    SharePeriod,
    ShareRow,
    SlaReport,
    SlaRow,
    Workload,
    YearCount,
)
from consult119.tickets.codes import SEX_OF_STORED, Category, Channel, LocationType, Source

BY_CHOICES = ("channel", "source")
#: The codes each ``by`` knows (counted in one pass; any other code is still found).
KNOWN_KEYS = {"channel": [c.value for c in Channel], "source": [s.value for s in Source]}
COMPARE_CHOICES = ("previous_year", "previous_period", "none")
FORMAT_CHOICES = ("json", "csv", "xlsx")
DURATION_BY_CHOICES = ("channel", "acuity", "channel_acuity")
MAX_YEARS = 10
#: Dates a report accepts: far enough from the calendar's ends that a comparison a year or a
#: period back, and the shift to UTC, stay representable.
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 1, 1)
#: SPEC's target time to a doctor per KTAS level (1 is "immediate"); shown beside compliance,
#: which itself is measured against each case's stored due time (``sla_due_at``).
KTAS_TARGET_MINUTES = {1: 0, 2: 10, 3: 30, 4: 60, 5: 120}


@dataclass(frozen=True)
class Period:
    """Local dates [start, end) in ``zone``, and the UTC instants that bound them."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.start, self.zone)

    @property
    def end_utc(self) -> datetime:
        return local_midnight(self.end, self.zone)

    def previous_year(self) -> Period:
        return Period(shift_years(self.start, -1), shift_years(self.end, -1), self.zone)

    def previous_period(self) -> Period:
        length = self.end - self.start
        return Period(self.start - length, self.start, self.zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def parse_date(value: str | None, field: str) -> date:
    if value is None or value == "":
        raise Invalid(
            "invalid_date", _l("{field} is required (YYYY-MM-DD).", field=field), field=field
        )
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(
            "invalid_date",
            _l("{field}: {value} is not a date (YYYY-MM-DD).", field=field, value=repr(value)),
            field=field,
        ) from None


def make_period(start: str | date | None, end: str | date | None, zone: ZoneInfo) -> Period:
    """A checked period: dates that parse, ``end`` after ``start``, at most ten years."""
    s = start if isinstance(start, date) else parse_date(start, "start")
    e = end if isinstance(end, date) else parse_date(end, "end")
    for value, field in ((s, "start"), (e, "end")):
        if not EARLIEST <= value <= LATEST:
            raise Invalid(
                "invalid_date",
                _l(
                    "{field}: {value} is outside {earliest}..{latest}.",
                    field=field,
                    value=str(value),
                    earliest=str(EARLIEST),
                    latest=str(LATEST),
                ),
                field=field,
            )
    if e <= s:
        raise Invalid(
            "invalid_period",
            _l(
                "end ({end}) must be after start ({start}); end is exclusive.",
                end=str(e),
                start=str(s),
            ),
            field="end",
        )
    if e > shift_years(s, MAX_YEARS):
        raise Invalid(
            "period_too_long",
            _l("A report covers at most {years} years.", years=MAX_YEARS),
            field="end",
        )
    return Period(s, e, zone)


def year_period(year: int, zone: ZoneInfo) -> Period:
    if not EARLIEST.year <= year < LATEST.year:
        raise Invalid("invalid_date", _l("year {year} is out of range.", year=year), field="year")
    return Period(date(year, 1, 1), date(year + 1, 1, 1), zone)


def check_choice(value: str, choices: tuple[str, ...], code: str, field: str) -> str:
    if value not in choices:
        raise Invalid(
            code,
            _l(
                "{field} must be one of: {choices} (got {value}).",
                field=field,
                choices=", ".join(choices),
                value=repr(value),
            ),
            field=field,
        )
    return value


def pct(part: float, whole: float) -> float:
    return part * 100.0 / whole if whole else 0.0


def _share_period(period: Period, counts: dict[str, int], keys: list[str]) -> SharePeriod:
    total = sum(counts.values())
    rows = [
        ShareRow(key=k, count=counts.get(k, 0), share=round(pct(counts.get(k, 0), total), 1))
        for k in keys
    ]
    return SharePeriod(start=period.start, end=period.end, total=total, rows=rows)


def compared_period(period: Period, compare: str) -> Period | None:
    """The period ``compare`` sets beside ``period`` (None for ``none``)."""
    if compare == "previous_year":
        return period.previous_year()
    if compare == "previous_period":
        return period.previous_period()
    return None


def channel_share(
    session: Session, period: Period, *, by: str = "channel", compare: str = "previous_year"
) -> ChannelShare:
    """Counts and shares per channel or source, beside the previous year (or period)."""
    check_choice(by, BY_CHOICES, "unknown_by", "by")
    check_choice(compare, COMPARE_CHOICES, "unknown_compare", "compare")
    known = KNOWN_KEYS[by]
    current = repo.count_by(session, by, period.start_utc, period.end_utc, known)
    previous_period = compared_period(period, compare)
    before = (
        repo.count_by(session, by, previous_period.start_utc, previous_period.end_utc, known)
        if previous_period
        else {}
    )
    # Every key seen in either period, the biggest now first, so the two tables line up.
    keys = sorted(
        set(current) | set(before), key=lambda k: (-current.get(k, 0), -before.get(k, 0), k)
    )
    result = ChannelShare(
        timezone=period.zone.key,
        by=by,
        period=_share_period(period, current, keys),
        previous=_share_period(previous_period, before, keys) if previous_period else None,
        change_pp={},
    )
    if previous_period is not None:
        now_total, then_total = sum(current.values()), sum(before.values())
        result.change_pp = {
            k: round(pct(current.get(k, 0), now_total) - pct(before.get(k, 0), then_total), 1) + 0.0
            for k in keys
        }
    return result


def month_boundaries(year: int, zone: ZoneInfo) -> list[datetime]:
    """The 13 UTC instants at which the months of ``year`` begin and end, in ``zone``."""
    days = [date(year, m, 1) for m in range(1, 13)] + [date(year + 1, 1, 1)]
    return [local_midnight(d, zone) for d in days]


def monthly(session: Session, year: int, zone: ZoneInfo, *, by: str = "channel") -> MonthlySeries:
    """Cases per month of ``year`` (reporting timezone), per channel or source."""
    check_choice(by, BY_CHOICES, "unknown_by", "by")
    year_period(year, zone)
    table: dict[int, dict[str, int]] = {m: {} for m in range(1, 13)}
    for month, key, n in repo.monthly_counts(session, by, month_boundaries(year, zone)):
        table[month][key] = n
    keys = sorted({k for row in table.values() for k in row})
    months = [
        MonthRow(
            month=f"{year:04d}-{m:02d}",
            total=sum(row.values()),
            counts={k: row.get(k, 0) for k in keys},
        )
        for m, row in table.items()
    ]
    return MonthlySeries(timezone=zone.key, by=by, year=year, keys=keys, months=months)


def _minutes(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 60.0, 1)


def response_times(session: Session, period: Period, *, by: str = "channel") -> ResponseTimes:
    """Time to first response and to resolution: median, p90 and mean, per channel or KTAS."""
    check_choice(by, DURATION_BY_CHOICES, "unknown_by", "by")
    groups = ["channel", "acuity"] if by == "channel_acuity" else [by]

    def rows(metric: str) -> list[DurationRow]:
        found = repo.duration_percentiles(session, metric, groups, period.start_utc, period.end_utc)
        return [
            DurationRow(
                channel=r.get("channel"),
                acuity=r.get("acuity"),
                cases=int(r["n"]),
                median_minutes=_minutes(r["p50"]),
                p90_minutes=_minutes(r["p90"]),
                mean_minutes=_minutes(r["mean"]),
            )
            for r in found
        ]

    return ResponseTimes(
        timezone=period.zone.key,
        start=period.start,
        end=period.end,
        by=by,
        first_response=rows("first_response"),
        resolution=rows("resolution"),
    )


def sla(session: Session, period: Period, *, now: datetime) -> SlaReport:
    """SLA compliance per KTAS level: a doctor's first response by the case's due time."""
    rows = []
    for r in repo.sla_by_acuity(session, period.start_utc, period.end_utc, now):
        met, missed, cases = int(r["met"] or 0), int(r["missed"] or 0), int(r["cases"])
        rows.append(
            SlaRow(
                acuity=int(r["acuity"]),
                target_minutes=KTAS_TARGET_MINUTES.get(int(r["acuity"])),
                cases=cases,
                met=met,
                missed=missed,
                pending=cases - met - missed,
                compliance=round(pct(met, met + missed), 1) if met + missed else None,
            )
        )
    return SlaReport(timezone=period.zone.key, start=period.start, end=period.end, rows=rows)


def breakdown(session: Session, period: Period, *, dimension: str) -> Breakdown:
    """Cases by location type, country, category, KTAS level, age band or sex."""
    check_choice(dimension, repo.DIMENSIONS, "unknown_dimension", "dimension")
    counts = repo.breakdown(session, dimension, period.start_utc, period.end_utc)
    total = sum(counts.values())
    rows = [
        ShareRow(key=k, count=n, share=round(pct(n, total), 1))
        for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return Breakdown(
        timezone=period.zone.key,
        dimension=dimension,
        start=period.start,
        end=period.end,
        total=total,
        rows=rows,
    )


def workload(session: Session, period: Period) -> Workload:
    """Cases per doctor in the period (doctors are staff, so names are shown)."""
    rows = [
        DoctorRow(
            staff_id=int(r["staff_id"]),
            name=str(r["name"]),
            cases=int(r["cases"]),
            resolved=int(r["resolved"] or 0),
            open=int(r["open"] or 0),
            mean_first_response_minutes=_minutes(r["mean_first_response"]),
        )
        for r in repo.doctor_workload(session, period.start_utc, period.end_utc)
    ]
    return Workload(timezone=period.zone.key, start=period.start, end=period.end, rows=rows)


# --- the yearly report as the service publishes it -------------------------------------------

#: The annual report's tables, in the order it shows them.
ANNUAL_SECTIONS = (
    "channel",
    "source",
    "location_type",
    "category",
    "country",
    "region",
    "age_band",
    "sex",
)
AGE_BANDS = [f"{i * 10}-{i * 10 + 9}" for i in range(7)] + ["70+"]
#: Tables whose codes are a fixed list: every code is shown (0 when it had no case), in this
#: order. The others list the values found, the biggest first.
FIXED_ORDER: dict[str, list[str]] = {
    "location_type": [v.value for v in LocationType],
    "category": [v.value for v in Category],
    "age_band": AGE_BANDS,
    "sex": ["female", "male", "other", "unknown"],
}


def _tally(session: Session, period: Period) -> dict[str, dict[str, int]]:
    """Every table of the annual report for one period, as {code: count}; region from country
    and ``not_recorded`` for a case without the value."""
    start, end = period.start_utc, period.end_utc
    out: dict[str, dict[str, int]] = {
        "channel": repo.count_by(session, "channel", start, end, KNOWN_KEYS["channel"]),
        "source": repo.count_by(session, "source", start, end, KNOWN_KEYS["source"]),
    }
    found = repo.annual_counts(session, start, end)
    for dimension, counts in found.items():
        name = "sex" if dimension == "patient_sex" else dimension
        table: dict[str, int] = {}
        for value, n in counts.items():
            key = labels.NOT_RECORDED if value is None else str(value)
            if name == "sex" and value is not None:
                key = SEX_OF_STORED.get(key, key)
            table[key] = table.get(key, 0) + n
        out[name] = table
    regions: dict[str, int] = {}
    for country, n in out["country"].items():
        region = labels.region_of(country)
        regions[region] = regions.get(region, 0) + n
    out["region"] = regions
    return out


def _section(dimension: str, now: dict[str, int], then: dict[str, int]) -> AnnualSection:
    now_total, then_total = sum(now.values()), sum(then.values())
    fixed = FIXED_ORDER.get(dimension)
    seen = set(now) | set(then)
    if fixed is not None:
        keys = fixed + sorted(seen - set(fixed) - {labels.NOT_RECORDED})
    else:
        keys = sorted(
            seen - {labels.NOT_RECORDED}, key=lambda k: (-now.get(k, 0), -then.get(k, 0), k)
        )
    if labels.NOT_RECORDED in seen:
        keys.append(labels.NOT_RECORDED)  # shown, never dropped; last, whatever its size
    rows = []
    for k in keys:
        a, b = now.get(k, 0), then.get(k, 0)
        share, before = pct(a, now_total), pct(b, then_total)
        rows.append(
            AnnualRow(
                key=k,
                count=a,
                share=round(share, 1),
                previous_count=b,
                previous_share=round(before, 1),
                change_pp=round(share - before, 1) + 0.0,
            )
        )
    return AnnualSection(dimension=dimension, rows=rows)


def period_label(period: Period | PeriodBounds) -> str:
    """``2024`` for a calendar year, else ``2024-03-01 – 2024-03-31`` (the last day shown)."""
    start, end = period.start, period.end
    if start.month == start.day == 1 and end == date(start.year + 1, 1, 1):
        return str(start.year)
    return f"{start} – {end - timedelta(days=1)}"


def headline(report: AnnualReport, locale: str | None = None) -> list[str]:
    """One sentence per source with cases, biggest first, in ``locale``:
    "KakaoTalk 3,062 of 4,901 (62.5%), up 11.9 points on 2023"."""
    source = next(s for s in report.sections if s.dimension == "source")
    return headline_sentences(
        [(r.key, r.count, r.share, r.change_pp) for r in source.rows],
        total=report.total.count,
        previous=report.previous if report.total.previous_count else None,
        locale=locale,
    )


def share_headline(
    session: Session, period: Period, *, compare: str = "previous_year", locale: str | None = None
) -> list[str]:
    """The headline of a channel-share report: its sources, compared as ``compare`` says."""
    report = channel_share(session, period, by="source", compare=compare)
    previous = report.previous if report.previous is not None and report.previous.total else None
    return headline_sentences(
        [(r.key, r.count, r.share, report.change_pp.get(r.key, 0.0)) for r in report.period.rows],
        total=report.period.total,
        previous=PeriodBounds(start=previous.start, end=previous.end) if previous else None,
        locale=locale,
    )


def headline_sentences(
    rows: list[tuple[str, int, float, float]],
    *,
    total: int,
    previous: PeriodBounds | None,
    locale: str | None = None,
) -> list[str]:
    """Sentences for (source, count, share, change in points) rows with cases, biggest first;
    without a previous period with cases, no change is claimed."""
    t = translator(locale)
    then = ""
    if previous is not None:
        then = period_label(previous)
        if then.isdigit():
            then = t.gettext("{year}", year=then)  # "2023년" in Korean
    out = []
    for key, count, share, change in sorted(rows, key=lambda r: -r[1]):
        if not count:
            continue
        params = {
            "name": labels.label("source", key, t.locale),
            "count": format_number(count, t.locale),
            "total": format_number(total, t.locale),
            "share": format_percent(share, t.locale),
            "points": format_number(abs(change), t.locale, digits=1),
            "then": then,
        }
        if previous is None:
            text = t.gettext("{name} {count} of {total} ({share})", **params)
        elif change > 0:
            text = t.gettext(
                "{name} {count} of {total} ({share}), up {points} points on {then}", **params
            )
        elif change < 0:
            text = t.gettext(
                "{name} {count} of {total} ({share}), down {points} points on {then}", **params
            )
        else:
            text = t.gettext("{name} {count} of {total} ({share}), unchanged on {then}", **params)
        out.append(text)
    return out


def annual(session: Session, period: Period, *, locale: str | None = None) -> AnnualReport:
    """The yearly report: total, channel, source, land/sea/air, type, country, region, age band
    and sex, each beside the same days a year before; cases without a value count as
    ``not_recorded``. ``locale`` is the language of the headline sentences."""
    before = period.previous_year()
    now, then = _tally(session, period), _tally(session, before)
    now_total, then_total = sum(now["channel"].values()), sum(then["channel"].values())
    year = (
        period.start.year
        if period.start.month == period.start.day == 1
        and period.end == date(period.start.year + 1, 1, 1)
        else None
    )
    report = AnnualReport(
        timezone=period.zone.key,
        year=year,
        period=PeriodBounds(start=period.start, end=period.end),
        previous=PeriodBounds(start=before.start, end=before.end),
        total=AnnualTotal(
            count=now_total,
            previous_count=then_total,
            change=now_total - then_total,
            change_pct=round(pct(now_total - then_total, then_total), 1) if then_total else None,
        ),
        headline=[],
        sections=[_section(d, now[d], then[d]) for d in ANNUAL_SECTIONS],
    )
    report.headline = headline(report, locale)
    return report


def report_years(session: Session, zone: ZoneInfo, *, now: datetime) -> ReportYears:
    """The years that have cases (newest first) and the one a report should open on: the last
    complete year with cases, or the current one when it is the only year there is."""
    first, last = repo.case_time_span(session)
    years: list[YearCount] = []
    if first is not None and last is not None:
        # Within the years a report accepts: a stray date far off (an import typo) must not
        # turn this list into an error or a thousand queries.
        newest = min(last.astimezone(zone).year, LATEST.year - 1)
        oldest = max(first.astimezone(zone).year, EARLIEST.year, newest - 100)
        for y in range(newest, oldest - 1, -1):
            span = year_period(y, zone)
            n = repo.count_cases(session, span.start_utc, span.end_utc)
            if n:
                years.append(YearCount(year=y, total=n))
    this_year = now.astimezone(zone).year
    complete = [y.year for y in years if y.year < this_year]
    default = complete[0] if complete else (years[0].year if years else None)
    return ReportYears(timezone=zone.key, years=years, default=default)
