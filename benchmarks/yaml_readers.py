"""The YAML parsers that benchmarks/yaml_suite.py measures, each as a reader: text in, the list of
its documents out, an exception when it refuses the text. A parser that is not installed is
left out (its factory returns None); only the project's loader and PyYAML are dependencies.

Parsers whose one-call API returns a single value for one document and a list for several
(yaml-rs, fast-yaml) are read as one document here; benchmarks.yaml_suite accepts that list as
the documents where the reference has several (`several_documents`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

Reader = Callable[[str], list[Any]]


def _project(fast: bool) -> Callable[[], Reader]:
    def make() -> Reader:
        from avn_kb.load.safe_yaml import load_yaml

        def read(text: str) -> list[Any]:
            doc = load_yaml("suite.yaml", text.encode("utf-8"), fast=fast)
            errors = [finding for finding in doc.findings if finding.severity == "error"]
            if not doc.ok or errors:
                raise ValueError(errors[0].message if errors else "not loaded")
            return [doc.value]
        return read
    return make


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _pyyaml(c_loader: bool) -> Callable[[], Reader | None]:
    def make() -> Reader | None:
        yaml = _module("yaml")
        loader = getattr(yaml, "CSafeLoader" if c_loader else "SafeLoader", None) if yaml else None
        if loader is None:
            return None
        return lambda text: list(yaml.load_all(text, Loader=loader))
    return make


def _ruamel() -> Reader | None:
    main = _module("ruamel.yaml")
    if main is None:
        return None
    return lambda text: list(main.YAML(typ="safe", pure=True).load_all(text))


def _yaml_rs() -> Reader | None:
    yaml_rs = _module("yaml_rs")
    if yaml_rs is None:
        return None
    return lambda text: [yaml_rs.loads(text, parse_datetime=False)]


def _yaml12() -> Reader | None:
    yaml12 = _module("yaml12")
    if yaml12 is None:
        return None
    return lambda text: list(yaml12.parse_yaml(text, multi=True))


def _fast_yaml() -> Reader | None:
    fast_yaml = _module("fast_yaml")
    if fast_yaml is None or not hasattr(fast_yaml, "safe_load_all"):
        return None
    return lambda text: list(fast_yaml.safe_load_all(text))


def _oryaml() -> Reader | None:
    oryaml = _module("oryaml")
    if oryaml is None:
        return None
    return lambda text: [oryaml.loads(text)]


READERS: dict[str, Callable[[], Reader | None]] = {
    "avn-kb load_yaml": _project(fast=True),
    "avn-kb event path only": _project(fast=False),
    "PyYAML CSafeLoader (libyaml)": _pyyaml(c_loader=True),
    "PyYAML SafeLoader (Python)": _pyyaml(c_loader=False),
    "ruamel.yaml safe, pure": _ruamel,
    "yaml-rs": _yaml_rs,
    "py-yaml12 (yaml12)": _yaml12,
    "fastyaml-rs (fast_yaml)": _fast_yaml,
    "oryaml": _oryaml,
}
