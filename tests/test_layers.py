"""The package's layer order, as README's Layout states it, checked against its imports.

Every import of a ``matcher`` module (at the top of a file or inside a function) is read
from the source; a part may import only parts on a lower layer. Parts on one layer never
import each other: the API and the pages, for one, both stand on ``matcher.service`` and
only the composition root (``matcher.app``) sees both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "matcher"

#: Lowest first. A part is a module at the package root or a subpackage (with
#: ``rules.catalogue``, a leaf anyone may import, told apart from the rest of ``rules``).
LAYERS: list[set[str]] = [
    {"errors"},
    {"result", "provenance", "executor", "rules.catalogue"},
    {"model"},
    {"rules", "words"},
    {"ranking", "problem", "check", "counties"},
    {"formats"},
    {"objective", "greedy", "constraints"},
    {"explain", "search"},
    {"solver"},
    {"allocate"},
    {"scenario"},
    {"register", "bench", "render"},
    {"demo", "service"},
    {"api", "pages"},
    {"app"},
    {"serve"},
    {"cli"},
    {"__main__"},
]
LAYER = {part: n for n, parts in enumerate(LAYERS) for part in parts}


def part_of(module: str) -> str:
    """The part a dotted module name belongs to (``matcher`` itself is its own)."""
    names = module.split(".")[1:]
    if not names or (names[0].startswith("__") and names[0] != "__main__"):
        return "matcher"  # the package itself (its version): anyone may read it
    if names[:2] == ["rules", "catalogue"]:
        return "rules.catalogue"
    return names[0]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    names = list(relative.parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def imported(path: Path) -> set[str]:
    """Every ``matcher`` module the file imports, at any depth in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "matcher":
                found |= {f"matcher.{alias.name}" for alias in node.names}
            elif node.module.startswith("matcher."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("matcher.")}
    return found


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_every_part_has_a_layer() -> None:
    # A new module or subpackage at the root must be given its place in the order.
    parts = {part_of(module_name(path)) for path in sources()} - {"matcher"}
    assert parts - set(LAYER) == set(), "add the new part to LAYERS and README's Layout"


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_up_the_layer_order(path: Path) -> None:
    source = part_of(module_name(path))
    if source == "matcher":
        return  # the package's own __init__ imports nothing of its own
    upward = sorted(
        target
        for target in imported(path)
        if part_of(target) not in (source, "matcher") and LAYER[part_of(target)] >= LAYER[source]
    )
    assert upward == [], f"{source} (layer {LAYER[source]}) may not import {upward}"


def test_the_checker_reads_only_the_model_the_plain_rules_and_the_result() -> None:
    allowed = {"check", "model", "rules", "rules.catalogue", "result", "errors"}
    for path in (PACKAGE / "check").glob("*.py"):
        assert {part_of(m) for m in imported(path)} <= allowed, path.name


def test_the_check_finds_an_import_running_up(tmp_path: Path) -> None:
    # The reader itself: a function-level import of the solver from the model is seen.
    source = tmp_path / "model.py"
    source.write_text("def f():\n    from matcher.solver import solve_stages\n")
    assert imported(source) == {"matcher.solver"}
    assert LAYER[part_of("matcher.solver")] > LAYER["model"]
    assert part_of("matcher.rules.catalogue") == "rules.catalogue"
    assert part_of("matcher.rules.checks") == "rules"
