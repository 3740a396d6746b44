"""Staff, presence and roster endpoints."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from consult119.auth.deps import CurrentStaff, require_roles
from consult119.context import ContextDep
from consult119.errors import Conflict, NotFound
from consult119.i18n import lazy_gettext as _l
from consult119.staff import repository as staff_repo
from consult119.staff import service
from consult119.staff.models import Role, Staff
from consult119.staff.schemas import (
    PresenceIn,
    RoleIn,
    RosterGap,
    RosterGapPage,
    ShiftIn,
    ShiftPage,
    ShiftPublic,
    StaffCreate,
    StaffPage,
    StaffPublic,
)
from consult119.types import Moment, PathId, QueryId

router = APIRouter(prefix="/api/v1", tags=["staff"])
AdminOnly = Annotated[Staff, Depends(require_roles(Role.ADMIN))]
CoverWatch = Annotated[Staff, Depends(require_roles(Role.ADMIN, Role.EMT))]
#: The furthest ahead ``/roster/gaps`` looks: a week.
MAX_GAP_HOURS = 7 * 24


@router.get("/staff/me", response_model=StaffPublic)
def me(ctx: ContextDep, staff: CurrentStaff) -> StaffPublic:
    """The signed-in staff member, with whether they are on duty now."""
    with ctx.db.read_session() as session:
        on_duty = staff_repo.is_on_duty(session, staff.id, ctx.now())  # type: ignore[arg-type]
    return StaffPublic.of(staff, on_duty)


@router.post("/staff/me/presence", response_model=StaffPublic)
def set_presence(ctx: ContextDep, staff: CurrentStaff, body: PresenceIn) -> StaffPublic:
    """Set presence: ``available``, ``busy``, ``away`` or ``offline``. Only available (then
    busy) doctors receive cases automatically. At most a few changes a minute (429)."""
    ctx.check_presence_rate(staff.id)  # type: ignore[arg-type]
    now = ctx.now()
    with ctx.db.unit_of_work() as session:
        row = staff_repo.get_staff(session, staff.id)
        assert row is not None
        service.set_presence(session, row, body.status, now=now)
        on_duty = staff_repo.is_on_duty(session, staff.id, now)  # type: ignore[arg-type]
    return StaffPublic.of(row, on_duty)


@router.get("/staff", response_model=StaffPage)
def list_staff(
    ctx: ContextDep,
    _: CurrentStaff,
    on_duty: bool | None = None,
    role: Annotated[Role | None, Query()] = None,
) -> StaffPage:
    """Active staff, optionally only those on duty now (``?on_duty=true``) or of one role."""
    with ctx.db.read_session() as session:
        rows = staff_repo.list_staff(
            session, now=ctx.now(), on_duty=on_duty, role=role.value if role else None
        )
    items = [StaffPublic.of(s, flag) for s, flag in rows]
    return StaffPage(items=items, total=len(items))


@router.post("/staff", response_model=StaffPublic, status_code=201)
def create_staff(ctx: ContextDep, _: AdminOnly, body: StaffCreate) -> StaffPublic:
    """Add a staff account (admin)."""
    with ctx.db.unit_of_work() as session:
        staff = service.create_staff(
            session,
            email=body.email,
            name=body.name,
            role=body.role,
            password=body.password,
            now=ctx.now(),
        )
    return StaffPublic.of(staff, False)


@router.post("/staff/{staff_id}/disable", response_model=StaffPublic)
def disable_staff(ctx: ContextDep, admin: AdminOnly, staff_id: PathId) -> StaffPublic:
    """Disable an account (admin): its tokens stop working at once."""
    with ctx.db.unit_of_work() as session:
        staff = staff_repo.get_staff(session, staff_id)
        if staff is None:
            raise NotFound(
                "staff_not_found", _l("No staff member with id {staff_id}.", staff_id=staff_id)
            )
        service.disable_staff(session, staff, now=ctx.now())
    return StaffPublic.of(staff, False)


@router.post("/staff/{staff_id}/role", response_model=StaffPublic)
def change_role(ctx: ContextDep, admin: AdminOnly, staff_id: PathId, body: RoleIn) -> StaffPublic:
    """Give an account another role (admin). Its tokens for the old role stop working and its
    open consoles close; an admin cannot change their own role (another admin, or the CLI,
    can)."""
    if staff_id == admin.id:
        raise Conflict("own_role", _l("You cannot change your own role."))
    now = ctx.now()
    with ctx.db.unit_of_work() as session:
        staff = staff_repo.get_staff(session, staff_id)
        if staff is None:
            raise NotFound(
                "staff_not_found", _l("No staff member with id {staff_id}.", staff_id=staff_id)
            )
        service.change_role(session, staff, body.role, now=now)
        on_duty = staff_repo.is_on_duty(session, staff_id, now)
    return StaffPublic.of(staff, on_duty)


def _shift_public(shift, staff: Staff) -> ShiftPublic:
    return ShiftPublic(
        id=shift.id,
        staff_id=staff.id,  # type: ignore[arg-type]
        name=staff.name,
        role=staff.role,
        start=shift.starts_at,
        end=shift.ends_at,
    )


@router.get("/roster", response_model=ShiftPage)
def roster(
    ctx: ContextDep,
    _: CurrentStaff,
    at: Moment | None = None,
    start: Moment | None = None,
    end: Moment | None = None,
    staff_id: QueryId = None,
) -> ShiftPage:
    """Shifts (UTC): those running ``at`` a moment (default now), or overlapping ``start``–``end``."""
    with ctx.db.read_session() as session:
        if start is not None or end is not None:
            lo: datetime = start or ctx.now()
            hi: datetime = end or lo + timedelta(days=366)
            rows = staff_repo.shifts_between(session, lo, hi, staff_id)
        else:
            rows = staff_repo.shifts_covering(session, at or ctx.now())
            if staff_id is not None:
                rows = [r for r in rows if r[1].id == staff_id]
    items = [_shift_public(shift, staff) for shift, staff in rows]
    return ShiftPage(items=items, total=len(items))


@router.get("/roster/gaps", response_model=RosterGapPage)
def roster_gaps(
    ctx: ContextDep,
    _: CoverWatch,
    hours: Annotated[int, Query(ge=1, le=MAX_GAP_HOURS)] = 24,
    min_doctors: Annotated[int, Query(ge=1, le=20)] = 1,
) -> RosterGapPage:
    """The periods in the next ``hours`` (1–168) with no doctor on the roster (admin, EMT),
    merged across shifts and midnight; ``min_doctors`` above 1 also reports thin cover."""
    start = ctx.now().replace(microsecond=0)
    with ctx.db.read_session() as session:
        periods = service.roster_gaps(
            session, start, start + timedelta(hours=hours), min_doctors=min_doctors
        )
    items = [
        RosterGap(start=p.start, end=p.end, doctors_on_duty=p.doctors_on_duty) for p in periods
    ]
    return RosterGapPage(items=items, total=len(items))


@router.post("/roster", response_model=ShiftPublic, status_code=201)
def add_shift(ctx: ContextDep, _: AdminOnly, body: ShiftIn) -> ShiftPublic:
    """Add a shift (admin); times are stored in UTC."""
    with ctx.db.unit_of_work() as session:
        staff = staff_repo.get_staff(session, body.staff_id)
        if staff is None:
            raise NotFound(
                "staff_not_found", _l("No staff member with id {staff_id}.", staff_id=body.staff_id)
            )
        shift = service.add_shift(
            session, staff, starts_at=body.start, ends_at=body.end, now=ctx.now()
        )
        out = _shift_public(shift, staff)
    return out
