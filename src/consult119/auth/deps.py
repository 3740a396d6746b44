"""Who is calling: the bearer token, the staff row behind it, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from consult119.auth.security import InvalidToken, TokenClaims, decode_token
from consult119.context import AppContext, ContextDep
from consult119.errors import STAFF_LOCALE_STATE, Forbidden, Unauthorized
from consult119.i18n import lazy_gettext as _l
from consult119.staff import repository as staff_repo
from consult119.staff.models import Role, Staff

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def authenticate_token(ctx: AppContext, token: str | None) -> tuple[Staff, TokenClaims]:
    """The active staff member a token belongs to; a disabled account loses access at once, and
    a token issued before the account's last security change (its ``ver`` is older) is refused."""
    if not token:
        raise Unauthorized("not_authenticated", _l("Sign in first: a bearer token is required."))
    try:
        claims = decode_token(ctx.signing_key, token, now=ctx.now())
    except InvalidToken as exc:
        raise Unauthorized("invalid_token", _l("The token is invalid or has expired.")) from exc
    with ctx.db.read_session() as session:
        staff = staff_repo.get_staff(session, claims.staff_id)
    if staff is None or staff.disabled:
        raise Unauthorized("account_disabled", _l("This account is disabled or no longer exists."))
    if staff.role != claims.role or staff.security_version != claims.version:
        # A role change, disabling the account (and enabling it again) or a new password ends
        # every token issued before it, even when the role is later changed back.
        raise Unauthorized("invalid_token", _l("The token is invalid or has expired."))
    return staff, claims


def current_staff(
    request: Request, ctx: ContextDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Staff:
    staff, _ = authenticate_token(ctx, token)
    # Refusals on this request speak the staff member's language when it names none.
    setattr(request.state, STAFF_LOCALE_STATE, staff.locale)
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def require_roles(*roles: Role) -> Callable[..., Staff]:
    """A dependency that lets only ``roles`` through (403 for anyone else signed in)."""
    allowed = {r.value for r in roles}

    def _check(staff: CurrentStaff) -> Staff:
        if staff.role not in allowed:
            raise Forbidden(
                "forbidden_role",
                _l("This needs one of these roles: {roles}.", roles=", ".join(sorted(allowed))),
            )
        return staff

    return _check


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
