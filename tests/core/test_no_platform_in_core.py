"""The core knows no platform: no module in bot/core/ names Slack or Discord, or holds their
markup (``<@U123>`` mentions, ``<https://x|label>`` links), outside comments and docstrings.
Each adapter turns its platform's markup and roles into neutral values before the core sees
them (plain text, ``User.roles``), so a new platform needs nothing here."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from bot.core.events import EVERY_CHAT_HOST, User
from tests.support import make_plan

CORE = Path(__file__).resolve().parents[2] / "bot" / "core"
MARKUP = re.compile(r"(?i)\bslack\b|\bdiscord\b|<@|<http")
# A platform's name anywhere in an identifier: ``slack_mode``, ``DiscordPort``, ``discord``.
NAMED = re.compile(r"(?i)slack|discord")
# Words that are English before they are platforms, each with why it stays.
ALLOWED = {
    # "slack" as in leeway: how far back a retry looks for a post that may have landed.
    ("delivery.py", "LANDED_SLACK"),
    ("engine.py", "LANDED_SLACK"),
}


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string nodes that are docstrings (of modules, classes, functions)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def identifiers(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.arg | ast.keyword) and node.arg:
        yield node.arg
    elif isinstance(node, ast.alias):
        yield from (node.name, node.asname or "")
    elif isinstance(node, ast.ImportFrom) and node.module:
        yield node.module


def platform_mentions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and id(node) not in skip and MARKUP.search(text):
            found.append(f"{where} {text!r}")
        for name in identifiers(node):
            if NAMED.search(name) and (path.name, name) not in ALLOWED:
                found.append(f"{where} {name}")
    return found


def test_no_core_module_names_a_platform_or_holds_its_markup() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 10
    found = [hit for path in modules for hit in platform_mentions(path)]
    assert found == [], "\n".join(found)


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan itself: code is caught, comments and docstrings are not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Slack and Discord, <@U1> in a docstring."""\n'
        "# a comment on <https://x|label>\n"
        "import discord\n"
        "MENTION = '<@U1>'\n"
        "def post(slack_mode: str) -> None:\n"
        '    """Discord again, in a docstring."""\n'
    )
    hits = platform_mentions(sample)
    assert sorted(h.split(" ", 1)[1] for h in hits) == ["'<@U1>'", "discord", "slack_mode"]


def test_roles_are_the_one_way_a_platform_says_who_hosts() -> None:
    chat = make_plan().chats[0]  # hosted by kate
    assert chat.hosted_by(User("u1", "kate"))
    assert not chat.hosted_by(User("u2", "bob", roles=frozenset({"Tea Hosts"})))
    assert chat.hosted_by(User("u3", "bob", roles=frozenset({EVERY_CHAT_HOST})))
    # Roles given as any iterable are kept as a set, so equal users compare and hash equal.
    assert User("u4", "x", roles=("a", "b")) == User("u4", "x", roles=frozenset({"b", "a"}))
