"""The slash commands and message shortcuts of ``config/slack-manifest.yaml``, generated
from the core's command table, so that the app Slack installs offers exactly the commands
chathost answers.

``python -m bot.adapters.slack.manifest`` (``make manifest``) rewrites the file's
``shortcuts`` and ``slash_commands`` blocks in place and keeps the rest of it, comments
included: the file is meant to be read and pasted by people.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from bot.adapters.slack.commands import shortcut_id
from bot.core.commands import COMMANDS, CommandSpec, Who

MANIFEST = Path(__file__).resolve().parents[3] / "config" / "slack-manifest.yaml"
# A block ends at the next key at the top level or under ``features``.
_BLOCK_END = re.compile(r"^(?:\S|  \S)", re.MULTILINE)

Entry = dict[str, str | bool]


class ManifestError(ValueError):
    """The manifest lacks a block under ``features`` that is to be rewritten."""


def shortcut(spec: CommandSpec) -> Entry:
    """A command's message menu entry as the manifest declares it."""
    return {
        "name": spec.menu,
        "type": "message",
        "callback_id": shortcut_id(spec),
        "description": _who_first(spec),
    }


def slash_command(spec: CommandSpec) -> Entry:
    """One command as the manifest declares it (Slack's own field names)."""
    entry: Entry = {
        "command": f"/{spec.name}",
        "description": _who_first(spec),
    }
    if spec.args:
        entry["usage_hint"] = spec.usage.partition(" ")[2]
    entry["should_escape"] = False
    return entry


def _who_first(spec: CommandSpec) -> str:
    """Slack lists a command's description under its name: "Hosts: ..." says first who may."""
    if spec.who is not Who.HOSTS:
        return spec.help
    return f"Hosts: {spec.help[0].lower()}{spec.help[1:]}"


def block(key: str, entries: list[Entry]) -> str:
    """A list under ``features`` as YAML, each string double-quoted (JSON's quoting is valid
    YAML), in the table's order."""
    lines = [f"  {key}:\n"]
    for entry in entries:
        for index, (field, value) in enumerate(entry.items()):
            lead = "    - " if index == 0 else "      "
            lines.append(f"{lead}{field}: {json.dumps(value)}\n")
    return "".join(lines)


def with_commands(manifest: str) -> str:
    """``manifest`` with its shortcuts and slash commands replaced by the table's."""
    shortcuts = [shortcut(spec) for spec in COMMANDS if spec.menu]
    manifest = _replace(manifest, "shortcuts", shortcuts)
    return _replace(manifest, "slash_commands", [slash_command(spec) for spec in COMMANDS])


def _replace(manifest: str, key: str, entries: list[Entry]) -> str:
    start = manifest.find(f"\n  {key}:\n")
    if start < 0:
        raise ManifestError(f"no `  {key}:` under `features:` in the manifest")
    start += 1
    end = _BLOCK_END.search(manifest, manifest.index("\n", start) + 1)
    stop = end.start() if end else len(manifest)
    return manifest[:start] + block(key, entries) + manifest[stop:]


def main(path: Path = MANIFEST) -> int:
    """Rewrite the manifest on disk; say whether it changed."""
    old = path.read_text()
    new = with_commands(old)
    if new != old:
        path.write_text(new)
    print(f"{path}: {'updated' if new != old else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
