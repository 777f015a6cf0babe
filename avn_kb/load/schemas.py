"""The JSON Schemas of schema/ (shipped inside the package as avn_kb.schema), and schema errors
turned into findings that name the line and say what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from avn_kb.model.findings import Finding, issue

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

KINDS = ("common", "manifest", "vocabulary", "references", "recommendations", "cases", "case",
         "findings", "query-result", "query-result-compact", "batch-line")


def schema_text(kind: str) -> str:
    """The raw JSON text of one schema: from the source tree's schema/ when running from a checkout
    (or an editable install), else from the copy a wheel ships as the avn_kb.schema package."""
    name = f"{kind}.schema.json"
    package = Path(__file__).resolve().parent.parent  # avn_kb/, above avn_kb/load/
    # A checkout has schema/ beside the package, a wheel installed as files has it inside: read
    # either directly, since importlib.resources (tempfile, shutil, zipfile...) costs about 10 ms
    # of every start-up, and validation runs in pre-commit on every commit.
    for candidate in (package.parent / "schema" / name, package / "schema" / name):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    from importlib import resources  # a package that is not plain files, such as a zip

    return resources.files("avn_kb.schema").joinpath(name).read_text(encoding="utf-8")


@cache
def schema(kind: str) -> dict[str, Any]:
    """One schema as a mapping (read once per process: schemas are constant)."""
    loaded: dict[str, Any] = json.loads(schema_text(kind))
    return loaded


@cache
def validator(kind: str) -> Draft202012Validator:
    """The reference validator for one document kind (Python jsonschema, with format checking and
    cross-schema refs): used to explain what is wrong, and as the fallback checker."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry = Registry()
    for other in KINDS:
        body = schema(other)
        registry = registry.with_resource(body["$id"], Resource.from_contents(body))
    return Draft202012Validator(schema(kind), registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def _fast_validator(kind: str) -> Any:
    """jsonschema-rs, when installed: about 500 times faster on valid documents (the usual case;
    docs/performance.md). It only says yes or no; errors are explained by `validator`."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(schema(kind), registry=_fast_registry(), validate_formats=True)


@cache
def _fast_registry() -> Any:
    """Every schema for jsonschema-rs to resolve cross-schema refs in: built once and shared by
    the validators of all kinds (each kind building its own cost a registry per kind)."""
    import jsonschema_rs

    return jsonschema_rs.Registry([(schema(k)["$id"], schema(k)) for k in KINDS])


def schema_findings(kind: str, path: str, value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[Finding]:
    """Schema violations of `value` as AVN111 findings; `prefix` is where `value` sits in its file."""
    fast = _fast_validator(kind)
    if fast is not None and fast.is_valid(value):
        return
    for error in validator(kind).iter_errors(value):
        error = _most_specific(error)
        described = _describe(error)
        yield issue("AVN111", path, prefix + described.pointer, described.message, at_key=described.at_key)


def _most_specific(error: ValidationError) -> ValidationError:
    # oneOf/anyOf errors say only "not valid under any of the given schemas". Given the error
    # itself, best_match descends into the branches and takes the deepest sub-error, then one
    # whose schema fits the value's type: the branch that got furthest into the value is the one
    # the editor meant ([.nan, 3] is a range with a bad item, not a list where a number belongs).
    # When branches tie (a list where a term or a mapping is expected), it keeps the oneOf error.
    # Given error.context instead, it would take the shallowest: the wrong branch.
    from jsonschema.exceptions import best_match

    return best_match([error]) or error


def _where(path: Any) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path)]
    return "".join(parts) or "document"


class Described(NamedTuple):
    """A schema error as a finding: its pointer, its message, and whether it sits on the key the
    pointer ends with (an unknown or badly named key) rather than on the value."""

    pointer: tuple[Any, ...]
    message: str
    at_key: bool = False


def _describe(error: ValidationError) -> Described:
    """Where the finding should sit, and a message that says what to do."""
    pointer = tuple(error.absolute_path)
    where = _where(pointer)
    kind, detail, instance = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in detail if isinstance(instance, dict) and name not in instance]
        return Described(pointer, f"{where}: missing required field {', '.join(repr(m) for m in missing)}: add it")
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in allowed)
        if extra and not error.schema.get("patternProperties"):
            hint = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
            return Described(pointer + (extra[0],), f"{where}: unknown field {extra[0]!r}{hint}: remove or rename it",
                             at_key=True)
        return Described(pointer + (extra[0],) if extra else pointer, f"{where}: {error.message}")
    if kind == "type":
        names = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
                 "integer": "a whole number", "boolean": "true or false", "null": "nothing"}
        wanted = [detail] if isinstance(detail, str) else list(detail)
        expected = " or ".join(names.get(w, w) for w in wanted)
        hint = ""
        if "string" in wanted and isinstance(instance, (int, float, bool)):
            hint = f"; quote it (\"{_as_written(instance)}\")"
        shown = _as_written(instance) if not isinstance(instance, (list, dict)) else "this"
        kind = names.get(_json_type(instance), _json_type(instance))
        return Described(pointer, f"{where}: {shown} is {kind}, expected {expected}{hint}")
    if "propertyNames" in error.absolute_schema_path:
        # The error path stops at the mapping; the finding belongs on the offending key.
        name = instance if isinstance(instance, str) else None
        if name is not None:
            odd = _odd_characters(name)
            why = f"contains {odd}: retype it in plain ASCII" if odd else "is not in the expected form: rename it"
            return Described(pointer + (name,), f"{where}: key {name!r} {why}", at_key=True)
    if kind == "pattern" and isinstance(instance, str) and _odd_characters(instance):
        odd = _odd_characters(instance)
        return Described(pointer, f"{where}: {instance!r} contains {odd}: retype it in plain ASCII")
    if kind == "pattern":
        described = error.schema.get("description")
        hint = f" ({described})" if described else ""
        return Described(pointer, f"{where}: {instance!r} is not in the expected form{hint}: fix it")
    if kind == "format":
        return Described(pointer, f"{where}: {instance!r} is not a valid {detail} (YYYY-MM-DD, a real calendar date)")
    if kind == "enum":
        options = ", ".join(str(o) for o in detail)
        return Described(pointer, f"{where}: {instance!r} is not one of: {options}")
    return Described(pointer, f"{where}: {error.message}")


def _odd_characters(text: str) -> str:
    """Names the characters an editor cannot see or tell apart, if any."""
    if text != text.strip():
        return "leading or trailing spaces"
    odd = [ch for ch in text if not ch.isascii() or not ch.isprintable()]
    if not odd:
        return ""
    return "the character(s) " + ", ".join(f"U+{ord(ch):04X}" for ch in dict.fromkeys(odd)) + \
        " (invisible or look-alike)"


def _as_written(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


__all__ = ["schema", "schema_text", "validator", "schema_findings"]
