"""Bounded input types shared by every route: ids, paging, years and moments.

Python integers and ``datetime`` have no upper bound the database or the calendar shares:
``/staff/9223372036854775808`` overflows SQLite's 64-bit integer (and PostgreSQL's 32-bit id
columns), ``offset=2**63`` the same, and ``9999-12-31T23:59:59-23:59`` is a valid ISO 8601
time that cannot be converted to UTC. Each type below refuses such input as a plain 422 at the
edge, so no route has to remember to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

#: Largest id of any row: the id columns are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1
#: Largest ``offset`` a list accepts (beyond any table this service will hold).
MAX_OFFSET = 2**31 - 1
#: Moments accepted anywhere (sent_at, shifts, filters): far enough from the calendar's ends
#: that a shift to UTC, a day or a year either side, stays representable (reports use the same
#: range for dates).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def to_bounded_utc(value: datetime) -> datetime:
    """``value`` in UTC, refused (``datetime_out_of_range``) outside EARLIEST..LATEST or when
    its offset carries it past the calendar's ends."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise PydanticCustomError(
            "datetime_out_of_range",
            "Must be between {earliest} and {latest}.",
            {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )
    return utc


def _assume_utc(value: object) -> object:
    """A naive time (no offset) is taken as UTC; everything else is left to pydantic."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


#: A moment with an offset, converted to UTC, within EARLIEST..LATEST.
Moment = Annotated[AwareDatetime, AfterValidator(to_bounded_utc)]
#: Like :data:`Moment`, but a time without an offset is taken as UTC (what gateways send).
MomentAssumeUtc = Annotated[datetime, AfterValidator(_assume_utc), AfterValidator(to_bounded_utc)]

#: A row id in a JSON body.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: A row id in the path (``/tickets/{ticket_id}``).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: An optional row id filter in the query string.
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
#: How many rows to skip in a list.
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
#: A report year as typed, which the report itself checks (``invalid_date``): bounded in
#: length, so 5,000 digits are a 422 and never reach ``int()``'s digit limit (a ValueError).
YearText = Annotated[str, Query(max_length=20, description="YYYY")]

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_ID",
    "MAX_OFFSET",
    "Id",
    "Moment",
    "MomentAssumeUtc",
    "Offset",
    "PathId",
    "QueryId",
    "YearText",
    "to_bounded_utc",
]
