"""Import of historical cases from CSV: every row is checked first, then all or nothing.

Columns (header row required; order free):
  ref            required  the case's id in the previous system; unique; importing it again is refused
  created_at     required  ISO 8601; without an offset it is a time in the reporting timezone
  source         required  kakao, line, telegram, whatsapp, webchat, smtp, phone, manual
  channel        optional  must match the source (chat, email, phone) when given
  status         optional  closed (default) or resolved
  acuity         optional  KTAS 1-5
  category, disposition, location_type (land/sea/air), country (ISO alpha-2),
  patient_age (0-130), patient_sex (M/F), first_response_at, resolved_at, closed_at  optional

Each case gets the next case number of its year and a note in its timeline that names the
previous system's reference (an internal message with source ``import``, whose unique
``(source, external_id)`` makes a second import of the same reference impossible).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from consult119.audit import service as audit
from consult119.db import Database
from consult119.i18n import LazyText
from consult119.i18n import lazy_gettext as _l
from consult119.tickets import repository as ticket_repo
from consult119.tickets.codes import (
    SOURCE_CHANNEL,
    Category,
    Disposition,
    LocationType,
    Source,
    Status,
    format_case_number,
)
from consult119.tickets.models import Contact, ContactIdentity, Message, Ticket

IMPORT_SOURCE = "import"
REQUIRED = ("ref", "created_at", "source")
OPTIONAL = (
    "channel",
    "status",
    "acuity",
    "category",
    "disposition",
    "location_type",
    "country",
    "patient_age",
    "patient_sex",
    "first_response_at",
    "resolved_at",
    "closed_at",
)
TIMES = ("first_response_at", "resolved_at", "closed_at")
CHUNK = 1000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BadRow:
    line: int  # line number in the file (the header is line 1)
    column: str
    text: LazyText  # what is wrong, rendered in the reader's language

    @property
    def message(self) -> str:
        """What is wrong, in English (the source text); ``text.render(locale)`` for others."""
        return self.text.render("en")


class BadValue(ValueError):
    """A cell that cannot be read; carries a translatable reason."""

    def __init__(self, text: LazyText) -> None:
        super().__init__(text.singular)
        self.text = text


@dataclass
class ImportReport:
    rows: int
    imported: int = 0
    errors: list[BadRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _time(value: str, zone: ZoneInfo) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _code(value: str, choices: Iterable[str], what: LazyText) -> str:
    allowed = list(choices)
    if value not in allowed:
        raise BadValue(
            _l(
                "unknown {what} {value} (one of {choices})",
                what=what,
                value=repr(value),
                choices=", ".join(allowed),
            )
        )
    return value


def _int(value: str, low: int, high: int, what: LazyText) -> int:
    try:
        n = int(value)
    except ValueError:
        raise BadValue(
            _l("{what} {value} is not a whole number", what=what, value=repr(value))
        ) from None
    if not low <= n <= high:
        raise BadValue(_l("{what} {n} is outside {low}-{high}", what=what, n=n, low=low, high=high))
    return n


def parse_row(raw: dict[str, str], zone: ZoneInfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One CSV row as ticket values, or the (column, message) of everything wrong with it."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, LazyText]] = []

    def check(column: str, fn: Callable[[str], Any], required: bool = False) -> None:
        text = (raw.get(column) or "").strip()
        if not text:
            if required:
                errors.append((column, _l("is required")))
            else:
                values[column] = None
            return
        if "\x00" in text:
            errors.append((column, _l("contains a NUL byte")))
            return
        try:
            values[column] = fn(text)
        except ValueError as exc:
            errors.append((column, exc.text if isinstance(exc, BadValue) else _l("cannot be read")))

    def ref(v: str) -> str:
        if len(v) > 200:
            raise BadValue(_l("is longer than 200 characters"))
        return v

    def iso(v: str) -> datetime:
        try:
            parsed = _time(v, zone)
        except (ValueError, OverflowError):
            raise BadValue(_l("{value} is not an ISO 8601 time", value=repr(v))) from None
        if not 1900 <= parsed.year < 9000:
            raise BadValue(_l("{value} is out of range", value=repr(v)))
        return parsed

    check("ref", ref, required=True)
    check("created_at", iso, required=True)
    check("source", lambda v: _code(v, [s.value for s in Source], _l("source")), required=True)
    check("channel", lambda v: _code(v, ["chat", "email", "phone"], _l("channel")))
    check("status", lambda v: _code(v, ["closed", "resolved"], _l("status")))
    check("acuity", lambda v: _int(v, 1, 5, _l("KTAS level")))
    check("category", lambda v: _code(v, [c.value for c in Category], _l("category")))
    check("disposition", lambda v: _code(v, [d.value for d in Disposition], _l("disposition")))
    check("location_type", lambda v: _code(v, [x.value for x in LocationType], _l("location type")))
    check("country", lambda v: _country(v))
    check("patient_age", lambda v: _int(v, 0, 130, _l("age")))
    check("patient_sex", lambda v: _code(v.upper(), ["M", "F"], _l("sex")))
    for column in TIMES:
        check(column, iso)
    if errors:
        return values, errors
    channel = SOURCE_CHANNEL[Source(values["source"])].value
    if values["channel"] not in (None, channel):
        errors.append(
            (
                "channel",
                _l(
                    "source {source} is channel {channel}", source=values["source"], channel=channel
                ),
            )
        )
    values["channel"] = channel
    for column in TIMES:
        if values[column] is not None and values[column] < values["created_at"]:
            errors.append((column, _l("is before created_at")))
    values["status"] = values["status"] or Status.CLOSED.value
    return values, errors


def _country(value: str) -> str:
    v = value.upper()
    if len(v) != 2 or not v.isascii() or not v.isalpha():
        raise BadValue(_l("{value} is not an ISO 3166 alpha-2 code", value=repr(value)))
    return v


def validate(
    text: str, zone: ZoneInfo, session: Session, progress: Progress | None = None
) -> tuple[list[dict[str, Any]], ImportReport]:
    """Check every row (and that no reference was imported before); write nothing."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    report = ImportReport(rows=0)
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        if missing:
            report.errors.append(BadRow(1, ",".join(missing), _l("required column missing")))
        if unknown:
            report.errors.append(BadRow(1, ",".join(unknown), _l("unknown column")))
        return [], report
    reader.fieldnames = header
    rows: list[dict[str, Any]] = []
    lines: dict[str, int] = {}
    for raw in reader:
        report.rows += 1
        line = reader.line_num
        if None in raw:  # more fields than the header
            report.errors.append(BadRow(line, "", _l("more fields than the header")))
            continue
        values, errors = parse_row(raw, zone)
        report.errors += [BadRow(line, c, m) for c, m in errors]
        if not errors:
            if values["ref"] in lines:
                report.errors.append(
                    BadRow(line, "ref", _l("repeats line {line}", line=lines[values["ref"]]))
                )
                continue
            lines[values["ref"]] = line
            values["line"] = line
            rows.append(values)
        if progress and report.rows % CHUNK == 0:
            progress(CHUNK)
    if progress:
        progress(report.rows % CHUNK)
    refs = list(lines)
    for i in range(0, len(refs), CHUNK):
        seen = ticket_repo.external_ids_present(session, IMPORT_SOURCE, refs[i : i + CHUNK])
        for ref in seen:
            report.errors.append(
                BadRow(lines[ref], "ref", _l("{ref} was imported before", ref=repr(ref)))
            )
    report.errors.sort(key=lambda e: e.line)
    if report.rows == 0 and not report.errors:
        report.errors.append(BadRow(1, "", _l("the file has no rows")))
    return rows, report


