"""Imports point one way: web → services → (interchange, exports, filters, rules, auth) → models
and the database → plain helpers; ``similarity`` imports nothing of the registry.

A lower layer that imports a higher one makes the higher one impossible to change alone (and
invites import cycles): this test names every such import, with its file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("registry.__main__", "registry.factory", "registry.cli", "registry.web", "registry.jobs"),
    ("registry.services",),
    ("registry.interchange", "registry.exports", "registry.filters", "registry.rules", "registry.auth"),
    ("registry.models", "registry.db", "registry.bulk", "registry.search_index", "registry.migrate"),
    (
        "registry.choices",
        "registry.text",
        "registry.fields",
        "registry.errors",
        "registry.config",
        "registry.i18n",
        "registry.limits",
        "registry.jsonlimits",
        "registry.resources",
        "registry.logs",
    ),
)
"""From the top down; a module may import its own layer and the layers below it."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_of(module: str) -> int | None:
    for depth, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return depth
    return None


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (absolute names), with its line, including imports inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def wrong_way_imports(package: str) -> list[str]:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        importer = _module_name(path)
        own = _layer_of(importer)
        for line, imported in imports_of(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
            if importer.startswith("similarity") and imported.split(".")[0] == "registry":
                problems.append(f"{where}: similarity must not know the registry")
                continue
            target = _layer_of(imported)
            if own is not None and target is not None and target < own:
                problems.append(f"{where}: layer {own + 1} may not import layer {target + 1}")
    return list(dict.fromkeys(p for p in problems if not _reported_as_module(p, problems)))


def _reported_as_module(problem: str, problems: list[str]) -> bool:
    """``from a.b import c`` is one wrong import, not two: keep the module's line only."""
    where, _, rest = problem.partition(" imports ")
    imported = rest.split(":")[0]
    parent = imported.rsplit(".", 1)[0]
    return any(p.startswith(f"{where} imports {parent}:") for p in problems if p != problem)


@pytest.mark.parametrize("package", ["registry", "similarity"])
def test_imports_point_down_the_layers(package):
    assert wrong_way_imports(package) == []


def test_every_registry_module_belongs_to_a_layer():
    unplaced = [
        _module_name(path)
        for path in sorted((ROOT / "registry").rglob("*.py"))
        if _module_name(path) != "registry" and _layer_of(_module_name(path)) is None
    ]
    assert unplaced == []


def test_the_check_catches_an_import_that_goes_up(tmp_path, monkeypatch):
    """The checker itself: a model importing a service is reported with its file and line."""
    package = tmp_path / "registry" / "models"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("import os\n\nfrom registry.services.systems import create_system\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert wrong_way_imports("registry") == [
        "registry/models/bad.py:3 imports registry.services.systems: layer 4 may not import layer 2"
    ]
