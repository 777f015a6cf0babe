"""The closed vocabularies of the domain, as literal types: mypy then rejects a misspelt
severity, outcome, fact type, operator or action kind wherever one is written."""

from __future__ import annotations

from typing import Literal

Severity = Literal["error", "warning", "info"]
Outcome = Literal["applies", "overridden", "undecided", "not-applicable", "excluded"]
FactType = Literal["enum", "set", "number", "boolean"]
Operator = Literal["in", "not_in", "has", "lacks", "range"]
ActionKind = Literal["do", "consider", "avoid"]
ExclusionKind = Literal["not-yet-in-force", "ended", "superseded", "status"]
