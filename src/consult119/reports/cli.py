"""``consult119 report …`` and ``consult119 import cases``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table as RichTable

from consult119.auth.security import signing_key
from consult119.config import get_settings
from consult119.db import Database, utcnow
from consult119.errors import DomainError
from consult119.i18n import (
    format_number,
    format_points,
    get_locale,
    match_locale,
    ngettext,
    use_locale,
)
from consult119.i18n import gettext as _
from consult119.migrate import upgrade
from consult119.reports import exports
from consult119.reports import service as svc
from consult119.reports.importer import import_cases as run_import
from consult119.terminal import err, fail, out, progress_bar

report_app = typer.Typer(
    help="Reports for managers: the annual report, channel share, months, times, SLA.",
    no_args_is_help=True,
)
import_app = typer.Typer(help="Import historical data.", no_args_is_help=True)


FORMATS = ("table", "csv", "json", "xlsx")
T = TypeVar("T")


def _period(year: int | None, start: str | None, end: str | None) -> svc.Period:
    zone = get_settings().report_zone
    if year is not None:
        if start or end:
            fail(_("Give --year or --start/--end, not both."))
        return svc.year_period(year, zone)
    if not (start and end):
        fail(_("Give --year, or --start and --end (end exclusive)."))
    return svc.make_period(start, end, zone)


def _write_binary(content: bytes, output: Path | None) -> None:
    """A binary file goes to ``-o FILE`` or to a pipe, never onto a terminal."""
    if output is not None:
        output.write_bytes(content)
        err.print(_("Wrote {path}", path=output))
        return
    if sys.stdout.isatty():
        fail(_("An XLSX file is not for the terminal: give -o FILE (or redirect the output)."))
    sys.stdout.buffer.write(content)
    sys.stdout.flush()


def _print_sheets(
    sheets: list[exports.Sheet], output: Path | None, notes: list[str], *, notes_first: bool = False
) -> None:
    """Labelled tables (the reader's words, no codes) on the terminal or into a text file."""
    console = out if output is None else None
    handle = None
    if output is not None:
        handle = output.open("w", encoding="utf-8")
        console = Console(file=handle, width=200)
    assert console is not None
    try:
        if notes_first:
            for note in notes:
                console.print(note, markup=False, highlight=False)
            console.print()
        for sheet in sheets:
            rich = RichTable(title=sheet.title, header_style="bold")
            for i, name in enumerate(sheet.header[1:]):
                rich.add_column(name, justify="left" if i == 0 else "right")
            for row in sheet.rows:
                rich.add_row(
                    *(
                        format_points(v)
                        if i in sheet.signed_columns and v is not None
                        else _cell(v)
                        for i, v in enumerate(row)
                        if i
                    )
                )
            console.print(rich)
        if not notes_first:
            for note in notes:
                console.print(note, markup=False, highlight=False)
    finally:
        if handle is not None:
            handle.close()
            err.print(_("Wrote {path}", path=output))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_number(value)
    if isinstance(value, float):
        return format_number(value, digits=1)
    return str(value)


def _emit(
    fmt: str,
    report: BaseModel,
    table: Callable[[Any], exports.Table],
    title: str,
    output: Path | None,
) -> None:
    """Print or write ``report`` as a Rich table, CSV, JSON (the API's shape) or XLSX."""
    if fmt == "json":
        text = json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    elif fmt == "csv":
        text = exports.to_csv(table(report))
    elif fmt == "xlsx":
        _write_binary(exports.to_xlsx([(title, table(report))]), output)
        return
    else:
        header, rows = table(report)
        rich = RichTable(title=title, header_style="bold")
        for i, name in enumerate(header):
            rich.add_column(name, justify="left" if i == 0 else "right")
        for row in rows:
            rich.add_row(
                *("" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row)
            )
        if output is None:
            out.print(rich)
        else:
            with output.open("w", encoding="utf-8") as f:
                Console(file=f, width=200).print(rich)
        return
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(_("Wrote {path}", path=output))
    else:
        sys.stdout.write(text)


def _in_read_session(fn: Callable[[Any], T]) -> T:
    """Run a report in a read session of the configured database."""
    db = Database(get_settings())
    try:
        with db.read_session() as session:
            return fn(session)
    finally:
        db.dispose()


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        why = _(
            "--format must be one of: {choices} (got {value}).",
            choices=", ".join(FORMATS),
            value=repr(fmt),
        )
        fail(f"unknown_format: {why}")
    return fmt


YearOpt = typer.Option(None, "--year", help="A calendar year in the reporting timezone.")
StartOpt = typer.Option(None, "--start", help="First day, YYYY-MM-DD (instead of --year).")
EndOpt = typer.Option(None, "--end", help="Day after the last, YYYY-MM-DD (exclusive).")
FormatOpt = typer.Option("table", "--format", help="table, csv, json (the API's shape) or xlsx.")
OutputOpt = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout.")


def _guarded(fn: Callable[[], None]) -> None:
    """Run a command; a refusal prints its code and message and exits 2, as the API's 422."""
    try:
        fn()
    except DomainError as exc:
        fail(f"{exc.code}: {exc.text(get_locale())}")


def _period_report(
    fmt: str,
    span: tuple[int | None, str | None, str | None],
    compute: Callable[[Any, svc.Period], BaseModel],
    table: Callable[[Any], exports.Table],
    title: Callable[[], str],
    output: Path | None,
) -> None:
    """The body of every report over a period: check the format, read ``--year`` or
    ``--start``/``--end`` (the ``span``), compute the report in a read session and emit it."""
    _check_format(fmt)

    def go() -> None:
        period = _period(*span)
        report = _in_read_session(lambda session: compute(session, period))
        _emit(fmt, report, table, title(), output)

    _guarded(go)


LangOpt = typer.Option(
    None,
    "--lang",
    help="Language of the table, its labels and the headline: ko or en (default: the "
    "command's language, see consult119 --help). With csv or xlsx: a labelled file.",
)


def _command_lang(lang: str | None) -> str | None:
    if lang is None:
        return None
    chosen = match_locale(lang)
    if chosen is None:
        fail(f"unknown_lang: {lang!r}: ko, en")
    return chosen


def _labelled_output(
    fmt: str, sheets: list[exports.Sheet], about: exports.About, output: Path | None
) -> None:
    """A labelled CSV (UTF-8 with a byte-order mark in a file, for Excel) or XLSX."""
    if fmt == "xlsx":
        _write_binary(exports.to_labelled_xlsx(sheets, about), output)
        return
    content = exports.to_labelled_csv(sheets, about)
    if output is not None:
        output.write_bytes(content)
        err.print(_("Wrote {path}", path=output))
    else:
        sys.stdout.write(content.decode("utf-8").removeprefix("\ufeff"))


def _no_cases(period: svc.Period) -> str:
    label = svc.period_label(period)
    return _("No cases in {period}.", period=_("{year}", year=label) if label.isdigit() else label)


@report_app.command("channel-share")
def channel_share(
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
    by: str = typer.Option("channel", "--by", help="channel or source."),
    compare: str = typer.Option("previous_year", help="previous_year, previous_period or none."),
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
    lang: str | None = LangOpt,
) -> None:
    """Consultations per channel with shares, beside the previous year, change in points.

    The table is followed by the headline, one sentence per source ("KakaoTalk 3,062 of
    4,901 (62.5%), up 11.9 points on 2023"). XLSX is written only to -o FILE or a pipe.
    """
    _check_format(fmt)
    chosen = _command_lang(lang)
    with use_locale(chosen or get_locale()) as locale:

        def go() -> None:
            period = _period(year, start, end)
            report, sentences = _in_read_session(
                lambda s: (
                    svc.channel_share(s, period, by=by, compare=compare),
                    svc.share_headline(s, period, compare=compare, locale=locale),
                )
            )
            about = exports.About(period, svc.compared_period(period, compare), utcnow(), locale)
            if fmt == "json":
                _emit(fmt, report, exports.channel_share_table, "", output)
            elif fmt == "table":
                if not report.period.total:
                    out.print(_no_cases(period))
                    return
                _print_sheets([exports.channel_share_sheet(report, about)], output, sentences)
            elif chosen is not None or fmt == "xlsx":
                _labelled_output(fmt, [exports.channel_share_sheet(report, about)], about, output)
            else:
                _emit(fmt, report, exports.channel_share_table, "", output)
            if fmt != "table" and not report.period.total:
                err.print(_no_cases(period))

        _guarded(go)


@report_app.command("annual")
def annual(
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
    lang: str | None = LangOpt,
) -> None:
    """The yearly report: total, channel, source, land/sea/air, type, country, region, age band
    and sex, each beside the year before.

    --format json prints GET /api/v1/reports/annual's shape; csv and xlsx are labelled files
    (title, period, time zone, when made). XLSX is written only to -o FILE or a pipe.
    """
    _check_format(fmt)
    chosen = _command_lang(lang)
    with use_locale(chosen or get_locale()) as locale:

        def go() -> None:
            period = _period(year, start, end)
            report = _in_read_session(lambda s: svc.annual(s, period, locale=locale))
            about = exports.About(period, period.previous_year(), utcnow(), locale)
            if fmt == "json":
                text = json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2)
                if output is not None:
                    output.write_text(text + "\n", encoding="utf-8")
                    err.print(_("Wrote {path}", path=output))
                else:
                    sys.stdout.write(text + "\n")
            elif fmt == "table":
                if not report.total.count:
                    out.print(_no_cases(period))
                    return
                sheets = exports.annual_sheets(report, about)
                _print_sheets(sheets, output, report.headline, notes_first=True)
            else:
                _labelled_output(fmt, exports.annual_sheets(report, about), about, output)
            if fmt != "table" and not report.total.count:
                err.print(_no_cases(period))

        _guarded(go)


