"""What actions mean to each other: when two cannot both be followed, and how to say one in words."""

from __future__ import annotations

from avn_kb.model.knowledge import Action


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
            return f"{name} {span(lo_a, hi_a)} against {span(lo_b, hi_b)}"
    if a.level is not None and b.level is not None and a.level != b.level:
        return f"level {a.level} against {b.level}"
    return None


def dose_differences(a: Action, b: Action) -> tuple[str, ...]:
    """The dose parameters (sorted) that both actions set, to ranges that differ but overlap: two
    doses for one patient that do not contradict, since some dose satisfies both, yet do not
    agree (`intensity_pct_1rm` [40, 60] and [60, 80]). Ranges that do not overlap are a
    contradiction instead (see `contradiction`). Actions on different targets share no parameter."""
    if a.target != b.target:
        return ()
    return tuple(name for name in sorted(set(a.dose) & set(b.dose))
                 if a.dose[name] != b.dose[name] and _overlap(a.dose[name], b.dose[name]))


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def span(low: float, high: float, dash: str = "-") -> str:
    """`40-60` (or with another dash, an en dash for typeset pages), or `3` for a single value."""
    return f"{low:g}" if low == high else f"{low:g}{dash}{high:g}"


def describe(action: Action) -> str:
    """`do resistive-training (intensity_pct_1rm 40-60, sets 1-3)` and the like."""
    details = [f"{name} {span(*rng)}" for name, rng in sorted(action.dose.items())]
    if action.level:
        details.insert(0, f"level {action.level}")
    if action.exercises:
        details.append("exercises " + ", ".join(action.exercises))
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"{action.kind} {action.target}{suffix}"
