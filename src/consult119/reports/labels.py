"""What a reader calls each code the reports show, in Korean and English (Babel catalogs).

Reports compute with codes (``kakao``, ``sea``, ``first_aid``); exports, the CLI and the headline
put the reader's words beside them. Countries are named by CLDR (Babel) and grouped into world
regions here, so a manager sees "Southeast Asia" as well as the countries in it.
"""

from __future__ import annotations

from consult119.i18n import LazyText, country_name, get_locale, render
from consult119.i18n import lazy_gettext as _l
from consult119.triage.ktas import LEVELS

#: The key of a case that has no value for a dimension (never dropped from a report).
NOT_RECORDED = "not_recorded"
TOTAL = "total"

_LABELS: dict[str, dict[str, LazyText]] = {
    "channel": {"chat": _l("Chat"), "email": _l("E-mail"), "phone": _l("Phone")},
    "source": {
        "kakao": _l("KakaoTalk"),
        "line": _l("LINE"),
        "telegram": _l("Telegram"),
        "whatsapp": _l("WhatsApp"),
        "webchat": _l("Web chat"),
        "smtp": _l("E-mail"),
        "manual": _l("Entered by staff"),
        "phone": _l("Phone"),
    },
    "location_type": {"land": _l("On land"), "sea": _l("At sea"), "air": _l("In the air")},
    "category": {
        "medical_consultation": _l("Medical consultation"),
        "first_aid": _l("First-aid guidance"),
        "medication": _l("Medication guidance"),
        "hospital_info": _l("Hospital information"),
        "transfer": _l("Transfer / repatriation"),
        "other": _l("Other"),
    },
    "sex": {
        "female": _l("Female"),
        "male": _l("Male"),
        "other": _l("Other"),
        "unknown": _l("Unknown (asked, not known)"),
    },
    "region": {
        "east_asia": _l("East Asia"),
        "southeast_asia": _l("Southeast Asia"),
        "south_asia": _l("South Asia"),
        "central_asia": _l("Central Asia"),
        "middle_east": _l("Middle East"),
        "europe": _l("Europe"),
        "north_america": _l("North America"),
        "latin_america": _l("Latin America and the Caribbean"),
        "africa": _l("Africa"),
        "oceania": _l("Oceania"),
        "other": _l("Elsewhere"),
    },
}

#: What each dimension is called (a table's first column, a sheet's title).
DIMENSION_NAMES: dict[str, LazyText] = {
    "channel": _l("Channel"),
    "source": _l("Source"),
    "location_type": _l("Patient's location"),
    "category": _l("Consultation type"),
    "country": _l("Country"),
    "region": _l("Region"),
    "age_band": _l("Age band"),
    "sex": _l("Sex"),
    "acuity": _l("KTAS level"),
}

_NOT_RECORDED = _l("Not recorded")
_TOTAL = _l("Total")

#: ISO 3166 alpha-2 codes per world region (UN M49 groupings, with West Asia as the Middle
#: East). A code not listed falls in "other"; a case without a country is "not recorded".
REGION_COUNTRIES: dict[str, str] = {
    "east_asia": "CN HK JP KP KR MN MO TW",
    "southeast_asia": "BN ID KH LA MM MY PH SG TH TL VN",
    "south_asia": "AF BD BT IN LK MV NP PK",
    "central_asia": "KG KZ TJ TM UZ",
    "middle_east": "AE AM AZ BH CY GE IL IQ IR JO KW LB OM PS QA SA SY TR YE",
    "europe": "AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS "
    "IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK",
    "north_america": "BM CA GL PM US",
    "latin_america": "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY "
    "HN HT JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI",
    "africa": "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR "
    "LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT "
    "ZA ZM ZW",
    "oceania": "AS AU CC CK CX FJ FM GU HM KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM "
    "VU WF WS",
}
COUNTRY_REGION: dict[str, str] = {
    code: region for region, codes in REGION_COUNTRIES.items() for code in codes.split()
}
#: Regions in the order a report lists them when counts tie.
REGIONS = [*REGION_COUNTRIES, "other"]


def region_of(country: str) -> str:
    """The world region of an ISO country code (``not_recorded`` stays ``not_recorded``)."""
    if country == NOT_RECORDED:
        return NOT_RECORDED
    return COUNTRY_REGION.get(country.upper(), "other")


def dimension_name(dimension: str, locale: str | None = None) -> str:
    name = DIMENSION_NAMES.get(dimension)
    return render(name, locale) if name is not None else dimension


def label(dimension: str, key: object, locale: str | None = None) -> str:
    """The reader's word for ``key`` of ``dimension``; the code itself when it has none."""
    text = str(key)
    if text == NOT_RECORDED:
        return render(_NOT_RECORDED, locale)
    if text == TOTAL:
        return render(_TOTAL, locale)
    if dimension == "country":
        return country_name(text, locale) or text
    if dimension == "acuity":
        found_level = LEVELS.get(int(text)) if text.isdigit() else None
        if found_level is None:
            return text
        name = found_level.name_ko if (locale or get_locale()) == "ko" else found_level.name_en
        return f"KTAS {found_level.level} {name}"
    found = _LABELS.get(dimension, {}).get(text)
    return render(found, locale) if found is not None else text
