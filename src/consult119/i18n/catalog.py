"""Message catalogs: loading the compiled Babel catalogs, translating, lazy texts.

Source strings (msgids) are English; every supported locale, English included, has a catalog, so
a missing translation is caught by the completeness test rather than shown to a traveller.
"""

from __future__ import annotations

import gettext as _gettext
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import Translations

from consult119.i18n.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES
from consult119.i18n.negotiate import negotiate_locale

log = logging.getLogger(__name__)

DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current_locale: ContextVar[str] = ContextVar("consult119_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``locale`` (a supported locale), loaded once per process."""
    if locale not in SUPPORTED_LOCALES:
        locale = DEFAULT_LOCALE
    catalog = Translations.load(str(LOCALE_DIR), [locale], DOMAIN)
    if not isinstance(catalog, Translations):
        # A missing .mo would silently show English source strings: say so loudly.
        log.error("no compiled catalog for %r under %s; run `make i18n`", locale, LOCALE_DIR)
    return catalog


def get_locale() -> str:
    """The locale of the current context (set by :func:`use_locale`), Korean by default."""
    return _current_locale.get()


@contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Render texts in ``locale`` within the block (any tag: it is negotiated first)."""
    chosen = negotiate_locale(locale)
    token = _current_locale.set(chosen)
    try:
        yield chosen
    finally:
        _current_locale.reset(token)


def _format(text: str, params: dict[str, Any]) -> str:
    # Only format when parameters are given, so a literal brace in a plain message is safe.
    return text.format(**params) if params else text


@dataclass(frozen=True)
class Translator:
    """Translates into one locale. ``t = translator("en"); t("Case {n}", n=...)``."""

    locale: str

    def gettext(self, message: str, /, **params: Any) -> str:
        """``message`` translated, then ``str.format``-ed with ``params``."""
        return _format(translations(self.locale).gettext(message), params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The plural form for ``n``; ``{n}`` is available in the text."""
        text = translations(self.locale).ngettext(singular, plural, n)
        return _format(text, {"n": n, **params})

    __call__ = gettext


def translator(locale: str | None) -> Translator:
    """A :class:`Translator` for ``locale`` (any tag or None; negotiated to a supported one)."""
    return Translator(negotiate_locale(locale))


def gettext(message: str, /, **params: Any) -> str:
    """``message`` in the current context's locale (see :func:`use_locale`)."""
    return Translator(get_locale()).gettext(message, **params)


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The plural form for ``n`` in the current context's locale."""
    return Translator(get_locale()).ngettext(singular, plural, n, **params)


_ = gettext


class LazyText:
    """A text translated when it is rendered, not when it is written.

    For messages built before the reader is known: module constants, error messages raised
    deep in a service. ``str(text)`` renders in the current context's locale;
    ``text.render(locale)`` in a given one.
    """

    __slots__ = ("singular", "plural", "n", "params")

    def __init__(
        self, singular: str, plural: str | None = None, n: int | None = None, /, **params: Any
    ) -> None:
        self.singular = singular
        self.plural = plural
        self.n = n
        self.params = params

    def render(self, locale: str | None = None) -> str:
        t = translator(locale) if locale is not None else Translator(get_locale())
        # A parameter that is itself a lazy text (a field's name, say) speaks the same language.
        params = {
            k: v.render(t.locale) if isinstance(v, LazyText) else v for k, v in self.params.items()
        }
        if self.plural is not None and self.n is not None:
            return t.ngettext(self.singular, self.plural, self.n, **params)
        return t.gettext(self.singular, **params)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"LazyText({self.singular!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyText):
            return (self.singular, self.plural, self.n, self.params) == (
                other.singular,
                other.plural,
                other.n,
                other.params,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.singular, self.plural, self.n))


def lazy_gettext(message: str, /, **params: Any) -> LazyText:
    """A :class:`LazyText` for ``message``; extracted like ``gettext``."""
    return LazyText(message, **params)


def lazy_ngettext(singular: str, plural: str, n: int, /, **params: Any) -> LazyText:
    """A plural :class:`LazyText`; extracted like ``ngettext``."""
    return LazyText(singular, plural, n, **params)


def render(text: str | LazyText, locale: str | None = None) -> str:
    """A plain string or a lazy text, rendered for ``locale`` (or the current one)."""
    if isinstance(text, LazyText):
        return text.render(locale)
    return text
