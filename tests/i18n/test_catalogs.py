"""The catalogs are complete, compiled, consistent with the source, and shipped."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import consult119
from consult119.i18n import LOCALE_DIR, SUPPORTED_LOCALES, translator

PACKAGE_DIR = Path(consult119.__file__).resolve().parent
ROOT = PACKAGE_DIR.parent.parent
#: The same keywords `make i18n` passes to `pybabel extract`.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2), "_l": None}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def extracted_ids() -> set[str | tuple[str, str]]:
    """Every wrapped string in the package, as `pybabel extract` finds it."""
    ids: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE_DIR), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def po_catalog(locale: str):
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def key(message) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def value(message) -> str | tuple[str, ...]:
    return message.string if isinstance(message.string, str) else tuple(message.string)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_wrapped_string_is_translated(locale):
    catalog = po_catalog(locale)
    translated = {
        key(m): m.string
        for m in catalog
        if m.id
        and "fuzzy" not in m.flags
        and (m.string if isinstance(m.string, str) else all(m.string))
    }
    missing = sorted(map(str, extracted_ids() - set(translated)))
    assert not missing, f"{locale}: strings without a translation (run `make i18n`): {missing}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_holds_no_stale_or_fuzzy_entries(locale):
    catalog = po_catalog(locale)
    ids = {key(m) for m in catalog if m.id}
    assert ids == extracted_ids(), "run `make i18n` to bring the catalog up to date"
    assert not [m.id for m in catalog if m.id and "fuzzy" in m.flags]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_translations_keep_every_placeholder(locale):
    for m in po_catalog(locale):
        if not m.id:
            continue
        sources = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set(PLACEHOLDER.findall(sources[0]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (m.id, text)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_compiled_catalog_matches_the_po_file(locale):
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {key(m): value(m) for m in read_mo(f) if m.id}
    source = {key(m): value(m) for m in po_catalog(locale) if m.id}
    assert compiled == source, "the .mo is stale: run `make i18n`"


def test_korean_is_korean_and_english_is_the_source():
    ko, en = translator("ko"), translator("en")
    assert ko("Not found.") == "찾을 수 없습니다."
    assert en("Not found.") == "Not found."
    assert (
        ko.ngettext(
            "An emergency doctor will answer in about {n} minute.",
            "An emergency doctor will answer in about {n} minutes.",
            5,
        )
        == "응급의학 전문의가 약 5분 안에 답변드립니다."
    )
    assert (
        en.ngettext(
            "An emergency doctor will answer in about {n} minute.",
            "An emergency doctor will answer in about {n} minutes.",
            1,
        )
        == "An emergency doctor will answer in about 1 minute."
    )


def test_lazy_text_renders_for_the_reader_and_the_context():
    from consult119.i18n import lazy_gettext, use_locale

    text = lazy_gettext("Added to your case {case_number}.", case_number="C119-2024-000001")
    assert text.render("en") == "Added to your case C119-2024-000001."
    assert text.render("ko") == "상담 C119-2024-000001에 추가되었습니다."
    assert str(text) == text.render("ko")  # Korean unless the context says otherwise
    with use_locale("en-US") as chosen:
        assert chosen == "en"
        assert str(text) == text.render("en")
    assert str(text) == text.render("ko")


def test_compiled_catalogs_and_data_are_package_data():
    """A plain `pip install .` ships what the package reads at run time."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["consult119"]
    needed = [
        *(f"i18n/locale/{loc}/LC_MESSAGES/messages.mo" for loc in SUPPORTED_LOCALES),
        "data/emergency_numbers.json",
    ]
    for rel in needed:
        assert (PACKAGE_DIR / rel).is_file(), rel
        assert any(Path(rel).match(p) for p in patterns), f"{rel} is not package data"