@dataclass
class CaseRows:
    """One case for :func:`write_cases`, as column values.

    ``ticket`` holds the case's columns but its number (``case_number``, ``year``, ``seq``,
    given by the writer) and, when ``contact`` is given, its ``contact_id``: the writer inserts
    the contact and links it. Without ``contact`` the case belongs to the contact its
    ``contact_id`` names. ``identities`` (the contact's channel ids) and ``messages`` (the
    case's timeline) lack their ``contact_id`` and ``ticket_id``, filled in the same way.
    Within one call every case's dicts carry the same keys (one ``executemany`` each).
    """

    ticket: dict[str, Any]
    contact: dict[str, Any] | None = None
    identities: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def write_cases(
    session: Session, year: int, cases: list[CaseRows], *, progress: Progress | None = None
) -> list[tuple[int, int]]:
    """Bulk-write ``cases`` of ``year`` in order, each numbered with the next case number of the
    year: contacts, cases, identities and messages in a few statements per thousand cases.

    The one bulk writer of historical cases (the CSV import and the demo's history). Writes no
    events and no access log: the callers say what was written. Returns ``(ticket id, contact
    id)`` of every case, in order; ``progress`` is called with the size of each chunk written."""
    first = ticket_repo.allocate_case_seqs(session, year, len(cases))
    written: list[tuple[int, int]] = []
    for start in range(0, len(cases), CHUNK):
        chunk = cases[start : start + CHUNK]
        new_contacts = [c.contact for c in chunk if c.contact is not None]
        made = iter(ticket_repo.insert_returning_ids(session, Contact, new_contacts))
        contact_ids = [
            next(made) if c.contact is not None else c.ticket["contact_id"] for c in chunk
        ]
        tickets = [
            {
                **c.ticket,
                "case_number": format_case_number(year, seq),
                "year": year,
                "seq": seq,
                "contact_id": contact_id,
            }
            for seq, c, contact_id in zip(
                range(first + start, first + start + len(chunk)), chunk, contact_ids, strict=True
            )
        ]
        ticket_ids = ticket_repo.insert_returning_ids(session, Ticket, tickets)
        identities = [
            {**row, "contact_id": contact_id}
            for c, contact_id in zip(chunk, contact_ids, strict=True)
            for row in c.identities
        ]
        if identities:
            ticket_repo.insert_rows(session, ContactIdentity, identities)
        messages = [
            {**row, "ticket_id": ticket_id}
            for c, ticket_id in zip(chunk, ticket_ids, strict=True)
            for row in c.messages
        ]
        if messages:
            ticket_repo.insert_rows(session, Message, messages)
        written += zip(ticket_ids, contact_ids, strict=True)
        if progress:
            progress(len(chunk))
    return written


