"""Limits on sign-in: how many passwords are checked at once, and lockouts after failures.

Checking a password costs Argon2's 64 MiB and tens of milliseconds of a core. Unbounded, a flood
of sign-ins takes the memory and the worker threads every other request needs (chat intake
answers Kakao within 5 s). Two limits, both in this process's memory:

- :class:`LoginSlots`: at most ``CONSULT119_LOGIN_CONCURRENCY`` checks run at once; one more is
  refused at once (``429 login_busy``), never queued. The slot is taken on the event loop
  before any thread is used, so a refused attempt costs no thread, no hash and no query.
- :class:`LoginThrottle`: failures counted per account (the e-mail address given, whether an
  account has it or not, so a lockout reveals nothing) and per client address. After ``free``
  failures every further one locks the key for twice as long as the one before (1 s, 2 s,
  4 s … up to ``max_lockout``); while locked every attempt, the right password included, is
  refused (``429 login_throttled``) without being checked. A success clears the account's
  count; an address's count is forgotten only after an hour without failures (a success must
  not let one account's owner reset the count for guesses at others).

Several processes each keep their own counts: an attacker spreading attempts over N processes
gets N times the budget before the lockouts begin, and the lockout still grows exponentially in
each of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

#: The first lockout; each later one doubles it.
BASE_LOCKOUT_SECONDS = 1.0
#: A key with no failure for this long starts again from zero.
FORGET_AFTER_SECONDS = 3600.0
#: Keys kept at most per kind (accounts, addresses); past it the stalest are dropped.
MAX_KEYS = 100_000


class LoginSlots:
    """A non-blocking semaphore: :meth:`try_acquire` never waits."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._busy = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        """Take a slot when one is free; False (at once) when all are taken."""
        with self._lock:
            if self._busy >= self.size:
                return False
            self._busy += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._busy -= 1


@dataclass
class _Count:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0
    #: Whether this lockout's first refusal was written to the access log already.
    reported: bool = False


@dataclass(frozen=True)
class Lockout:
    """Why an attempt is refused unchecked: which key (``account`` or ``address``) is locked,
    for how many more whole seconds, and whether this is the lockout's first refusal."""

    scope: str
    retry_after: int
    first: bool


class LoginThrottle:
    """Failure counts and lockouts per account and per client address."""

    def __init__(
        self,
        *,
        account_failures: int,
        address_failures: int,
        max_lockout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = {"account": account_failures, "address": address_failures}
        self.max_lockout = max_lockout
        self.clock = clock
        self._counts: dict[str, dict[str, _Count]] = {"account": {}, "address": {}}
        self._lock = threading.Lock()

    def _keys(self, account: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("account", account)]
        if address:
            keys.append(("address", address))
        return keys

    def check(self, account: str, address: str | None) -> Lockout | None:
        """The lockout refusing an attempt for ``account`` from ``address`` now, if any."""
        now = self.clock()
        with self._lock:
            for scope, key in self._keys(account, address):
                count = self._counts[scope].get(key)
                if count is not None and now < count.locked_until:
                    first, count.reported = not count.reported, True
                    return Lockout(scope, max(1, math.ceil(count.locked_until - now)), first)
        return None

    def failed(self, account: str, address: str | None) -> int:
        """Count a wrong password; returns the account's failures in a row."""
        now = self.clock()
        result = 0
        with self._lock:
            for scope, key in self._keys(account, address):
                counts = self._counts[scope]
                count = counts.get(key)
                if count is None or now - count.last_failure > FORGET_AFTER_SECONDS:
                    count = counts[key] = _Count()
                count.failures += 1
                count.last_failure = now
                beyond = count.failures - self.free[scope]
                if beyond >= 0:
                    lockout = min(self.max_lockout, BASE_LOCKOUT_SECONDS * 2.0 ** min(beyond, 40))
                    count.locked_until = now + lockout
                    count.reported = False
                if scope == "account":
                    result = count.failures
                if len(counts) > MAX_KEYS:
                    self._prune(counts, now)
        return result

    def succeeded(self, account: str) -> None:
        """The right password: the account's count starts again from zero."""
        with self._lock:
            self._counts["account"].pop(account, None)

    def _prune(self, counts: dict[str, _Count], now: float) -> None:
        stale = [
            k
            for k, c in counts.items()
            if now >= c.locked_until and now - c.last_failure > FORGET_AFTER_SECONDS
        ]
        for key in stale:
            del counts[key]
        if len(counts) > MAX_KEYS:  # still full of live keys: drop the oldest failures
            oldest = sorted(counts, key=lambda k: counts[k].last_failure)
            for key in oldest[: len(counts) - MAX_KEYS]:
                del counts[key]


class LoginGuard:
    """The process's sign-in limits, built from the settings."""

    def __init__(
        self,
        *,
        concurrency: int,
        account_failures: int,
        address_failures: int,
        max_lockout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:

        self.slots = LoginSlots(concurrency)
        # Checks run on threads of their own limiter, never taking the shared pool's: the
        # slots above already bound them, so it never makes one wait.
        self.threads = anyio.CapacityLimiter(concurrency)
        self.throttle = LoginThrottle(
            account_failures=account_failures,
            address_failures=address_failures,
            max_lockout=max_lockout,
            clock=clock,
        )
