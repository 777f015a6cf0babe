"""Number facts from FHIR R4 Observations: the latest final result among those coded as the fact
binds, in a bound UCUM unit, converted exactly. When the latest cannot be told (times that
overlap with different values, a final result without a time, or one whose value cannot be
read), the fact stays missing: an older value is never given as the latest."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from avn_kb.model.bindings import UCUM
from avn_kb.model.knowledge import Fact

FINAL = ("final", "amended", "corrected")
_DATETIME = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
                       r"(Z|[+-]\d{2}:\d{2}))?)?)?$")
# A date without a time may be in any time zone, from UTC+14 to UTC-12.
_EARLIEST_ZONE = dt.timezone(dt.timedelta(hours=14))
_LATEST_ZONE = dt.timezone(dt.timedelta(hours=-12))


@dataclass(frozen=True)
class Reading:
    """One Observation of a number fact: its time as an interval (a date is a whole day), its
    value in the fact's unit, or why the value cannot be read."""

    ref: str
    earliest: dt.datetime
    latest: dt.datetime
    value: Decimal | None
    problem: str | None


def time_interval(text: Any) -> tuple[dt.datetime, dt.datetime] | None:
    """The instants a FHIR dateTime may stand for (a year, a month, a day or an instant)."""
    match = _DATETIME.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if hour is not None:
            stamp = dt.datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}"
                                              f"{fraction or ''}{'+00:00' if zone == 'Z' else zone}")
            return stamp, stamp
        first = dt.date(int(year), int(month or 1), int(day or 1))
        if day is not None:
            last = first
        elif month is not None:
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        else:
            last = dt.date(int(year), 12, 31)
    except ValueError:
        return None
    return (dt.datetime.combine(first, dt.time.min, _EARLIEST_ZONE),
            dt.datetime.combine(last, dt.time.max, _LATEST_ZONE))


def effective_time(observation: Mapping[str, Any]) -> tuple[dt.datetime, dt.datetime] | None:
    if "effectiveDateTime" in observation:
        return time_interval(observation["effectiveDateTime"])
    if "effectiveInstant" in observation:
        return time_interval(observation["effectiveInstant"])
    period = observation.get("effectivePeriod")
    if isinstance(period, Mapping):
        return time_interval(period.get("end", period.get("start")))
    return None


def value_of(fact: Fact, observation: Mapping[str, Any]) -> tuple[Decimal | None, str | None]:
    """The value in the fact's unit, or why there is none."""
    if "dataAbsentReason" in observation:
        return None, "it has no value (dataAbsentReason)"
    quantity = observation.get("valueQuantity")
    if quantity is None and "valueInteger" in observation:
        quantity = {"value": observation["valueInteger"], "system": UCUM, "code": "1"}
    if not isinstance(quantity, Mapping):
        return None, "its value is not a quantity"
    if "comparator" in quantity:
        return None, f"its value is a bound ({quantity['comparator']}), not a measurement"
    raw = quantity.get("value")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None, "its quantity has no numeric value"
    unit = next((u for u in fact.units if quantity.get("system") == UCUM and quantity.get("code") == u.code), None)
    if unit is None:
        known = ", ".join(u.code for u in fact.units) or "none"
        return None, (f"its unit {quantity.get('code', quantity.get('unit'))!r} (system {quantity.get('system')!r}) "
                      f"is not one {fact.name} is read from (UCUM {known})")
    try:
        value = unit.convert(Decimal(str(raw)))
    except InvalidOperation:
        return None, "its value is not a finite number"
    return _in_domain(fact, value)


def _in_domain(fact: Fact, value: Decimal) -> tuple[Decimal | None, str | None]:
    if not value.is_finite() or (fact.low is not None and value < Decimal(str(fact.low))) or \
            (fact.high is not None and value > Decimal(str(fact.high))):
        return None, f"its value {value} {fact.unit} is outside {fact.name}'s range {fact.low}-{fact.high}"
    if fact.integer and value != value.to_integral_value():
        return None, f"its value {value} is not a whole number, which {fact.name} must be"
    return value, None


def number(value: Decimal) -> int | float:
    """A case value: a whole number as an int (150, not 150.000), otherwise a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def latest(readings: Sequence[Reading]) -> tuple[Decimal | None, str, tuple[str, ...]]:
    """The value of the latest reading with the resources it rests on, or why there is none. The
    latest are those no other reading is certainly later than; they must agree and be readable."""
    newest = [r for r in readings if not any(other.earliest > r.latest for other in readings)]
    refs = tuple(r.ref for r in newest)
    unreadable = [r for r in newest if r.value is None]
    if unreadable:
        return None, f"the latest result, {unreadable[0].ref}, cannot be read: {unreadable[0].problem}", refs
    values = {r.value for r in newest}
    if len(values) > 1:
        shown = ", ".join(f"{r.ref} ({r.value})" for r in newest)
        return None, f"the latest results cannot be told apart in time and differ: {shown}", refs
    return newest[0].value, "", refs
