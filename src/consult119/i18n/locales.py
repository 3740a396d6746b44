"""The locales the service speaks: constants only, so the catalog and the negotiation both
import them without importing each other."""

from __future__ import annotations

#: Locales with a catalog, in the order the fallback prefers them.
SUPPORTED_LOCALES: tuple[str, ...] = ("ko", "en")
#: The locale when nothing better is known: the service speaks Korean.
DEFAULT_LOCALE = "ko"
