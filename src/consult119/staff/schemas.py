"""Staff as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from consult119.schemas import Page
from consult119.types import Id, Moment

if TYPE_CHECKING:
    from consult119.staff.models import Staff


class StaffPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    on_duty: bool
    presence: str

    @classmethod
    def of(cls, staff: Staff, on_duty: bool) -> StaffPublic:
        """The card the API, the console snapshot and ``duty.*`` events all show."""
        return cls(
            id=staff.id or 0,
            email=staff.email,
            name=staff.name,
            role=staff.role,
            on_duty=on_duty,
            presence=staff.presence,
        )

    @classmethod
    def json_of(cls, staff: Staff, on_duty: bool) -> dict[str, Any]:
        """:meth:`of` as plain JSON values, for event data and WebSocket frames."""
        return cls.of(staff, on_duty).model_dump(mode="json")


class PresenceIn(BaseModel):
    status: str = Field(max_length=20)


class StaffCreate(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(max_length=10)
    password: str = Field(max_length=1000)


class RoleIn(BaseModel):
    role: str = Field(max_length=10)


class StaffPage(Page[StaffPublic]):
    """The staff list."""


class ShiftIn(BaseModel):
    staff_id: Id
    start: Moment
    end: Moment


class ShiftPublic(BaseModel):
    id: int
    staff_id: int
    name: str
    role: str
    start: datetime
    end: datetime


class ShiftPage(Page[ShiftPublic]):
    """The roster's shifts in the window asked for."""


class RosterGap(BaseModel):
    """A period with fewer doctors on the roster than asked for (by default: none)."""

    start: datetime
    end: datetime
    doctors_on_duty: int


class RosterGapPage(Page[RosterGap]):
    """The roster's gaps in the hours asked for, in time order."""
