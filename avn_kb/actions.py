"""What actions mean to each other: when two cannot both be followed, and how to say one in words."""

from __future__ import annotations

from avn_kb.model import Action


def contradiction(a: Action, b: Action) -> str | None:
    """Why two actions on the same target cannot both be followed, or None when they can."""
    if a.target != b.target:
        return None
    if a.stance != b.stance:
        return f"{a.kind} against {b.kind}"
    if a.stance == "against":
        return None
    for name in sorted(set(a.dose) & set(b.dose)):
        (lo_a, hi_a), (lo_b, hi_b) = a.dose[name], b.dose[name]
        if hi_a < lo_b or hi_b < lo_a:
            return f"{name} {_span(lo_a, hi_a)} against {_span(lo_b, hi_b)}"
    if a.level is not None and b.level is not None and a.level != b.level:
        return f"level {a.level} against {b.level}"
    return None


def _span(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def describe(action: Action) -> str:
    """`do resistive-training (intensity_pct_1rm 40-60, sets 1-3)` and the like."""
    details = [f"{name} {_span(*rng)}" for name, rng in sorted(action.dose.items())]
    if action.level:
        details.insert(0, f"level {action.level}")
    if action.exercises:
        details.append("exercises " + ", ".join(action.exercises))
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"{action.kind} {action.target}{suffix}"
