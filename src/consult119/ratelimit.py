"""Token buckets per key (a sender, a web-chat session), kept in process memory.

Generous by design: a person typing fast never meets it, a loop flooding the service does. It
limits per sender, never per client address, so a gateway forwarding many travellers is never
limited as a whole.
"""

from __future__ import annotations

import threading
import time

from consult119.errors import RateLimited
from consult119.i18n import lazy_gettext as _l


class RateLimiter:
    def __init__(self, *, burst: int = 30, per_second: float = 1.0, max_keys: int = 100_000):
        self.burst = burst
        self.per_second = per_second
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one token for ``key`` or raise 429."""
        if not self.take(key):
            raise RateLimited("rate_limited", _l("Too many messages at once; wait a moment."))

    def take(self, key: str) -> bool:
        """Take one token for ``key``; False (nothing taken) when its bucket is empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_keys:
                self._prune(now)
            return True

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.per_second
        for key in [k for k, (_, last) in self._buckets.items() if now - last > full_after]:
            del self._buckets[key]
