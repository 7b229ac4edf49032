"""The core's modules import one way: no two modules import each other (the plan and the
recurrence rules, the two message recorders), so each can be read, tested and replaced on its
own. A package and its own submodules (``store`` re-exporting ``store.database``) are one unit."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"


def imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in BOT.rglob("*.py"):
        name = ".".join(path.relative_to(BOT.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names}
        found[name] = {d for d in deps if d.startswith("bot.")}
    return found


def test_no_two_modules_import_each_other() -> None:
    graph = imports()
    both_ways = sorted(
        (a, b)
        for a, deps in graph.items()
        for b in deps
        if a < b and a in graph.get(b, ()) and not b.startswith(a + ".")
    )
    assert both_ways == []
    assert "bot.core.recurrence" not in graph["bot.core.plan"]
    assert "bot.core.edits" not in graph["bot.core.recorder"]
    assert "bot.core.recorder" not in graph["bot.core.edits"]


def test_run_states_are_named_in_one_module() -> None:
    """Every reader uses ``bot.core.run_states``: a state typed as a string elsewhere is how
    four different ideas of "open" came about."""
    from bot.core.run_states import RunState

    states = {s.value for s in RunState}
    typed: list[str] = []
    for path in BOT.rglob("*.py"):
        if path.name == "run_states.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in states:
                typed.append(f"{path.relative_to(BOT)}:{node.lineno} {node.value!r}")
    assert typed == []