def _case_of_row(r: dict[str, Any], now: datetime) -> CaseRows:
    """A checked CSV row as a case, its contact and the note naming the previous reference."""
    done = r["closed_at"] or r["resolved_at"] or r["created_at"]
    return CaseRows(
        contact={
            "country": r["country"],
            "location_type": r["location_type"],
            "created_at": r["created_at"],
            "updated_at": r["created_at"],
        },
        ticket={
            "channel": r["channel"],
            "source": r["source"],
            "status": r["status"],
            "priority": r["acuity"] or 2,
            "acuity": r["acuity"],
            "category": r["category"],
            "disposition": r["disposition"],
            "patient_age": r["patient_age"],
            "patient_sex": r["patient_sex"],
            "country": r["country"],
            "location_type": r["location_type"],
            "assignment_accepted": False,
            "reopen_count": 0,
            "created_at": r["created_at"],
            "updated_at": done,
            "first_response_at": r["first_response_at"],
            "resolved_at": r["resolved_at"]
            or (r["closed_at"] if r["status"] == Status.RESOLVED.value else None),
            "closed_at": r["closed_at"] if r["status"] == Status.CLOSED.value else None,
            "version": 1,
        },
        messages=[
            {
                "direction": "internal",
                "channel": r["channel"],
                "source": IMPORT_SOURCE,
                "external_id": r["ref"],
                "text": f"Imported from the previous case system (reference {r['ref']}).",
                "created_at": now,
            }
        ],
    )


def import_cases(
    db: Database,
    text: str,
    *,
    now: datetime,
    file_name: str = "",
    progress: Progress | None = None,
) -> ImportReport:
    """Validate ``text`` (CSV) and, when every row is good, import all of it in one transaction.

    ``progress`` is called with the number of rows handled, first while checking, then while
    writing (so a bar over ``2 * rows`` fills once).
    """
    zone = db.settings.report_zone
    with db.read_session() as session:
        rows, report = validate(text, zone, session, progress)
    if not report.ok:
        return report
    rows.sort(key=lambda r: (r["created_at"], r["line"]))
    by_year: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_year.setdefault(r["created_at"].astimezone(zone).year, []).append(r)
    with db.unit_of_work() as session:
        for year, cases in sorted(by_year.items()):
            write_cases(session, year, [_case_of_row(r, now) for r in cases], progress=progress)
        audit.record(
            session,
            staff_id=None,
            action="cases.imported",
            detail={"file": file_name, "cases": len(rows)},
            at=now,
        )
    report.imported = len(rows)
    return report
