"""Local emergency numbers for every ISO 3166-1 country, and the advice line built from them.

The numbers live in ``consult119/data/emergency_numbers.json`` (shipped with the package), as
strings: leading zeros matter (Australia ``000``, Turkmenistan ``03``). Each entry names its
source; entries marked ``fallback`` carry the widely reported number and are worded as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from consult119.i18n.catalog import translator
from consult119.i18n.formatting import country_name

DATA_FILE = "emergency_numbers.json"
FALLBACK_SOURCE = "fallback"


@dataclass(frozen=True)
class EmergencyNumbers:
    """One country's numbers. ``general`` is the number to dial when unsure."""

    country: str
    general: str
    ambulance: str
    police: str
    fire: str
    source: str
    note: str | None = None

    @property
    def confirmed(self) -> bool:
        """False when the number comes from the fallback source rather than a named one."""
        return self.source != FALLBACK_SOURCE


@lru_cache(maxsize=1)
def load_data() -> dict[str, Any]:
    """The whole data file (``about``, ``sources``, ``countries``), parsed once."""
    text = resources.files("consult119").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _table() -> dict[str, EmergencyNumbers]:
    return {
        code: EmergencyNumbers(
            country=code,
            general=row["general"],
            ambulance=row["ambulance"],
            police=row["police"],
            fire=row["fire"],
            source=row["source"],
            note=row.get("note"),
        )
        for code, row in load_data()["countries"].items()
    }


def emergency_numbers(country: str | None) -> EmergencyNumbers | None:
    """The numbers of ``country`` (ISO 3166-1 alpha-2, any case), None when unknown."""
    if not country or not isinstance(country, str):
        return None
    return _table().get(country.strip().upper())


def all_emergency_numbers() -> dict[str, EmergencyNumbers]:
    """Every country's numbers, keyed by ISO code."""
    return dict(_table())


def emergency_advice(
    country: str | None,
    locale: str | None,
    *,
    location_type: str | None = None,
    compact: bool = False,
) -> str:
    """The line that tells a traveller whom to call if life is in danger, in ``locale``.

    At sea it names the ship's master and radio medical advice, in the air the cabin crew; on
    land the country's numbers; for an unknown country a general line. ``compact`` gives the
    one-sentence reminder used in short acknowledgements.
    """
    t = translator(locale)
    if location_type == "sea":
        if compact:
            return t.gettext("Life in danger? Tell the ship's master now.")
        return t.gettext(
            "At sea: if life is in danger, tell the ship's master at once. The master can get "
            "radio medical advice from a coast radio station and arrange an evacuation."
        )
    if location_type == "air":
        if compact:
            return t.gettext("Life in danger? Tell the cabin crew now.")
        return t.gettext(
            "On board an aircraft: if life is in danger, tell the cabin crew at once. They can "
            "call for a doctor on board and for medical advice from the ground."
        )
    numbers = emergency_numbers(country)
    name = country_name(numbers.country, t.locale) if numbers else None
    if numbers is None or name is None:
        if compact:
            return t.gettext("Life in danger? Call the local emergency number now.")
        return t.gettext("If life is in danger, call the local emergency number now.")
    if compact:
        return t.gettext("Life in danger? Call {number} now.", number=numbers.ambulance)
    if not numbers.confirmed:
        return t.gettext(
            "If life is in danger, call the local emergency number now "
            "({country}: reported as {number}).",
            country=name,
            number=numbers.general,
        )
    if numbers.ambulance == numbers.general == numbers.police:
        return t.gettext(
            "If life is in danger, call {number} now (emergency number, {country}).",
            number=numbers.general,
            country=name,
        )
    if numbers.ambulance == numbers.general:
        return t.gettext(
            "If life is in danger, call {ambulance} now (ambulance, {country}; police {police}).",
            ambulance=numbers.ambulance,
            country=name,
            police=numbers.police,
        )
    return t.gettext(
        "If life is in danger, call {ambulance} now (ambulance, {country}) or {general} "
        "(general emergency number).",
        ambulance=numbers.ambulance,
        country=name,
        general=numbers.general,
    )
