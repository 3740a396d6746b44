"""Speaking the reader's language: catalogs, locale negotiation, formatting, emergency numbers.

Use from routes, services and the CLI::

    from consult119.i18n import gettext, lazy_gettext, translator, negotiate_locale

    t = translator(negotiate_locale(payload.locale, request.headers.get("accept-language")))
    t("Your case {case_number} is open.", case_number=ticket.case_number)

See docs/i18n.md for the extraction workflow (``make i18n``).
"""

from consult119.i18n.catalog import (
    DEFAULT_LOCALE,
    LOCALE_DIR,
    SUPPORTED_LOCALES,
    LazyText,
    Translator,
    _,
    get_locale,
    gettext,
    lazy_gettext,
    lazy_ngettext,
    ngettext,
    render,
    translations,
    translator,
    use_locale,
)
from consult119.i18n.emergency import (
    EmergencyNumbers,
    all_emergency_numbers,
    emergency_advice,
    emergency_numbers,
)
from consult119.i18n.formatting import (
    SEOUL,
    country_name,
    format_datetime,
    format_local_and_seoul,
    format_number,
    format_percent,
    format_points,
    utc_offset,
    zone,
)
from consult119.i18n.negotiate import (
    environment_locale,
    match_locale,
    negotiate_locale,
    parse_accept_language,
)

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALE_DIR",
    "SEOUL",
    "SUPPORTED_LOCALES",
    "EmergencyNumbers",
    "LazyText",
    "Translator",
    "_",
    "all_emergency_numbers",
    "country_name",
    "emergency_advice",
    "emergency_numbers",
    "environment_locale",
    "format_datetime",
    "format_local_and_seoul",
    "format_number",
    "format_percent",
    "format_points",
    "get_locale",
    "gettext",
    "lazy_gettext",
    "lazy_ngettext",
    "match_locale",
    "negotiate_locale",
    "ngettext",
    "parse_accept_language",
    "render",
    "translations",
    "translator",
    "use_locale",
    "utc_offset",
    "zone",
]
