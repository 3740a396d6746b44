"""``POST /api/v1/auth/token``: the OAuth2 password flow, within the sign-in limits.

The route is ``async`` on purpose: the lockout check and the slot (:mod:`consult119.auth.throttle`)
are taken on the event loop, so an attempt refused by either costs no worker thread. Only an
admitted attempt runs on a thread — of the login limiter, not FastAPI's shared pool — for the
account lookup and the Argon2 check. A flood of sign-ins thus never takes the threads or the
memory chat intake needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from consult119.audit import service as audit
from consult119.auth.deps import client_ip
from consult119.auth.passwords import MAX_LENGTH
from consult119.auth.schemas import TokenOut
from consult119.auth.security import burn_password_check, issue_token, verify_password
from consult119.context import AppContext, ContextDep
from consult119.errors import RateLimited, Unauthorized
from consult119.i18n import lazy_gettext as _l
from consult119.staff import repository as staff_repo
from consult119.staff.models import Staff

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

#: Access-log actions (codes, not text). The password is never recorded.
AUTH_FAILED = "auth.failed"
AUTH_THROTTLED = "auth.throttled"

_BUSY = _l("Too many sign-ins at once; try again in a moment.")


@dataclass(frozen=True)
class _Outcome:
    #: The account signed in, or None when the attempt failed.
    staff: Staff | None
    #: The account the address names, signed in or not (for the access log).
    staff_id: int | None
    reason: str


def _check(ctx: AppContext, email: str, password: str) -> _Outcome:
    """Look the account up and check the password (blocking: runs on a login thread)."""
    with ctx.db.read_session() as session:
        staff = staff_repo.find_by_email(session, email)
    if len(password) > MAX_LENGTH:  # no password that long can be set: refuse unhashed
        return _Outcome(None, staff.id if staff else None, "bad_password")
    if staff is None:
        # As long as a wrong password: a wrong address reveals no account.
        burn_password_check(password)
        return _Outcome(None, None, "unknown_account")
    if not verify_password(staff.password_hash, password):
        return _Outcome(None, staff.id, "bad_password")
    if staff.disabled:
        return _Outcome(None, staff.id, "account_disabled")
    return _Outcome(staff, staff.id, "ok")


async def _record(ctx: AppContext, **entry: Any) -> None:
    """One access-log row, committed with whatever the writer batches next (no thread held)."""
    now = ctx.now()

    def work(session: Session) -> None:
        audit.record(session, at=now, **entry)

    await ctx.db.writer.run_async(work)


@router.post(
    "/token",
    response_model=TokenOut,
    responses={429: {"description": "`login_throttled` or `login_busy`, with `Retry-After`"}},
)
async def token(
    request: Request, ctx: ContextDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """Exchange an e-mail address and password for a bearer token.

    ``429 login_throttled`` after repeated failures for the account or from the address (the
    right password too, until ``Retry-After``); ``429 login_busy`` when too many passwords are
    being checked at once.
    """
    guard = ctx.login
    email = form.username.strip().lower()
    ip = client_ip(request)
    # No account's address is longer; a longer one is counted under its first 320 characters,
    # so a megabyte of username is not a megabyte of memory.
    account = email[:320]
    lockout = guard.throttle.check(account, ip)
    if lockout is not None:
        if lockout.first:  # once per lockout: a flood of refusals writes nothing more
            await _record(
                ctx,
                staff_id=None,
                action=AUTH_THROTTLED,
                client_ip=ip,
                detail={"scope": lockout.scope, "retry_after": lockout.retry_after},
            )
        wait = lockout.retry_after
        message = _l("Too many failed sign-ins; try again in {seconds} s.", seconds=wait)
        raise RateLimited("login_throttled", message, retry_after=wait)
    if not guard.slots.try_acquire():
        raise RateLimited("login_busy", _BUSY, retry_after=1)
    try:
        outcome = await anyio.to_thread.run_sync(
            partial(_check, ctx, email, form.password), limiter=guard.threads
        )
    finally:
        guard.slots.release()
    if outcome.staff is None:
        failures = guard.throttle.failed(account, ip)
        await _record(
            ctx,
            staff_id=outcome.staff_id,
            action=AUTH_FAILED,
            client_ip=ip,
            detail={"reason": outcome.reason, "failures": failures},
        )
        raise Unauthorized("bad_credentials", _l("E-mail address or password is wrong."))
    guard.throttle.succeeded(account)
    staff = outcome.staff
    assert staff.id is not None
    ttl = ctx.settings.token_ttl_seconds
    access = issue_token(
        ctx.signing_key,
        staff_id=staff.id,
        role=staff.role,
        now=ctx.now(),
        ttl=ttl,
        version=staff.security_version,
    )
    return TokenOut(access_token=access, expires_in=ttl)
