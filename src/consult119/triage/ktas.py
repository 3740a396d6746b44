"""KTAS (Korean Triage and Acuity Scale): levels, names and target times to a doctor.

Targets run around the clock (no business hours): an emergency abroad at 3 a.m. local time is
still an emergency. Level 1 is "immediate": its target is zero, so it is overdue the moment it
exists until a doctor answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Level:
    level: int
    code: str
    name_ko: str
    name_en: str
    target: timedelta


LEVELS: dict[int, Level] = {
    1: Level(1, "resuscitation", "소생", "Resuscitation", timedelta(0)),
    2: Level(2, "emergent", "긴급", "Emergent", timedelta(minutes=10)),
    3: Level(3, "urgent", "응급", "Urgent", timedelta(minutes=30)),
    4: Level(4, "less_urgent", "준응급", "Less urgent", timedelta(minutes=60)),
    5: Level(5, "non_urgent", "비응급", "Non-urgent", timedelta(minutes=120)),
}

#: The share of the target after which ``sla.warning`` fires.
WARNING_FRACTION = 0.8


def level(value: int) -> Level:
    """The KTAS level ``value``; 422 ``invalid_acuity`` outside 1–5."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise Invalid("invalid_acuity", _l("Acuity is a KTAS level from 1 to 5."), field="acuity")
    return LEVELS[value]


#: The targets in force: KTAS's, unless ``CONSULT119_SLA_TARGET_SECONDS`` sets others
#: (:func:`configure_targets`, called when the app is built).
_targets: dict[int, timedelta] = {lvl: info.target for lvl, info in LEVELS.items()}


def configure_targets(seconds: Mapping[int, int]) -> None:
    """Use ``seconds`` per level as the targets of this process (the setting's validator
    guarantees every level 1-5)."""
    _targets.update({int(lvl): timedelta(seconds=s) for lvl, s in seconds.items()})


def target(value: int) -> timedelta:
    """The target time to a response (first or next) for rank ``value``."""
    return _targets[value]


def warning_lead(value: int) -> timedelta:
    """How long before the deadline ``sla.warning`` fires (20 % of the target)."""
    return target(value) * (1 - WARNING_FRACTION)