@report_app.command("monthly")
def monthly(
    year: int = typer.Option(..., "--year", help="A calendar year."),
    by: str = typer.Option("channel", "--by", help="channel or source."),
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Cases per month of a year, per channel or source."""
    _check_format(fmt)
    zone = get_settings().report_zone

    def go() -> None:
        report = _in_read_session(lambda s: svc.monthly(s, year, zone, by=by))
        _emit(
            fmt,
            report,
            exports.monthly_table,
            _("Cases per month {year} (by {by})", year=year, by=by),
            output,
        )

    _guarded(go)


@report_app.command("response-times")
def response_times(
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
    by: str = typer.Option("channel", "--by", help="channel, acuity or channel_acuity."),
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Time to first response and to resolution: median, p90, mean (minutes)."""
    _period_report(
        fmt,
        (year, start, end),
        lambda s, period: svc.response_times(s, period, by=by),
        exports.response_times_table,
        lambda: _("Response times (by {by})", by=by),
        output,
    )


@report_app.command("sla")
def sla(
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """SLA compliance per KTAS level."""
    _period_report(
        fmt,
        (year, start, end),
        lambda s, period: svc.sla(s, period, now=utcnow()),
        exports.sla_table,
        lambda: _("SLA compliance by KTAS level"),
        output,
    )


@report_app.command("breakdown")
def breakdown(
    dimension: str = typer.Argument(
        ..., help="location_type, country, category, acuity, age_band or sex."
    ),
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Cases by land/sea/air, country, category, KTAS level, age band or sex."""
    _period_report(
        fmt,
        (year, start, end),
        lambda s, period: svc.breakdown(s, period, dimension=dimension),
        exports.breakdown_table,
        lambda: _("Cases by {dimension}", dimension=dimension),
        output,
    )


@report_app.command("workload")
def workload(
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
    fmt: str = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Cases per doctor."""
    _period_report(
        fmt,
        (year, start, end),
        svc.workload,
        exports.workload_table,
        lambda: _("Workload per doctor"),
        output,
    )


@report_app.command("workbook")
def workbook(
    output: Path = typer.Argument(..., help="The .xlsx file to write."),
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
) -> None:
    """Every report of the period in one XLSX workbook, a sheet per report."""

    def go() -> None:
        period = _period(year, start, end)
        db = Database(get_settings())
        try:
            with db.read_session() as session:
                content = exports.to_xlsx(exports.workbook_sheets(session, period, now=utcnow()))
        finally:
            db.dispose()
        output.write_bytes(content)
        err.print(_("Wrote {path}", path=output))

    _guarded(go)


@report_app.command("cases")
def cases(
    output: Path = typer.Argument(..., help="The .csv file to write."),
    year: int | None = YearOpt,
    start: str | None = StartOpt,
    end: str | None = EndOpt,
) -> None:
    """One pseudonymised row per case (no names, contacts or message text), as CSV."""

    def go() -> None:
        settings = get_settings()
        period = _period(year, start, end)
        key = exports.pseudonym_key(signing_key(settings))
        db = Database(settings)
        try:
            with db.read_session() as session, output.open("w", encoding="utf-8", newline="") as f:
                for chunk in exports.csv_lines(
                    exports.CASE_COLUMNS, exports.case_rows(session, period, key)
                ):
                    f.write(chunk)
        finally:
            db.dispose()
        err.print(_("Wrote {path}", path=output))

    _guarded(go)


@import_app.command("cases")
def import_cases(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV file."),
) -> None:
    """Import historical cases: every row is checked first; all are imported or none.

    Columns: ref, created_at, source (required); channel, status, acuity, category,
    disposition, location_type, country, patient_age, patient_sex, first_response_at,
    resolved_at, closed_at (optional). See docs/reports.md.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(_("{file} is not UTF-8 text.", file=file))
    rows = max(text.count("\n"), 1)
    db = Database(get_settings())
    try:
        upgrade(db.engine)
        with progress_bar() as bar:
            task = bar.add_task(_("checking, then importing"), total=2 * rows)
            report = run_import(
                db,
                text,
                now=utcnow(),
                file_name=file.name,
                progress=lambda n: bar.advance(task, n),
            )
            bar.update(task, completed=2 * rows)
    finally:
        db.dispose()
    if not report.ok:
        title = ngettext(
            "{n} problem — nothing was imported",
            "{n} problems — nothing was imported",
            len(report.errors),
        )
        table = RichTable(title=title, header_style="bold red")
        for name in (_("line"), _("column"), _("problem")):
            table.add_column(name)
        locale = get_locale()
        for bad in report.errors[:200]:
            table.add_row(str(bad.line), bad.column, bad.text.render(locale))
        err.print(table)
        if len(report.errors) > 200:
            err.print(_("… and {count:,} more.", count=len(report.errors) - 200))
        raise typer.Exit(1)
    imported = ngettext(
        "Imported {n:,} case from {file}.",
        "Imported {n:,} cases from {file}.",
        report.imported,
        file=file.name,
    )
    out.print(imported, style="green")
