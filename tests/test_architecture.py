"""The architecture, enforced: a layer per folder, imports one way down (docs/architecture.md).

Every module's imports of avn_kb (at module level and inside functions) are read with `ast`; an
import of a higher layer, or between the peers validate and resolve, fails naming the importing
file, its line and the imported module. Also: no module over 300 lines, and the folders of
docs/architecture.md are the folders of the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "avn_kb"
MAX_LINES = 300

# Lowest first. A layer may import its own layer and those with a lower rank; validate and
# resolve share a rank but may not import each other.
RANK = {"util": 0, "model": 1, "lang": 2, "load": 3, "editorial": 4, "validate": 5, "resolve": 5,
        "output": 6, "cli": 7, "serve": 7}
TOP_LEVEL = {"__init__", "__main__"}  # the package itself: version, and `python -m avn_kb`


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name inside avn_kb (None for the package's top level)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in TOP_LEVEL:
        return None
    return parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every avn_kb module this file imports."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("avn_kb"):
            found.append((node.lineno, node.module))
            # `from avn_kb.lang import search` imports avn_kb.lang.search
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if (PACKAGE.parent / f"{node.module}.{alias.name}".replace(".", "/")).with_suffix(".py").exists()]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("avn_kb")]
    return found


def violations(path: Path) -> list[str]:
    own = layer_of(module_name(path))
    problems = []
    for line, imported in imports_of(path):
        target = layer_of(imported)
        if own is None or target is None or target == own:
            continue
        if target not in RANK or own not in RANK:
            problems.append(f"{path.relative_to(ROOT)}:{line}: {imported} is in no known layer")
        elif RANK[target] > RANK[own] or (RANK[target] == RANK[own]):
            problems.append(f"{path.relative_to(ROOT)}:{line}: layer {own} imports {imported} (layer {target}): "
                            "imports go one way, down (docs/architecture.md)")
    return problems


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_one_way_down(path: Path) -> None:
    assert violations(path) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by what its parts do"


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    # The test must be able to fail: a model module importing the resolver is reported.
    fake = PACKAGE / "model" / "_probe_upward.py"
    fake.write_text("from avn_kb.resolve.resolver import resolve\n", encoding="utf-8")
    try:
        assert violations(fake) == [
            "avn_kb/model/_probe_upward.py:1: layer model imports avn_kb.resolve.resolver (layer resolve): "
            "imports go one way, down (docs/architecture.md)"]
    finally:
        fake.unlink()


def test_validate_and_resolve_are_peers_that_do_not_import_each_other() -> None:
    assert RANK["validate"] == RANK["resolve"]
    probe = PACKAGE / "resolve" / "_probe_peer.py"
    probe.write_text("from avn_kb.validate.runner import validate\n", encoding="utf-8")
    try:
        assert len(violations(probe)) == 1
    finally:
        probe.unlink()


def test_architecture_doc_matches_the_tree() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`avn_kb/([a-z_]+)/`", doc))
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == documented
    assert set(RANK) >= folders


def test_every_module_is_named_in_its_layers_row() -> None:
    # A newcomer reads the table to find where things live: a module it does not name is lost.
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| [a-z]+ \| `avn_kb/([a-z_]+)/` \|.*$",
                                                      (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"),
                                                      re.MULTILINE)}
    missing = []
    for folder, row in rows.items():
        for path in sorted((PACKAGE / folder).iterdir()):
            name = path.stem if path.suffix == ".py" else f"{path.name}/"
            if name == "__init__" or path.name == "__pycache__" or (path.is_dir() and name == "checks/"):
                continue
            if path.suffix == ".py" or (path / "__init__.py").exists():
                if f"`{name}`" not in row:
                    missing.append(f"avn_kb/{folder}/{path.name}")
    assert not missing, f"not named in docs/architecture.md's table: {missing}"
